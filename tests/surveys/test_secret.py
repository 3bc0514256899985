"""The survey's server secret: set, derived, or refused when too short to be one."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "signing-secret-one"}


def test_the_secret_is_the_setting_or_derived_from_the_signing_secret() -> None:
    given = load_settings({**ENV, "POSTMORTEM_SECRET_KEY": "k" * 32})
    assert given.survey_secret() == b"k" * 32
    derived = load_settings(ENV).survey_secret()
    assert derived not in (b"signing-secret-one", b"") and len(derived) == 32
    other = load_settings({**ENV, "SLACK_SIGNING_SECRET": "signing-secret-two"})
    assert other.survey_secret() != derived
    assert "k" * 32 not in repr(given)


def test_a_short_secret_stops_start_up_with_its_name() -> None:
    with pytest.raises(ConfigError, match="POSTMORTEM_SECRET_KEY must be at least 16"):
        load_settings({**ENV, "POSTMORTEM_SECRET_KEY": "short"})

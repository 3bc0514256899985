"""The end-to-end fixtures (`slack`, `bot`, `bot_with`) and the webhook's settings."""

from __future__ import annotations

import pytest
from e2e.conftest import (  # noqa: F401 - fixtures shared with the end-to-end tests
    _no_failed_slack_calls,
    bot,
    bot_with,
    slack,
)
from helpers.ticket_hooks import TOKEN


@pytest.fixture(autouse=True)
def _webhook_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTMORTEM_WEBHOOK_TOKEN", TOKEN)
    monkeypatch.setenv("POSTMORTEM_SUPPORT_CHANNEL", "C0REVIEWS")
    monkeypatch.delenv("POSTMORTEM_SUPPORT_STALE_DAYS", raising=False)

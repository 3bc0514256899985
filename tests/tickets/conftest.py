"""The end-to-end fixtures (`slack`, `bot`, `bot_with`), with the webhook's settings."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e.conftest import (  # noqa: F401 - fixtures shared with the end-to-end tests
    _no_failed_slack_calls,
    bot_with,
    slack,
)
from helpers.ticket_hooks import TOKEN
from sqlalchemy import Engine

from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot

WEBHOOK_ENV = {"POSTMORTEM_WEBHOOK_TOKEN": TOKEN, "POSTMORTEM_SUPPORT_CHANNEL": "C0REVIEWS"}


@pytest.fixture
def bot(slack: FakeSlack, engine: Engine, bot_with: Callable[..., Bot]) -> Bot:  # noqa: F811
    return bot_with(slack, engine, **WEBHOOK_ENV)

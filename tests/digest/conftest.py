"""Fixtures for the digest tests: a seeded period, a fake Slack, the CLI's environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from digest.seed import CHANNEL, Seeder, seed_busy
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from sandbox.fake_slack import FakeSlack


@pytest.fixture
def busy(session: Session) -> Session:
    seed_busy(session)
    return session


@pytest.fixture
def seeder(session: Session) -> Iterator[Callable[[], Seeder]]:
    yield lambda: Seeder(session)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def db_env(engine: Engine, slack: FakeSlack) -> dict[str, str]:
    """The environment `postmortem-bot digest` runs with: the fake Slack and the test DB."""
    return {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "POSTMORTEM_DIGEST_CHANNEL": CHANNEL,
        "POSTMORTEM_FIRST_MEETING": "2026-11-18",
        "POSTMORTEM_MEETING_EVERY_WEEKS": "2",
        "POSTMORTEM_MEETING_TIME": "10:00",
        "POSTMORTEM_TIMEZONE": "Australia/Sydney",
    }

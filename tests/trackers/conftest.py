"""Fixtures: each tracker's fake, started on 127.0.0.1, and the adapter pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from trackers.fakes.clickup import FakeClickUp
from trackers.fakes.github import FakeGitHub
from trackers.fakes.jira import FakeJira, FakeJiraDataCenter
from trackers.fakes.linear import FakeLinear
from trackers.fakes.server import FakeTracker

from bot.config import load_settings
from bot.trackers import adapters
from bot.trackers.base import Tracker
from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot, start_bot

FAKES: dict[str, type[FakeTracker]] = {
    "clickup": FakeClickUp,
    "jira": FakeJira,
    "jira-dc": FakeJiraDataCenter,  # Data Center / Server: REST v2, Bearer personal access token
    "linear": FakeLinear,
    "github": FakeGitHub,
}
BASE = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


@pytest.fixture(params=sorted(FAKES))
def fake(request: pytest.FixtureRequest) -> Iterator[FakeTracker]:
    server = FAKES[request.param]().start()
    yield server
    server.stop()


def adapter_for(fake: FakeTracker, **env: str) -> Tracker:
    settings = load_settings({**BASE, **fake.env(), **env})  # type: ignore[attr-defined]
    assert settings.tracker is not None
    return adapters.make(settings.tracker, settings.timezone)


@pytest.fixture
def adapter(fake: FakeTracker) -> Tracker:
    return adapter_for(fake)


# --- the bot against the fake Slack (as in tests/e2e/conftest.py) ---------------------------


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def bot_with() -> Iterator[Callable[..., Bot]]:
    """Start the bot with extra settings: `bot_with(slack, engine, POSTMORTEM_TRACKER=...)`."""
    stops: list[Callable[[], None]] = []

    def make(slack: FakeSlack, engine: Engine, **env: str) -> Bot:
        running, stop = start_bot(slack, engine, **env)
        stops.append(stop)
        return running

    yield make
    for stop in stops:
        stop()


@pytest.fixture(autouse=True)
def _no_failed_slack_calls(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every Slack call these tests make must succeed."""
    yield
    slack = request.node.funcargs.get("slack")
    if slack is not None:
        failed = [(c.method, c.error) for c in slack.calls if not c.ok]
        assert failed == [], failed

"""End-to-end: the real Bolt app over HTTP, talking to the fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot, start_bot  # package code, shared with the sandbox

ALICE, BOB, ADMIN, CHANNEL = "U0ALICE", "U0BOB", "U0ADMIN", "C0REVIEWS"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def bot_with() -> Iterator[Callable[..., Bot]]:
    """Start the bot with extra settings: `bot_with(slack, engine, POSTMORTEM_X="...")`."""
    stops: list[Callable[[], None]] = []

    def make(slack: FakeSlack, engine: Engine, **env: str) -> Bot:
        running, stop = start_bot(slack, engine, **env)
        stops.append(stop)
        return running

    yield make
    for stop in stops:
        stop()


@pytest.fixture
def bot(slack: FakeSlack, engine: Engine, bot_with: Callable[..., Bot]) -> Bot:
    return bot_with(slack, engine)


@pytest.fixture(autouse=True)
def _no_failed_slack_calls(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every Slack call an end-to-end test makes must succeed unless the test clears it."""
    yield
    slack = request.node.funcargs.get("slack")
    if slack is not None:
        failed = [(c.method, c.error) for c in slack.calls if not c.ok]
        # A reply through a response_url that Slack refused shows the person nothing at all.
        failed += [
            ("response_url", p["error"], p["problems"]) for p in slack.response_posts if p["error"]
        ]
        assert failed == [], failed

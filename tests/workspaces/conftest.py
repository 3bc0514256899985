"""Two (or more) workspaces installed through Slack's OAuth flow, on the fake Slack."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from helpers.oauth import CHANNEL_TWO, CLIENT_ID, CLIENT_SECRET, DANA, ONE, TWO, base
from sqlalchemy import Engine

from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot, start_bot


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack(team_id=ONE).start()
    fake.add_workspace(TWO, "Second Brand")
    with fake.in_team(TWO):
        fake.add_user(DANA, "dana", "Dana Lee", email="dana@example.com")
        fake.add_channel(CHANNEL_TWO, "reviews-two")
    yield fake
    fake.stop()


@pytest.fixture
def oauth_bot(slack: FakeSlack, engine: Engine) -> Iterator[Callable[..., Bot]]:
    stops: list[Callable[[], None]] = []

    def make(**env: str) -> Bot:
        running, stop = start_bot(
            slack,
            engine,
            SLACK_CLIENT_ID=CLIENT_ID,
            SLACK_CLIENT_SECRET=CLIENT_SECRET,
            SLACK_AUTHORIZE_URL=slack.base_url + "/oauth/v2/authorize",
            **env,
        )
        stops.append(stop)
        slack.register_app(CLIENT_ID, CLIENT_SECRET, (base(running) + "/slack/oauth_redirect",))
        return running

    yield make
    for stop in stops:
        stop()

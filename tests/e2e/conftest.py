"""End-to-end: the real Bolt app over HTTP, talking to the fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from sqlalchemy import Engine

from bot.app import create_app
from bot.config import load_settings
from bot.fake_slack import FakeSlack
from bot.runtime import Runtime, build_runtime
from bot.server import wsgi_app

ALICE, BOB, ADMIN, CHANNEL = "U0ALICE", "U0BOB", "U0ADMIN", "C0REVIEWS"


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Bot:
    rt: Runtime
    url: str


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def start_bot(slack: FakeSlack, engine: Engine, **env: str) -> tuple[Bot, Callable[[], None]]:
    settings = load_settings({
        "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url, "DATABASE_URL": str(engine.url.render_as_string(
            hide_password=False)), **env})
    rt = build_runtime(settings, engine)
    server = make_server("127.0.0.1", 0, wsgi_app(create_app(rt), engine),
                         server_class=_ThreadingServer, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/slack/events"
    slack.request_url = url

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return Bot(rt, url), stop


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
        assert failed == [], failed

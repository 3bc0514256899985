"""Background work in `serve` gives way to the Slack requests the process is answering
(bot/slack/pacing.py `Foreground`): eight people submitting forms at once were kept waiting
while the delivery worker rendered status messages in the same interpreter. Waiting is bounded:
a stream of requests slows background work but never stops it."""

from __future__ import annotations

import hmac
import io
import threading
import time
from collections.abc import Iterator
from typing import Any
from unittest.mock import MagicMock
from wsgiref.util import setup_testing_defaults

import pytest
from slack_bolt import BoltResponse
from sqlalchemy import Engine

from bot.config import load_settings
from bot.delivery.service import deliver_due
from bot.features import ReviewHooks
from bot.runtime import Runtime, build_runtime
from bot.server import wsgi_app
from bot.slack import pacing
from bot.slack.pacing import Foreground, PacedSender
from sandbox.fake_slack import FakeSlack
from storage import outbox
from storage.db import transaction


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def runtime(engine: Engine, slack: FakeSlack) -> Runtime:
    settings = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
    }
    return build_runtime(load_settings(settings), engine)


def in_thread(work: Any) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_with_nothing_in_flight_background_work_goes_on_at_once() -> None:
    assert Foreground().give_way(most=5) == 0.0


def test_background_work_waits_for_the_request_in_flight_to_be_answered() -> None:
    foreground, answered, resumed = Foreground(), threading.Event(), threading.Event()

    def request() -> None:
        with foreground.serving():
            answered.wait(10)

    def background() -> None:
        foreground.give_way(most=10)
        resumed.set()

    in_thread(request)
    while not foreground.busy:
        time.sleep(0.001)
    in_thread(background)
    assert not resumed.wait(0.3)  # the request is still being answered
    answered.set()
    assert resumed.wait(2)
    assert foreground.busy == 0


def test_waiting_is_bounded_so_a_stream_of_requests_never_stops_it() -> None:
    foreground = Foreground()
    with foreground.serving():
        waited = foreground.give_way(most=0.2)
    assert 0.15 <= waited < 2


def test_a_bulk_sender_hands_slack_s_answer_back_only_once_the_requests_are_answered() -> None:
    foreground = Foreground()
    slack = MagicMock()
    slack.chat_postMessage.return_value = {"ok": True, "ts": "1.000100"}
    sender = PacedSender(slack, foreground=foreground)
    got: list[Any] = []
    with foreground.serving():
        thread = in_thread(
            lambda: got.append(sender.client.chat_postMessage(channel="C1", text="hi"))
        )
        time.sleep(0.3 if pacing.GIVE_WAY > 0.3 else pacing.GIVE_WAY / 2)
        assert slack.chat_postMessage.called and not got  # sent; the caller not yet resumed
    thread.join(2)
    assert got == [{"ok": True, "ts": "1.000100"}]


def test_the_delivery_worker_waits_for_the_request_in_flight(
    engine: Engine, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pacing, "GIVE_WAY", 10.0)  # only the request's end lets it go on
    rt = runtime(engine, slack)
    with transaction(rt.sessions) as session:
        outbox.enqueue(session, "test.effect", {"n": 1})
    delivered = threading.Event()
    handlers = {"test.effect": lambda _rt, _effect: delivered.set()}
    with rt.sender.foreground.serving():
        worker = in_thread(lambda: deliver_due(rt, handlers))
        assert not delivered.wait(0.5)
    assert delivered.wait(5)
    worker.join(5)


def test_serve_counts_each_request_while_it_is_answered(engine: Engine, slack: FakeSlack) -> None:
    rt = runtime(engine, slack)
    seen: list[int] = []

    class Answering:  # stands in for the Bolt app: what the process counts while it answers
        def dispatch(self, _request: Any) -> BoltResponse:
            seen.append(rt.sender.foreground.busy)
            return BoltResponse(status=200, body="")

    body = b'{"type": "url_verification", "challenge": "c4"}'
    stamp = str(int(time.time()))
    signature = hmac.new(slack.signing_secret.encode(), f"v0:{stamp}:".encode() + body, "sha256")
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.update(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/slack/events",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "HTTP_X_SLACK_REQUEST_TIMESTAMP": stamp,
            "HTTP_X_SLACK_SIGNATURE": "v0=" + signature.hexdigest(),
        }
    )
    status: list[str] = []
    app = wsgi_app(Answering(), rt, ReviewHooks())
    b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
    assert status == ["200 OK"]
    assert seen == [1] and rt.sender.foreground.busy == 0

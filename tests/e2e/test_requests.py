"""Bad requests to `/slack/events` and `/hooks/`: a 4xx, one log line, never a traceback.

These call the WSGI application `serve` runs (bot.server.wsgi_app), in process, with the bytes
and headers a client can send; tests/e2e/test_serve.py covers the same app under gunicorn.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from sqlalchemy import Engine

from bot.app import create_app, review_hooks
from bot.config import load_settings
from bot.runtime import build_runtime
from bot.server import SLACK_MAX_BODY, WSGIApp, wsgi_app
from sandbox.fake_slack import FakeSlack
from storage import db


def make_app(slack: FakeSlack, engine: Engine) -> WSGIApp:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
        }
    )
    rt = build_runtime(settings, engine)
    application = wsgi_app(create_app(rt), rt, review_hooks())
    slack.reset_calls()  # Bolt's auth.test at start-up
    return application


@pytest.fixture
def app(slack: FakeSlack, tmp_path: Path) -> Iterator[WSGIApp]:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    db.upgrade(engine)
    yield make_app(slack, engine)
    engine.dispose()


class Stream(io.BytesIO):
    """wsgi.input that remembers how much was read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        part = super().read(size)
        self.read_bytes += len(part)
        return part


def call(
    app: WSGIApp,
    body: bytes,
    *,
    secret: str | None,
    timestamp: str | None = None,
    content_type: str = "application/x-www-form-urlencoded",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], Stream]:
    """POST /slack/events; signed with `secret` like Slack does, unsigned when it is None."""
    stamp = timestamp or str(int(time.time()))
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    stream = Stream(body)
    environ.update(
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/slack/events",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": stream,
            "HTTP_X_SLACK_REQUEST_TIMESTAMP": stamp,
        }
    )
    if secret is not None:
        digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
        environ["HTTP_X_SLACK_SIGNATURE"] = "v0=" + digest.hexdigest()
    environ.update(headers or {})
    status: list[str] = []
    answer = b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
    return int(status[0].split()[0]), json.loads(answer or b"{}"), stream


def payload(data: Any) -> bytes:
    return b"payload=" + json.dumps(data).replace(" ", "").encode()


SIGNED_BUT_NOT_SLACK = {
    "truncated JSON": (b'{"not": "slack"', "application/json"),
    "payload not JSON": (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
    "JSON array": (b"[1, 2]", "application/json"),
    "payload a number": (b"payload=1", "application/x-www-form-urlencoded"),
    "event not an object": (
        json.dumps({"type": "event_callback", "team_id": "T0TEST", "event": "x"}).encode(),
        "application/json",
    ),
    "actions not a list": (
        payload({"type": "block_actions", "user": {"id": "U0ALICE"}, "actions": "x"}),
        "application/x-www-form-urlencoded",
    ),
    "view not an object": (
        payload({"type": "view_submission", "user": {"id": "U0ALICE"}, "view": "x"}),
        "application/x-www-form-urlencoded",
    ),
    "event user a number": (
        json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0TEST",
                "event": {"type": "app_home_opened", "user": 5},
            }
        ).encode(),
        "application/json",
    ),
}


def assert_quiet(caplog: pytest.LogCaptureFixture, slack: FakeSlack) -> None:
    """One short log line, no traceback, and no listener ran (it would have called Slack)."""
    assert not [r for r in caplog.records if r.exc_info], caplog.text
    assert "Traceback" not in caplog.text
    assert all(len(r.getMessage()) < 200 for r in caplog.records)
    assert slack.calls == []


@pytest.mark.parametrize("case", SIGNED_BUT_NOT_SLACK)
def test_a_signed_body_that_is_not_a_slack_payload_is_a_400(
    case: str, app: WSGIApp, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    body, content_type = SIGNED_BUT_NOT_SLACK[case]
    caplog.set_level(logging.INFO)
    status, answer, _ = call(app, body, secret=slack.signing_secret, content_type=content_type)
    assert (status, answer) == (400, {"error": "not a Slack payload"})
    assert_quiet(caplog, slack)


def test_a_timestamp_that_is_not_a_number_is_a_401(
    app: WSGIApp, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for secret in (slack.signing_secret, None):
        status, answer, _ = call(
            app, b"command=%2Fpostmortem&text=help", secret=secret, timestamp="abc"
        )
        assert (status, answer) == (401, {"error": "invalid request"})
    assert_quiet(caplog, slack)


def test_bytes_that_are_not_utf8(
    app: WSGIApp, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert call(app, b"\xff\xfe\xfa", secret=None)[:2] == (401, {"error": "invalid request"})
    assert call(app, b"\xff\xfe\xfa", secret=slack.signing_secret)[:2] == (
        400,
        {"error": "the body is not UTF-8"},
    )
    assert_quiet(caplog, slack)


def test_an_unsigned_body_is_never_logged(
    app: WSGIApp, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = b"text=" + b"x" * 200_000
    assert call(app, body, secret=None)[0] == 401
    assert call(app, body, secret="not-the-secret")[0] == 401
    assert "xxxxxxxx" not in caplog.text
    assert_quiet(caplog, slack)


def test_a_body_over_the_limit_is_refused_unread(
    app: WSGIApp, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = b"payload=" + b"x" * (5 * 1024 * 1024)
    for secret in (None, slack.signing_secret):
        status, answer, stream = call(app, body, secret=secret)
        assert (status, answer) == (413, {"error": "the body is over 1024 KiB"})
        assert stream.read_bytes == 0
    assert SLACK_MAX_BODY == 1024 * 1024
    assert "xxxxxxxx" not in caplog.text
    assert_quiet(caplog, slack)


def test_a_content_length_that_is_not_a_number(
    app: WSGIApp, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    status, answer, _ = call(
        app, b"text=x", secret=slack.signing_secret, headers={"CONTENT_LENGTH": "abc"}
    )
    assert (status, answer) == (400, {"error": "Content-Length is not a number"})
    assert_quiet(caplog, slack)


def test_a_genuine_request_still_reaches_the_bot(app: WSGIApp, slack: FakeSlack) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c4"}).encode()
    status, answer, _ = call(
        app, body, secret=slack.signing_secret, content_type="application/json"
    )
    assert (status, answer) == (200, {"challenge": "c4"})


def get(app: WSGIApp, path: str) -> tuple[int, bytes]:
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.update({"REQUEST_METHOD": "GET", "PATH_INFO": path})
    status: list[str] = []
    answer = b"".join(app(environ, lambda s, h, exc_info=None: status.append(s)))
    return int(status[0].split()[0]), answer


def test_healthz_answers_503_when_the_sqlite_file_is_read_only(
    app: WSGIApp, slack: FakeSlack, tmp_path: Path
) -> None:
    assert get(app, "/healthz") == (200, b"ok\n")
    # What a file the bot's user may not write looks like: SQLite opens it read-only, silently,
    # and every read still works.
    read_only = db.make_engine(f"sqlite:///file:{tmp_path / 'bot.db'}?mode=ro&uri=true")
    try:
        assert get(make_app(slack, read_only), "/healthz") == (
            503,
            b"database unreachable or read-only\n",
        )
    finally:
        read_only.dispose()
    assert get(app, "/healthz") == (200, b"ok\n")  # the probe changed nothing


def test_healthz_answers_503_when_postgresql_is_read_only(slack: FakeSlack, pg_url: str) -> None:
    writable = db.make_engine(pg_url)
    read_only = db.make_engine(
        pg_url, connect_args={"options": "-c default_transaction_read_only=on"}
    )  # as on a standby
    try:
        assert get(make_app(slack, writable), "/healthz") == (200, b"ok\n")
        assert get(make_app(slack, read_only), "/healthz")[0] == 503
    finally:
        writable.dispose()
        read_only.dispose()

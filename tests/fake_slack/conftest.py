"""Fixtures for testing the fake Slack itself.

``bolt_app`` serves a small, real slack_bolt App over HTTP on 127.0.0.1 so the
fake's user side talks to a genuine Slack request verifier and dispatcher.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient

from sandbox.fake_slack import FakeSlack

TOKEN = "xoxb-test"
SECRET = "test-secret"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def slack(clock: Clock) -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=TOKEN, signing_secret=SECRET, clock=clock) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url)


class BoltServer:
    def __init__(self, app: App) -> None:
        self.app = app
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return None

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                request = BoltRequest(
                    body=body,
                    query=urlsplit(self.path).query,
                    headers={k.lower(): [v] for k, v in self.headers.items()},
                )
                response = outer.app.dispatch(request)
                data = (response.body or "").encode("utf-8")
                self.send_response(response.status)
                for key, values in response.headers.items():
                    for value in values:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/slack/events"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def bolt_app(slack: FakeSlack) -> Iterator[Callable[[], App]]:
    """Build a Bolt app wired to the fake; listeners finish before the HTTP answer."""
    servers: list[BoltServer] = []

    def make() -> App:
        app = App(
            client=WebClient(token=TOKEN, base_url=slack.api_url),
            signing_secret=SECRET,
            process_before_response=True,
        )
        server = BoltServer(app)
        servers.append(server)
        slack.request_url = server.url
        return app

    yield make
    for server in servers:
        server.stop()

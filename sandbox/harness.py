"""The real Bolt app served over HTTP on 127.0.0.1, wired to a FakeSlack.

Shared by the sandbox and the end-to-end tests, so both exercise one start-up path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sqlalchemy import Engine, func, select

from bot.app import create_app, effect_handlers, review_hooks
from bot.config import load_settings
from bot.delivery.worker import DeliveryThread
from bot.runtime import Runtime, build_runtime
from bot.server import wsgi_app
from sandbox.fake_slack import FakeSlack
from storage.outbox import PENDING, Effect
from storage.types import utcnow


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Bot:
    rt: Runtime
    url: str

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the outbox holds nothing due (what a request promised has been done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.rt.sessions() as session:
                due = session.scalar(
                    select(func.count())
                    .select_from(Effect)
                    .where(Effect.status == PENDING, Effect.due_at <= utcnow())
                )
            if not due:
                return
            time.sleep(0.02)
        raise TimeoutError(f"the outbox still had {due} effect(s) due after {timeout} s")


def start_bot(slack: FakeSlack, engine: Engine, **env: str) -> tuple[Bot, Callable[[], None]]:
    """Start the bot on a free port and point `slack` at it; returns the bot and its stop()."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": str(engine.url.render_as_string(hide_password=False)),
            **env,
        }
    )
    rt = build_runtime(settings, engine)
    delivery = DeliveryThread(rt, effect_handlers(), poll=0.2).start()
    server = make_server(
        "127.0.0.1",
        0,
        wsgi_app(create_app(rt), rt, review_hooks()),
        server_class=_ThreadingServer,
        handler_class=_Quiet,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="bot-http")
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/slack/events"
    slack.request_url = url

    def stop() -> None:
        server.shutdown()
        server.server_close()
        delivery.stop()

    return Bot(rt, url), stop

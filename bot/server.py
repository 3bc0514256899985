"""Serving the app: HTTP on gunicorn (production server) or Socket Mode."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text

from bot.config import ConfigError, Settings
from bot.runtime import Runtime
from bot.tickets.webhook import hooks_app
from storage import db

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(slack_app: Any, rt: Runtime) -> WSGIApp:
    """`/slack/events` for Slack, `/healthz` for load balancers (200 when the database answers)."""
    slack = SlackRequestHandler(slack_app, path="/slack/events")
    hooks = hooks_app(rt)  # POST /hooks/<helpdesk>: ticket events (README)
    engine = rt.engine

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
            except Exception as exc:
                log.warning("health check: database unreachable: %s", type(exc).__name__)
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"database unreachable\n"]
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        if str(environ.get("PATH_INFO", "")).startswith("/hooks/"):
            return hooks(environ, start_response)
        return slack(environ, start_response)

    return application


def prepare_database(settings: Settings) -> Engine:
    """The database the bot runs on (storage.db.prepare), its problems as one-line ConfigErrors."""
    try:
        return db.prepare(settings.database_url)
    except db.SchemaNotCurrent as exc:
        raise ConfigError(str(exc)) from None


def build(settings: Settings, engine: Engine) -> tuple[Any, Any]:
    """The runtime, the Bolt app, its scheduled jobs and its outbox delivery thread."""
    from bot import scheduler
    from bot.app import create_app, effect_handlers, jobs
    from bot.delivery.worker import DeliveryThread
    from bot.runtime import build_runtime

    runtime = build_runtime(settings, engine)
    app = create_app(runtime)
    scheduler.start(runtime, jobs())
    DeliveryThread(runtime, effect_handlers()).start()
    return runtime, app


class _Gunicorn(BaseApplication):
    def __init__(self, factory: Callable[[], WSGIApp], options: dict[str, Any]):
        self._factory, self._options = factory, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        return self._factory()  # runs in the worker, after the fork


def run(settings: Settings, *, host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    engine = prepare_database(settings)
    if settings.app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler
        from slack_sdk import WebClient

        _, app = build(settings, engine)
        log.info("starting in Socket Mode")
        SocketModeHandler(app, settings.app_token,
                          web_client=WebClient(base_url=settings.api_url)).start()
        return

    def factory() -> WSGIApp:
        rt, app = build(settings, engine)
        return wsgi_app(app, rt)

    log.info("listening on http://%s:%s/slack/events", host, port)
    _Gunicorn(factory, {"bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread",
                        "threads": 32, "timeout": 60, "graceful_timeout": 10,
                        "accesslog": "-", "loglevel": "info"}).run()

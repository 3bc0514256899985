"""Serving the app: HTTP on gunicorn (production server) or Socket Mode."""

from __future__ import annotations

import gc
import hashlib
import hmac
import io
import json
import logging
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from slack_bolt import BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from sqlalchemy import Engine

from bot import checks
from bot.background import BackgroundProcess
from bot.config import ConfigError, Settings, log_format, secret_values
from bot.features import ReviewHooks
from bot.observability import logs
from bot.observability.metrics import Metrics, share_between_processes
from bot.runtime import Runtime
from bot.tickets.webhook import MAX_BODY, hooks_app
from bot.trackers.webhook import PREFIX as TRACKER_HOOKS
from bot.trackers.webhook import hooks_app as tracker_hooks
from storage import db

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# Slack's requests are a few KiB (a modal with 100 blocks stays far below this); anything larger
# is refused before it is read, so it can neither fill memory nor the log.
SLACK_MAX_BODY = 1024 * 1024
MAX_CLOCK_SKEW = 5 * 60  # seconds, as Slack and Bolt allow
STATUS = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    411: "411 Length Required",
    413: "413 Content Too Large",
}
# The envelope keys Bolt and the listeners dereference: Slack always sends them with these types.
_OBJECT_KEYS = (
    "event",
    "view",
    "user",
    "team",
    "channel",
    "container",
    "message",
    "enterprise",
    "state",
)
_LIST_KEYS = ("actions", "authorizations")


class Refused(Exception):
    """A request answered with a 4xx before any listener sees it (one log line, no traceback)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The request body, at most `limit` bytes, refused (413) before reading when it says more.

    A chunked body has no Content-Length; gunicorn decodes it and marks its input as terminated
    (`wsgi.input_terminated`), so it is read to its end. A server that does not (wsgiref) would
    block on such a read, so there the request is refused with 411 instead.
    """
    stream = environ["wsgi.input"]
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            raise Refused(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise Refused(413, f"the body is over {limit // 1024} KiB")
        body = _read(stream, int(declared))
        if len(body) < int(declared):
            raise Refused(400, "the body is shorter than its Content-Length")
        return body
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    if not environ.get("wsgi.input_terminated"):
        if chunked:
            raise Refused(411, "send a Content-Length")
        return b""
    body = _read(stream, limit + 1)
    if len(body) > limit:
        raise Refused(413, f"the body is over {limit // 1024} KiB")
    return body


def _read(stream: Any, size: int) -> bytes:
    parts: list[bytes] = []
    while size > 0:
        part = stream.read(min(size, 64 * 1024))
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def _check_signature(environ: dict[str, Any], body: bytes, secret: str | None) -> None:
    """Slack's signature over the raw bytes, checked before anything decodes or logs the body.

    Bolt checks it again on the decoded text; checking here first means an unsigned body is never
    decoded, parsed or logged (Bolt logs a refused body whole, at INFO). Without a secret (tests
    that build the app by hand) only the timestamp's form is checked, which Bolt needs as an int.
    """
    stamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""))
    if stamp and not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise Refused(401, "invalid request")
    if not secret:
        return
    if not stamp or abs(time.time() - int(stamp)) > MAX_CLOCK_SKEW:
        raise Refused(401, "invalid request")
    given = str(environ.get("HTTP_X_SLACK_SIGNATURE", "")).encode("latin-1", "replace")
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    if not hmac.compare_digest(given, b"v0=" + digest.hexdigest().encode()):
        raise Refused(401, "invalid request")


def _payload_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the payload is not an object"
    for key in _OBJECT_KEYS:
        if body.get(key) is not None and not isinstance(body[key], dict):
            return f"{key} is not an object"
    for key in _LIST_KEYS:
        value = body.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, dict) for v in value)
        ):
            return f"{key} is not a list of objects"
    return None


class _SlackEvents(SlackRequestHandler):
    """Bolt's WSGI adapter, answering 400 for a body that is not a Slack payload.

    Bolt parses the body while building its request, outside its own error handling, so a
    malformed body would surface as a 500 with a traceback.
    """

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        try:
            bolt_request = BoltRequest(
                body=request.get_body(), query=request.query_string, headers=request.get_headers()
            )
            problem = _payload_problem(bolt_request.body)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the sender's
            problem = f"unreadable ({type(exc).__name__})"
        if problem:
            log.info("refused POST /slack/events: 400 not a Slack payload: %s", problem)
            return BoltResponse(status=400, body={"error": "not a Slack payload"})
        return self.app.dispatch(bolt_request)


def _refuse(start_response: Callable[..., Any], refused: Refused, path: str) -> Iterable[bytes]:
    log.info("refused POST %s: %s %s", path, refused.status, refused.message)
    body = (
        {"ok": False, "error": refused.message, "field": None}
        if path.startswith("/hooks/")
        else {"error": refused.message}
    )
    start_response(STATUS[refused.status], [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def webhook_outcome(status: int, body: bytes) -> str:
    """How a webhook delivery went, for `postmortem_webhook_deliveries`: accepted, duplicate
    (a tracker change already in step: nothing applied), unauthorised, invalid, error."""
    if status == 200:
        try:
            reply = json.loads(body)
        except ValueError:
            reply = {}
        if isinstance(reply, dict) and reply.get("applied") == 0 and reply.get("changes"):
            return "duplicate"
        return "accepted"
    if status == 401:
        return "unauthorised"
    return "error" if status >= 500 else "invalid"


def _counted(metrics: Metrics, hook: str, app: WSGIApp) -> WSGIApp:
    """`app`, with each answer counted by outcome (its reply is one small JSON buffer)."""

    def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen: list[str] = []

        def start(status: str, headers: Any, *exc_info: Any) -> Any:
            seen.append(status)
            return start_response(status, headers, *exc_info)

        body = b"".join(app(environ, start))
        code = int(seen[0].split()[0]) if seen else 500
        metrics.webhooks.labels(hook, webhook_outcome(code, body)).inc()
        return [body]

    return counted


def _probes(rt: Runtime) -> Callable[[str, Callable[..., Any]], Iterable[bytes] | None]:
    """`GET /healthz` (200: the database takes writes) and `GET /metrics` (Prometheus)."""
    engine = rt.engine

    def answer(path: str, start_response: Callable[..., Any]) -> Iterable[bytes] | None:
        if path == "/healthz":
            try:
                db.check_writable(engine)  # a read-only SQLite file answers reads, not writes
            except Exception as exc:
                log.warning("health check: database unusable: %s", type(exc).__name__)
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"database unreachable or read-only\n"]
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        if path == "/metrics":
            body, content_type = rt.metrics.exposition()
            start_response("200 OK", [("Content-Type", content_type)])
            return [body]
        return None

    return answer


def probes_app(rt: Runtime) -> WSGIApp:
    """Only `/healthz` and `/metrics`: what Socket Mode serves on its port (no Slack traffic)."""
    answer = _probes(rt)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        found = answer(str(environ.get("PATH_INFO", "")), start_response)
        if found is not None:
            return found
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return application


def wsgi_app(slack_app: Any, rt: Runtime, review_hooks: ReviewHooks) -> WSGIApp:
    """`/slack/events` for Slack, `/healthz` for load balancers (200: the database takes writes),
    `/metrics` for Prometheus, `/hooks/…` for helpdesks and trackers.

    Every POST body is read here, within its size limit, and handed on as a complete buffer, so
    Bolt and the webhook see the same bytes whether the sender used Content-Length or chunks.
    Each request runs with its log context (a request id; Bolt's dispatch adds the workspace).
    `review_hooks` (bot/app.py) follow a review a helpdesk ticket starts, as one started in Slack.
    """
    slack = _SlackEvents(slack_app, path="/slack/events")
    # POST /hooks/<helpdesk>: ticket events; POST /hooks/trackers/<name>: task changes (README)
    hooks = _counted(rt.metrics, "tickets", hooks_app(rt, review_hooks))
    trackers = _counted(rt.metrics, "trackers", tracker_hooks(rt))
    signing_secret = rt.settings.signing_secret or None
    probes = _probes(rt)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        arrived = time.perf_counter()
        stamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""))
        signature = str(environ.get("HTTP_X_SLACK_SIGNATURE", ""))
        request = logs.slack_request_id(stamp, signature) if signature else logs.new_request_id()
        # The delivery worker and sweeps in this process give way while it is answered.
        with rt.sender.foreground.serving(), logs.request_scope(request=request, arrived=arrived):
            return route(environ, start_response)

    def route(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        found = probes(path, start_response)
        if found is not None:
            return found
        is_hook = path.startswith("/hooks/")
        if environ.get("REQUEST_METHOD") == "POST" and (is_hook or path == "/slack/events"):
            try:
                body = read_body(environ, MAX_BODY if is_hook else SLACK_MAX_BODY)
                if not is_hook:
                    _check_signature(environ, body, signing_secret)
                    try:
                        body.decode("utf-8")
                    except UnicodeDecodeError:
                        raise Refused(400, "the body is not UTF-8") from None
            except Refused as refused:
                if is_hook:
                    hook = "trackers" if path.startswith(TRACKER_HOOKS) else "tickets"
                    rt.metrics.webhooks.labels(hook, "invalid").inc()
                return _refuse(start_response, refused, path)
            environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        if is_hook and path.startswith(TRACKER_HOOKS):
            return trackers(environ, start_response)
        if is_hook:
            return hooks(environ, start_response)
        return slack(environ, start_response)

    return application


def check_address(host: str, port: int) -> None:
    """--host/--port (PORT) are usable: gunicorn would fail on them inside its arbiter."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port (PORT): {port} is not a port number from 1 to 65535")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise ConfigError(
            f"--host/--port: cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None


def preflight(settings: Settings, *, host: str, port: int) -> Engine:
    """Everything that would otherwise fail inside gunicorn's worker, before it forks."""
    if not settings.app_token:
        check_address(host, port)
    problems = checks.workflow_problems(settings)
    if problems:
        raise ConfigError("\n".join(problems))  # each `file:line: problem`
    return checks.prepare_database(settings)


def build(settings: Settings, engine: Engine, *, background: bool = True) -> tuple[Any, Any, Any]:
    """The runtime, the Bolt app and, with `background`, its scheduled jobs and its outbox
    delivery thread (returned third, for its process to stop before exiting; else None: on
    PostgreSQL the request processes leave both to the background process, bot/background.py).
    """
    from bot import scheduler
    from bot.app import create_app, effect_handlers, jobs
    from bot.delivery.worker import DeliveryThread
    from bot.runtime import build_runtime

    runtime = build_runtime(settings, engine)
    app = create_app(runtime)
    delivery = None
    if background:
        scheduler.start(runtime, jobs())
        delivery = DeliveryThread(runtime, effect_handlers()).start()
    settle_heap()
    return runtime, app, delivery


def settle_heap() -> None:
    """Exempt what start-up built from the garbage collector's full passes.

    The registry, the ORM's mappers, templates and Bolt's app live as long as the process, yet
    every full collection walked them all: 95-100 ms with the interpreter held, during which no
    request could be answered (the slowest acks in bench/ack_latency.py). Frozen, they are
    skipped; what requests allocate is still collected, each full pass now a few milliseconds.
    """
    gc.collect()
    gc.freeze()


class _Arbiter(Arbiter):
    """gunicorn's arbiter, which also keeps `serve`'s background process running."""

    def manage_workers(self) -> None:
        super().manage_workers()  # (called at start and about once a second)
        if self.app.background is not None:
            self.app.background.ensure()


class _Gunicorn(BaseApplication):
    def __init__(
        self,
        factory: Callable[[], WSGIApp],
        options: dict[str, Any],
        background: BackgroundProcess | None = None,
    ):
        self._factory, self._options = factory, options
        self.background = background
        super().__init__()

    def run(self) -> None:
        try:
            _Arbiter(self).run()
        except RuntimeError as exc:  # as BaseApplication.run reports a failed start
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.stderr.flush()
            sys.exit(1)

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        return self._factory()  # runs in the worker, after the fork


def run(settings: Settings, *, host: str, port: int, probes_port: bool = False) -> None:
    """Serve until stopped. In Socket Mode, `probes_port` (a --port or PORT given) serves
    `/healthz` and `/metrics` on `host:port` beside the socket; on HTTP they share the port.

    Logging's format is set by the CLI's entry (bot/cli/common.py `setup_logging`); INFO starts
    after the checks. gunicorn's own lines go through the same handler when they are JSON.
    """
    if settings.app_token and probes_port:
        check_address(host, port)
    engine = preflight(settings, host=host, port=port)  # before logging: a failure is one line
    logging.basicConfig(format=logs.TEXT_FORMAT)  # unless the CLI set it (bot/cli/common.py)
    logging.getLogger().setLevel(logging.INFO)
    log.info("database ready: %s", checks.shown_url(settings.database_url))
    if settings.app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler
        from slack_sdk import WebClient

        rt, app, _ = build(settings, engine)
        if probes_port:
            serve_probes(rt, host, port)
        log.info("starting in Socket Mode")
        SocketModeHandler(
            app,
            settings.app_token,
            web_client=WebClient(base_url=settings.api_url),
        ).start()
        return

    # On PostgreSQL the requests are answered by `web_processes` processes and the rest is done
    # by one background process (bot/background.py); SQLite's one process does both.
    separate = engine.dialect.name != "sqlite"
    background: BackgroundProcess | None = None
    shared_metrics: str | None = None
    if separate:
        shared_metrics = tempfile.mkdtemp(prefix="postmortem-metrics-")
        share_between_processes(shared_metrics)  # before the processes count anything
        background = BackgroundProcess()
    delivering: list[Any] = []  # the worker process's delivery thread, once it has started

    def factory() -> WSGIApp:
        from bot.app import review_hooks

        rt, app, delivery = build(settings, engine, background=not separate)
        if delivery is not None:
            delivering.append(delivery)
        return wsgi_app(app, rt, review_hooks())

    def worker_exit(_arbiter: Any, _worker: Any) -> None:
        """Stop delivering before the worker's interpreter shuts down: a pass cut off there
        (its thread pool refusing work) could log a traceback as the process stopped."""
        for delivery in delivering:
            delivery.stop(timeout=5)

    def on_exit(_arbiter: Any) -> None:
        if background is not None:
            background.stop(timeout=GRACEFUL_TIMEOUT)
        if shared_metrics is not None:
            shutil.rmtree(shared_metrics, ignore_errors=True)

    log.info(
        "listening on http://%s:%s/slack/events (%s)",
        host,
        port,
        f"{settings.web_processes} request process(es) and a background process"
        if separate
        else "one process",
    )
    options = {
        **gunicorn_options(host, port, settings.web_processes if separate else 1),
        "worker_exit": worker_exit,
        "on_exit": on_exit,
    }
    if log_format() == "json":
        options["logger_class"] = logs.gunicorn_logger_class("json", secret_values())
    _Gunicorn(factory, options, background).run()


def serve_probes(rt: Runtime, host: str, port: int) -> None:
    """`/healthz` and `/metrics` on a small threaded server: Socket Mode has no HTTP of its own,
    and `postmortem-bot worker --metrics-port` shows its own Slack calls and outbox figures."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - wsgiref's name
            pass  # a scrape every 15 s is not news

    server = make_server(host, port, probes_app(rt), server_class=Server, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True, name="probes").start()
    log.info("health and metrics on http://%s:%s/healthz and /metrics", host, port)


GRACEFUL_TIMEOUT = 10  # seconds a stopping process may finish what it is doing


def gunicorn_options(host: str, port: int, processes: int = 1) -> dict[str, Any]:
    """How `serve` runs gunicorn (bench/ack_latency.py serves its bare Bolt app the same way):
    `processes` request workers of 32 threads each."""
    return {
        "bind": f"{host}:{port}",
        "workers": processes,
        "worker_class": "gthread",
        "threads": 32,
        "timeout": 60,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "accesslog": "-",
        "loglevel": "info",
    }

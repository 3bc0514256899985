"""Logs an operator can search: one JSON object a line (`POSTMORTEM_LOG_FORMAT=json`), each
naming the workspace and the request it came from, and never a token or secret.

The request's context lives in contextvars, set where a request enters (bot/server.py's WSGI app,
the Bolt app's dispatch for Socket Mode). Bolt runs listeners on a thread pool, which would start
each listener with an empty context; `ContextThreadPool` hands the submitting request's context
to the thread, so a listener's lines carry the request's ids too.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TextIO, TypeVar

T = TypeVar("T")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
team_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("team_id", default=None)
arrived_at: contextvars.ContextVar[float | None] = contextvars.ContextVar("arrived", default=None)
"""`time.perf_counter()` when the current request reached the server (for the ack histogram)."""

REDACTED = "[redacted]"
TOKEN = re.compile(r"\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]+")
"""Slack tokens of any kind: bot (xoxb-), user (xoxp-), app-level (xapp-), refresh (xoxe-)…"""
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def slack_request_id(timestamp: str, signature: str) -> str:
    """A short id for a Slack request, from its timestamp and signature headers: the same
    wherever it is worked out (a proxy's log can find it), and revealing neither."""
    return hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()[:16]


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


@contextmanager
def request_scope(
    *, request: str | None = None, team: str | None = None, arrived: float | None = None
) -> Iterator[None]:
    """Set the request's context for what runs inside (and the listeners it submits)."""
    resets: list[Callable[[], None]] = []
    if request is not None:
        resets.append(_setter(request_id, request))
    if team is not None:
        resets.append(_setter(team_id, team))
    if arrived is not None:
        resets.append(_setter(arrived_at, arrived))
    try:
        yield
    finally:
        for reset in reversed(resets):
            reset()


def _setter(var: contextvars.ContextVar[T | None], value: T) -> Callable[[], None]:
    token = var.set(value)
    return lambda: var.reset(token)


class ContextThreadPool(ThreadPoolExecutor):
    """A thread pool whose tasks run in the context of whoever submitted them."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)


# --- redaction ------------------------------------------------------------------------------


class Redact(logging.Filter):
    """Replaces Slack tokens and the given secret values in a record's message and traceback.

    On the handler, so it sees every record, whatever library logged it. The message is
    formatted here (args merged) and the traceback rendered, then both are cleaned; formatters
    use the cleaned `exc_text` rather than rendering the exception again.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole; short values
        # (a test's "x") would redact ordinary words and protect nothing.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string still gets logged, cleaned
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.clean(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        return True


class WithContext(logging.Filter):
    """Adds the request's `team_id` and `request_id` to each record (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "team_id", None) is None:
            record.team_id = team_id.get()
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a traceback goes in "exception")."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "team_id": getattr(record, "team_id", None),
            "request_id": getattr(record, "request_id", None),
            "thread": record.threadName,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _Stderr(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a record comes (as logging's last resort does),
    so a test runner that swaps stderr, or closes its swapped one, breaks nothing."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def make_handler(fmt: str, secrets: Iterable[str] = ()) -> logging.Handler:
    """A stderr handler in `fmt` ("text" or "json") that adds the context and redacts."""
    handler = _Stderr()
    handler.addFilter(WithContext())
    handler.addFilter(Redact(secrets))
    formatter = JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    handler.set_name("postmortem-bot")
    return handler


def configure(fmt: str, level: int, secrets: Iterable[str] = ()) -> logging.Handler | None:
    """The root logger's one handler of ours (replaced, not added, when called again).

    Like `logging.basicConfig`, it leaves alone a root logger that something else has set up
    (a program embedding the bot, a test runner capturing logs): None then.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if h.get_name() == "postmortem-bot"]
    if len(ours) < len(root.handlers):
        return None
    for existing in ours:
        root.removeHandler(existing)
    handler = make_handler(fmt, secrets)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def gunicorn_logger_class(fmt: str, secrets: Iterable[str]) -> type:
    """A gunicorn logger whose error and access lines go through the bot's handler (gunicorn
    otherwise writes its own text lines, bypassing the JSON format and the redaction)."""
    from gunicorn.glogging import Logger

    kept = tuple(secrets)

    class BotLogger(Logger):
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for logger in (self.error_log, self.access_log):
                if logger.handlers:
                    logger.handlers = [make_handler(fmt, kept)]

    return BotLogger

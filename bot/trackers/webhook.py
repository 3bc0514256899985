"""`POST /hooks/trackers/<name>`: what the tracker reports about the tasks the bot filed.

Each delivery is checked with that tracker's own signature scheme and secret before its body is
parsed; a delivery for a tracker other than the configured one is a 404. The body has already
been read within its size limit by bot/server.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from bot.runtime import Runtime
from bot.trackers import service
from bot.trackers.base import Headers, TrackerError, WebhookRefused

log = logging.getLogger(__name__)

PREFIX = "/hooks/trackers/"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}


def _headers(environ: dict[str, Any]) -> Headers:
    """The request's headers by their HTTP names (WSGI spells them HTTP_X_SIGNATURE)."""
    return Headers(
        {
            key[5:].replace("_", "-"): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
    )


def handle(rt: Runtime, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    name = str(environ.get("PATH_INFO", "")).removeprefix(PREFIX).strip("/")
    tracker = service.tracker_of(rt)
    if tracker is None or tracker.name != name:
        return 404, {"ok": False, "error": f"no tracker {name!r} is configured"}
    if environ.get("REQUEST_METHOD") != "POST":
        return 405, {"ok": False, "error": "use POST"}
    length = int(str(environ.get("CONTENT_LENGTH") or "0") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    try:
        changes = tracker.parse_webhook(_headers(environ), body)
    except WebhookRefused as refused:
        log.info("refused POST %s: %s %s", environ.get("PATH_INFO"), refused.status, refused)
        return refused.status, {"ok": False, "error": str(refused)}
    try:
        # Many workspaces: each applies the changes to its own items (its sessions see no
        # other's), and tells its own Slack.
        applied = sum(service.apply(team, tracker.name, changes) for team in rt.each_team())
    except TrackerError as exc:
        log.warning("tracker webhook: %s", exc)
        return 503, {"ok": False, "error": "try again later"}
    except Exception:
        log.exception("tracker webhook failed")
        return 500, {"ok": False, "error": "the bot failed to record the change; send it again"}
    return 200, {"ok": True, "changes": len(changes), "applied": applied}


def hooks_app(rt: Runtime) -> WSGIApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, reply = handle(rt, environ)
        start_response(STATUS[status], [("Content-Type", "application/json")])
        return [json.dumps(reply).encode()]

    return application

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
from bot.trackers.base import Headers, Tracker, TrackerError, WebhookRefused

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


def _trackers(rt: Runtime, name: str) -> list[tuple[Runtime, Tracker]]:
    """Each workspace that files its items in tracker `name`, with its own adapter (its own
    target and secret); one runtime alone with one SLACK_BOT_TOKEN."""
    found = []
    for team in rt.each_team():
        tracker = service.tracker_of(team)
        if tracker is not None and tracker.name == name:
            found.append((team, tracker))
    return found


def handle(rt: Runtime, environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Verify and apply one delivery.

    Many workspaces: a delivery names a task (and, where the tracker says, its repository,
    project or team), never a Slack team. Each workspace using this tracker checks it with its
    own adapter (which drops deliveries about another target) and looks the task up among its
    own items only (storage/trackers.py), so a task of workspace A never changes an item of B.
    """
    name = str(environ.get("PATH_INFO", "")).removeprefix(PREFIX).strip("/")
    teams = _trackers(rt, name)
    if not teams:
        return 404, {"ok": False, "error": f"no tracker {name!r} is configured"}
    if environ.get("REQUEST_METHOD") != "POST":
        return 405, {"ok": False, "error": "use POST"}
    length = int(str(environ.get("CONTENT_LENGTH") or "0") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    refused: WebhookRefused | None = None
    accepted, changes, applied = False, 0, 0
    try:
        for team, tracker in teams:
            try:
                found = tracker.parse_webhook(_headers(environ), body)
            except WebhookRefused as exc:
                refused = refused if refused and refused.status == 401 else exc
                continue
            accepted = True
            changes = max(changes, len(found))
            applied += service.apply(team, tracker.name, found)
    except TrackerError as exc:
        log.warning("tracker webhook: %s", exc)
        return 503, {"ok": False, "error": "try again later"}
    except Exception:
        log.exception("tracker webhook failed")
        return 500, {"ok": False, "error": "the bot failed to record the change; send it again"}
    if not accepted and refused is not None:
        log.info("refused POST %s: %s %s", environ.get("PATH_INFO"), refused.status, refused)
        return refused.status, {"ok": False, "error": str(refused)}
    return 200, {"ok": True, "changes": changes, "applied": applied}


def hooks_app(rt: Runtime) -> WSGIApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        status, reply = handle(rt, environ)
        start_response(STATUS[status], [("Content-Type", "application/json")])
        return [json.dumps(reply).encode()]

    return application

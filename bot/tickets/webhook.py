"""Helpdesk webhooks: `POST /hooks/<helpdesk>` turns low-CES tickets into assigned post-mortems.

A plain WSGI app next to Slack's handler. The request is checked (bearer token, JSON, fields, the
owner's Slack account) before anything is written; then one transaction records the ticket and,
for a low CES, the review and its pre-filled metadata draft; Slack is told after the commit.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.features import ReviewHooks
from bot.runtime import NotInstalled, Runtime
from bot.tickets.service import (
    TicketConfig,
    _settings,
    record,
    resolve_owner,
    ticket_config,
)
from storage import workspace_data
from storage.types import utcnow
from workflows.helpdesks import ADAPTERS
from workflows.tickets import CesRules, TicketError, decode, is_low_ces, parse_event

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# --- the WSGI sub-app --------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


def _error(status: int, message: str, field: str | None = None) -> Reply:
    return Reply(status, {"ok": False, "error": message, "field": field})


STATUS_TEXT = {
    200: "200 OK",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}


def hooks_app(rt: Runtime, hooks: ReviewHooks) -> WSGIApp:
    """The `/hooks/<helpdesk>` routes of this runtime's bot; `hooks` are the features' review
    hooks, for the reviews a ticket starts."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        reply = _handle(rt, environ, hooks)
        headers = [("Content-Type", "application/json")]
        if reply.status == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm="postmortem-bot"'))
        start_response(STATUS_TEXT[reply.status], headers)
        return [json.dumps(reply.body).encode()]

    return application


def _authorised(config: TicketConfig, header: str) -> bool:
    if not config.token:
        return False  # no token configured: the webhook is off
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), config.token.encode()
    )


def _handle(rt: Runtime, environ: dict[str, Any], hooks: ReviewHooks) -> Reply:
    name = environ.get("PATH_INFO", "").removeprefix("/hooks/").strip("/")
    adapter = ADAPTERS.get(name)
    if adapter is None:
        return _error(404, f"no helpdesk called {name!r}; try /hooks/tickets")
    if environ.get("REQUEST_METHOD") != "POST":
        return _error(405, "use POST")
    config = ticket_config(rt.settings)
    if rt.tokens is not None:  # many workspaces: each has its own token, which names it
        given = environ.get("HTTP_AUTHORIZATION", "").partition(" ")[2].strip()
        team = workspace_data.team_of_webhook_token(rt.engine, given)
        if team is None:
            return _error(401, "missing or wrong bearer token (postmortem-bot workspace webhook)")
        try:
            rt = rt.for_team(team)
        except NotInstalled:
            return _error(401, "the workspace of this token has uninstalled the app")
        config = replace(config, token=given)
    if not _authorised(config, environ.get("HTTP_AUTHORIZATION", "")):
        return _error(401, "missing or wrong bearer token (POSTMORTEM_WEBHOOK_TOKEN)")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return _error(413, f"the body is over {MAX_BODY // 1024} KiB")
    body = environ["wsgi.input"].read(length) if length else b""
    try:
        return receive(rt, config, name, decode(body), adapter, hooks)
    except TicketError as exc:
        return _error(400, exc.message, exc.field)
    except SlackApiError as exc:  # Slack unreachable while checking the owner: try again later
        log.warning("ticket webhook: Slack error %s", exc.response.get("error"))
        return _error(503, "Slack did not answer; deliver the event again later")
    except Exception:
        log.exception("ticket webhook failed")
        return _error(500, "the bot failed to record the event; deliver it again later")


def receive(
    rt: Runtime,
    config: TicketConfig,
    source: str,
    data: Any,
    adapter: Callable[[Any, dict[str, Any]], dict[str, Any]],
    hooks: ReviewHooks,
) -> Reply:
    """Validate, record, maybe start a post-mortem; then tell Slack. Raises TicketError (400)."""
    team = rt.team_id()
    settings = _settings(rt, team)
    rules = CesRules.from_settings(settings)
    event = parse_event(adapter(data, settings.get(source) or {}))
    low = is_low_ces(event, rules)  # also refuses a score outside its scale
    owner = resolve_owner(rt, event)
    now = utcnow()
    outcome = record(rt, config, team, source, data, event, owner, low, rules, now, hooks)
    rt.delivery_due.set()
    return Reply(
        200,
        {
            "ok": True,
            "ticket": event.ticket_id,
            "review": outcome.review_id,
            "created": outcome.created,
            "low_ces": low,
            "stale_suggested": outcome.stale_row_id is not None,
        },
    )

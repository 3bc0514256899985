"""`/postmortem insights [period]` and App Home's "Send me the chart".

The answer is ephemeral: the figures as text, and the chart uploaded (files upload v2) to the
asker's direct messages with the app, shown in the answer from there. Where Slack refuses the
image block (a file it has not finished processing), the figures are sent again without it:
the person always gets the numbers.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.insights import service, views
from bot.runtime import Runtime
from storage.types import utcnow
from workflows.insights import PeriodError

log = logging.getLogger(__name__)
IN_DM = "The chart is also in your direct messages with me."


def insights(
    rt: Runtime, command: dict[str, Any], rest: str, respond: Respond, client: WebClient
) -> None:
    """Anyone may ask: the figures are the team's, and nothing private is shown."""
    try:
        ins = service.for_team(rt, command["team_id"], rest, utcnow())
    except PeriodError as exc:
        respond(text=str(exc), response_type="ephemeral")
        return
    alt = views.reviews_alt_text(ins)
    try:
        file_id = service.send_chart_to(rt, command["user_id"], ins, alt)
        note = (
            IN_DM
            if file_id
            else "Charts can't be uploaded in this workspace, so here are the figures alone."
        )
    except SlackApiError as exc:
        log.warning("insights chart not sent: %s", exc.response.get("error"))
        file_id, note = None, "The chart could not be sent this time; here are the figures."
    result = respond(
        **views.insights_message(ins, file_id=file_id, alt=alt, chart_note=note),
        response_type="ephemeral",
    )
    if file_id and getattr(result, "status_code", 200) >= 400:
        log.info(
            "the answer with the chart was refused (%s): sending the figures alone",
            getattr(result, "body", ""),
        )
        respond(
            **views.insights_message(ins, file_id=None, alt=alt, chart_note=IN_DM),
            response_type="ephemeral",
        )


def chart_clicked(ack: Ack, body: dict[str, Any], rt: Runtime) -> None:
    """App Home's button: the chart goes to the person's direct messages with the app."""
    ack()
    user = body["user"]
    team = str(user.get("team_id") or body["team"]["id"])
    ins = service.for_team(rt, team, "", utcnow())
    service.send_chart_to(rt, user["id"], ins, views.reviews_alt_text(ins))


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.action(views.CHART_ACTION)(chart_clicked)

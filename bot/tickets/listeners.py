"""Slack side of support tickets: "Start post-mortem" on a stale-ticket DM."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.features import ReviewHooks
from bot.reviews.flows import open_stage
from bot.runtime import Runtime
from bot.slack.views import notice_view
from bot.tickets.service import start_from_stale
from bot.tickets.views import START_STALE


def stale_clicked(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    rt: Runtime,
    hooks: ReviewHooks,
) -> None:
    """Start the suggested post-mortem and open its first stage, or say why not."""
    ack()
    user_id = body["user"]["id"]
    review_id, problem = start_from_stale(rt, int(action["value"]), user_id, hooks)
    if review_id is None:
        client.views_open(trigger_id=body["trigger_id"], view=notice_view("Nothing to do", problem))
        return
    open_stage(
        rt,
        client,
        review_id=review_id,
        user_id=user_id,
        trigger_id=body["trigger_id"],
        channel_id=None,
    )


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.action(START_STALE)(stale_clicked)

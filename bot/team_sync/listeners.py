"""Async team sync: "Add to team sync" (status message menu or invitation DM), the add modal,
and the +1 button on each item in the review's thread.

Permissions are checked on the server at every step (the button is on a message everyone in the
channel sees). The modal is validated and saved before ack(); what is posted goes through the
outbox.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.reviews.views.review_message import TEAM_SYNC_ADD
from bot.runtime import Runtime
from bot.slack import state
from bot.slack.text import escape
from bot.slack.views import notice_view
from bot.team_sync import service, views
from storage import reviews as store
from storage.db import transaction
from workflows import team_sync as rules

log = logging.getLogger(__name__)


def add_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """Open the add modal for someone who may add, else say why not (never a silent no-op)."""
    ack()
    user_id = body["user"]["id"]
    with transaction(rt.sessions) as session:
        review = store.get_review(session, int(action["value"]))
        if review is None:
            view = notice_view("Review gone", "That review no longer exists.")
        else:
            allowed = service.may_add(rt, session, review, user_id)
            if isinstance(allowed, str):
                view = notice_view("Not open to you", allowed)
            else:
                spec = allowed.async_input
                assert spec is not None  # open_for_input only returns stages that declare it
                view = views.add_modal(
                    review_id=review.id,
                    title=review.title,
                    stage_name=allowed.name,
                    spec=spec,
                    draft=store.get_draft(session, review.id, service.DRAFT_KEY, user_id),
                )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def add_submitted(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    """Check, validate and save before ack(): errors travel in the ack, next to the field."""
    review_id = int(json.loads(view["private_metadata"])["r"])
    user_id = body["user"]["id"]
    values = view["state"]["values"]
    column, text = state.option(values, views.COLUMN_BLOCK), state.text(values, views.TEXT_BLOCK)
    with transaction(rt.sessions) as session:
        # Locked: an item added while the stage is being submitted waits, then is refused.
        review = store.get_review(session, review_id, for_update=True)
        if review is None:
            ack(
                response_action="update",
                view=notice_view("Review gone", "That review no longer exists."),
            )
            return
        allowed = service.may_add(rt, session, review, user_id)
        if isinstance(allowed, str):
            ack(response_action="update", view=notice_view("Not added", allowed))
            return
        spec = allowed.async_input
        assert spec is not None
        errors = {
            block: problem
            for block, problem in (
                (views.COLUMN_BLOCK, rules.column_problem(column, spec)),
                (views.TEXT_BLOCK, rules.text_problem(text)),
            )
            if problem
        }
        if errors:
            ack(response_action="errors", errors=errors)
            return
        assert column is not None
        service.add_item(session, review, allowed, user_id, column, text)
    ack(response_action="update", view=views.added_view(spec.label(column), text))
    rt.delivery_due.set()


def add_closed(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    """Closing the modal keeps what was typed: the next "Add to team sync" opens with it."""
    ack()
    review_id = int(json.loads(view["private_metadata"])["r"])
    values = view["state"]["values"]
    draft = {
        "column": state.option(values, views.COLUMN_BLOCK),
        "text": state.text(values, views.TEXT_BLOCK),
    }
    with transaction(rt.sessions) as session:
        if store.get_review(session, review_id) is not None:
            store.save_draft(session, review_id, service.DRAFT_KEY, body["user"]["id"], draft)


def vote_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """+1 on an item: counted once per person; anything else is said to the voter alone."""
    ack()
    user_id = body["user"]["id"]
    with transaction(rt.sessions) as session:
        said = service.vote(rt, session, int(action["value"]), user_id)
    if said is None:
        rt.delivery_due.set()
        return
    message: dict[str, Any] = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    client.chat_postEphemeral(
        channel=channel or user_id,
        user=user_id,
        text=escape(said),
        **({"thread_ts": message["thread_ts"]} if message.get("thread_ts") else {}),
    )


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.action(TEAM_SYNC_ADD)(add_clicked)
    app.view(views.CALLBACK_ID)(add_submitted)
    app.view_closed(views.CALLBACK_ID)(add_closed)
    app.action(views.VOTE)(vote_clicked)

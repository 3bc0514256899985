"""DM buttons on action items, the status modal, and `/postmortem actions`."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.action_items import service as reminders
from bot.action_items import views
from bot.reviews.status import refresh_status
from bot.reviews.views.review_message import ADD_ITEM
from bot.runtime import Runtime
from bot.slack import state
from storage import reviews as store
from storage.db import transaction
from storage.models import ActionItem
from workflows.nudges import snooze_until

log = logging.getLogger(__name__)
MAX_LISTED = 15


def _after_change(rt: Runtime, client: WebClient, body: dict, change: reminders.Change) -> None:
    """Rewrite the clicked DM (and the assignment DM) in place, then the review's message."""
    if change.item is None:
        return
    message = views.item_blocks(change.item, "Action item")
    container = body.get("container") or {}
    targets = set()
    if container.get("type") == "message" and not container.get("is_ephemeral"):
        targets.add((container["channel_id"], container["message_ts"]))
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, change.item.id)
        if item.dm_channel and item.dm_ts:
            targets.add((item.dm_channel, item.dm_ts))
    for channel, ts in targets:
        client.chat_update(channel=channel, ts=ts, **message)
    if change.changed and change.review_id:
        refresh_status(rt, change.review_id)
    if change.all_done and change.review_id:
        reminders.ask_to_confirm(rt, change.review_id)


def _owner_or_admin(rt: Runtime, item_id: int, user_id: str) -> bool:
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:
            return False
        allowed = user_id in (item.owner_id, item.review.owner_id)
    return allowed or rt.is_admin(user_id)


def guarded(rt: Runtime, body: dict, item_id: int, client: WebClient) -> bool:
    user_id = body["user"]["id"]
    if _owner_or_admin(rt, item_id, user_id):
        return True
    channel = (body.get("channel") or {}).get("id") or user_id
    client.chat_postEphemeral(
        channel=channel,
        user=user_id,
        text=("Only the item's owner, the review's owner or an admin can change it."),
    )
    return False


def done(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    item_id = int(action["value"])
    if guarded(rt, body, item_id, client):
        change = reminders.update_item(rt, item_id, body["user"]["id"], status="done")
        _after_change(rt, client, body, change)


def snooze(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    item_id, choice = action["selected_option"]["value"].split(":", 1)
    _snooze(rt, body, int(item_id), choice, client)


def snooze_date(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    item_id = int(action["block_id"].split(".")[1])
    chosen = date.fromisoformat(action["selected_date"])
    tz = rt.people.timezone(body["user"]["id"], rt.settings.timezone)
    if chosen < datetime.now(ZoneInfo(tz)).date():
        client.chat_postEphemeral(
            channel=body["user"]["id"],
            user=body["user"]["id"],
            text="Pick a date from today on to snooze until.",
        )
        return
    _snooze(rt, body, item_id, chosen, client)


def _snooze(rt: Runtime, body: dict, item_id: int, choice: Any, client: WebClient) -> None:
    if not guarded(rt, body, item_id, client):
        return
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        pol = reminders.policy(rt, item.review.workspace)
        tz = rt.people.timezone(item.owner_id, rt.settings.timezone)
    until = snooze_until(choice, reminders.utcnow(), tz, pol)
    change = reminders.update_item(rt, item_id, body["user"]["id"], snoozed_until=until)
    _after_change(rt, client, body, change)


def status_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    item_id = int(action["value"])
    if not guarded(rt, body, item_id, client):
        return
    with transaction(rt.sessions) as session:
        view = reminders.view_of(rt, session.get(ActionItem, item_id))
    client.views_open(trigger_id=body["trigger_id"], view=views.status_modal(view))


def status_saved(ack: Ack, body: dict, view: dict, client: WebClient, rt: Runtime) -> None:
    item_id = int(view["private_metadata"])
    values = view["state"]["values"]
    status = state.option(values, "status")
    note = state.text(values, "note") or None
    if status not in ("open", "in_progress", "blocked"):
        ack(response_action="errors", errors={"status": "Choose a status."})
        return
    if status == "blocked" and not note:
        ack(response_action="errors", errors={"note": "Say what is blocking it."})
        return
    if not _owner_or_admin(rt, item_id, body["user"]["id"]):
        ack(
            response_action="errors",
            errors={
                "status": "Only the item's owner, the review's owner or an admin can change it."
            },
        )
        return
    change = reminders.update_item(rt, item_id, body["user"]["id"], status=status, status_note=note)
    ack()
    _after_change(rt, client, body, change)


def add_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    with transaction(rt.sessions) as session:
        review = store.get_review(session, int(action["value"]))
        title = review.title if review else ""
    if review is not None:
        client.views_open(
            trigger_id=body["trigger_id"],
            view=views.add_item_modal(review.id, title, body["user"]["id"]),
        )


def add_submitted(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    values = view["state"]["values"]
    title = state.text(values, "title")
    owner = state.user(values, "owner")
    due = state.date(values, "due")
    link = state.text(values, "link") or None
    errors = {}
    if not title:
        errors["title"] = "Say what needs doing."
    if not owner:
        errors["owner"] = "Choose who owns it."
    if not due:
        errors["due"] = "Pick a due date."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    with transaction(rt.sessions) as session:
        review = store.get_review(session, int(view["private_metadata"]))
        item = store.add_action_item(
            session,
            review,
            title=title,
            owner_id=owner,
            due=date.fromisoformat(due),
            tracking_link=link,
            actor=body["user"]["id"],
        )
        item_id, review_id = item.id, review.id
    ack()
    reminders.notify_changes(rt, [(item_id, True, None)])
    refresh_status(rt, review_id)


def open_review(ack: Ack) -> None:
    ack()  # a link button: Slack opens the URL; the click still needs acknowledging


def confirm(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    user_id = body["user"]["id"]
    confirmed, review = reminders.confirm_improvements(rt, int(action["value"]), user_id)
    if review is None:
        return
    container = body.get("container") or {}
    if confirmed or review.improvements_confirmed_at:
        client.chat_update(
            channel=container["channel_id"],
            ts=container["message_ts"],
            **views.improvements_blocks(
                review.id,
                review.title,
                review.permalink,
                confirmed_by=review.improvements_confirmed_by,
            ),
        )
    else:
        client.chat_postEphemeral(
            channel=container.get("channel_id") or user_id,
            user=user_id,
            text=("Only the review's owner or an admin can confirm."),
        )


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.action(views.DONE)(done)
    app.action(views.SNOOZE)(snooze)
    app.action(views.SNOOZE_DATE)(snooze_date)
    app.action(views.STATUS)(status_clicked)
    app.view(views.STATUS_CALLBACK)(status_saved)
    app.action(ADD_ITEM)(add_clicked)
    app.view(views.ADD_CALLBACK)(add_submitted)
    app.action(views.OPEN)(open_review)
    app.action(views.CONFIRM_IMPROVEMENTS)(confirm)


def my_actions(rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient) -> None:
    user_id = command["user_id"]
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, command["team_id"])
        items = [reminders.view_of(rt, i) for i in store.open_items_for(session, user_id, ws.id)]
    if not items:
        respond(text="You have no open action items. :tada:")
        return
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Your open action items* ({len(items)}), soonest first",
            },
        }
    ]
    shown = items[:MAX_LISTED]  # 1 + 3 blocks each + "and more": within a message's 50
    for view in shown:
        blocks += views.item_blocks(view, "Action item")["blocks"]
        blocks.append({"type": "divider"})
    if len(items) > len(shown):
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn",
                     "text": (f"and {len(items) - len(shown)} more: see the Home tab")}
                ],
            }
        )
    respond(text=f"Your open action items ({len(items)})", blocks=blocks)

"""DM buttons on action items, the status modal, and `/postmortem actions`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.action_items import service as reminders
from bot.action_items import views
from bot.delivery.service import record
from bot.reviews.status import status_effect
from bot.reviews.views.review_message import ADD_ITEM
from bot.runtime import Runtime
from bot.slack import state
from bot.slack.text import escape
from bot.slack.views import notice_view
from storage import reviews as store
from storage.db import transaction
from storage.models import ActionItem
from workflows.nudges import snooze_until

log = logging.getLogger(__name__)
MAX_LISTED = 15


def _after_change(
    rt: Runtime,
    client: WebClient,
    body: dict,
    change: reminders.Change,
    respond: Respond | None = None,
) -> None:
    """Answer the person who clicked; the rest (the card and the message clicked redrawn, the
    review's message, the owner's notices) was recorded with the change and is on its way.

    A refusal is said at once, ephemerally; an ephemeral `/postmortem actions` list is built
    again through its response_url, so the clicker sees the item's new state straight away."""
    if change.item is None:
        _tell(client, body, "That action item no longer exists.")
        return
    rt.delivery_due.set()  # the outbox has the redraws: wake the delivery worker
    if change.refused:
        _tell(client, body, change.refused)
    container = body.get("container") or {}
    if container.get("is_ephemeral") and respond is not None:
        respond(
            replace_original=True, **actions_message(rt, body["team"]["id"], body["user"]["id"])
        )


def clicked_message(body: dict) -> reminders.Message | None:
    """The (channel, ts) of the message clicked, when it is one the bot can rewrite: not an
    ephemeral one, not Home or a modal."""
    container = body.get("container") or {}
    if container.get("type") == "message" and not container.get("is_ephemeral"):
        return (container["channel_id"], container["message_ts"])
    return None


def _tell(client: WebClient, body: dict, text: str, *, escaped: bool = False) -> None:
    """A message only the person who clicked sees, where they clicked; from Home or a modal
    (no channel), in their DM with the bot. `text` is escaped here unless the caller built it
    as mrkdwn (`escaped`)."""
    user_id = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (
        client.conversations_open(users=user_id)["channel"]["id"]
    )
    client.chat_postEphemeral(channel=channel, user=user_id, text=text if escaped else escape(text))


def _owner_or_admin(rt: Runtime, item_id: int, user_id: str) -> bool:
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:
            return False
        allowed = user_id in (item.owner_id, item.review.owner_id)
    return allowed or rt.is_admin(user_id)


def guarded(rt: Runtime, body: dict, item_id: int, client: WebClient) -> bool:
    with transaction(rt.sessions) as session:  # deleted, or another workspace's (its id replayed)
        missing = session.get(ActionItem, item_id) is None
    if missing:
        _tell(client, body, "That action item no longer exists.")
        return False
    if _owner_or_admin(rt, item_id, body["user"]["id"]):
        return True
    _tell(client, body, "Only the item's owner, the review's owner or an admin can change it.")
    return False


def done(
    ack: Ack,
    body: dict,
    action: dict,
    client: WebClient,
    rt: Runtime,
    respond: Respond | None = None,
) -> None:
    ack()
    item_id = int(action["value"])
    if guarded(rt, body, item_id, client):
        change = reminders.update_item(
            rt, item_id, body["user"]["id"], clicked=clicked_message(body), status="done"
        )
        _after_change(rt, client, body, change, respond)


def snooze(
    ack: Ack,
    body: dict,
    action: dict,
    client: WebClient,
    rt: Runtime,
    respond: Respond | None = None,
) -> None:
    ack()
    item_id, choice = action["selected_option"]["value"].split(":", 1)
    _snooze(rt, body, int(item_id), choice, client, respond)


def snooze_date(
    ack: Ack,
    body: dict,
    action: dict,
    client: WebClient,
    rt: Runtime,
    respond: Respond | None = None,
) -> None:
    ack()
    item_id = int(action["block_id"].split(".")[1])
    chosen = date.fromisoformat(action["selected_date"])
    tz = rt.people.timezone(body["user"]["id"], rt.settings.timezone)
    if chosen < datetime.now(ZoneInfo(tz)).date():
        _tell(client, body, "Pick a date from today on to snooze until.")
        return
    _snooze(rt, body, item_id, chosen, client, respond)


def _snooze(
    rt: Runtime, body: dict, item_id: int, choice: Any, client: WebClient, respond: Respond | None
) -> None:
    if not guarded(rt, body, item_id, client):
        return
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:  # gone since guarded() looked
            _tell(client, body, "That action item no longer exists.")
            return
        pol = reminders.policy(rt, item.review.workspace)
        tz = rt.people.timezone(item.owner_id, rt.settings.timezone)
    until = snooze_until(choice, reminders.utcnow(), tz, pol)
    change = reminders.update_item(
        rt, item_id, body["user"]["id"], clicked=clicked_message(body), snoozed_until=until
    )
    _after_change(rt, client, body, change, respond)


def status_clicked(
    ack: Ack,
    body: dict,
    action: dict,
    client: WebClient,
    rt: Runtime,
    respond: Respond | None = None,
) -> None:
    """Open the status modal; for a done item (an older message's button) it asks to reopen."""
    ack()
    item_id = int(action["value"])
    if not guarded(rt, body, item_id, client):
        return
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:
            return
        refused = reminders.refusal(item, {}, reopen=False) if item.status == "cancelled" else None
        view = reminders.view_of(rt, item)
    if refused:
        _tell(client, body, refused)
    else:
        client.views_open(
            trigger_id=body["trigger_id"], view=views.status_modal(view, home=clicked_on_home(body))
        )
    if refused or view.status == "done":  # clicked on an older message: show it as it is now
        reminders.show_current(rt, item_id, clicked_message(body), body["user"]["id"])
        container = body.get("container") or {}
        if container.get("is_ephemeral") and respond is not None:
            user_id = body["user"]["id"]
            respond(replace_original=True, **actions_message(rt, body["team"]["id"], user_id))


def status_saved(ack: Ack, body: dict, view: dict, client: WebClient, rt: Runtime) -> None:
    item_key, *flags = view["private_metadata"].split(":")
    item_id = int(item_key)
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
    change = reminders.update_item(
        rt,
        item_id,
        body["user"]["id"],
        status=status,
        status_note=note,
        reopen=views.REOPEN in flags,
    )
    if change.refused:  # it was done (or cancelled) while the modal was open
        ack(response_action="errors", errors={"status": change.refused})
        return
    ack()
    rt.delivery_due.set()  # the card, the review's message and a blocked notice are on their way


def nudge_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """The review owner's "Nudge the owner" (an escalation, or Home)."""
    ack()
    item_id = int(action["value"])
    if not guarded(rt, body, item_id, client):
        return
    _tell(client, body, reminders.nudge_owner(rt, item_id, body["user"]["id"]), escaped=True)


def reassign_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    item_id = int(action["value"])
    if not guarded(rt, body, item_id, client):
        return
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:
            return
        view = reminders.view_of(rt, item)
    if view.status in reminders.OPEN:
        client.views_open(
            trigger_id=body["trigger_id"],
            view=views.reassign_modal(view, home=clicked_on_home(body)),
        )
        return
    _tell(
        client, body, f"“{view.title}” is already {view.status}: there is nobody to reassign it to."
    )
    with transaction(rt.sessions) as session:  # the notice clicked shows it as it is now
        record(session, [reminders.notices_effect(item_id)])
    rt.delivery_due.set()


def reassign_saved(ack: Ack, body: dict, view: dict, client: WebClient, rt: Runtime) -> None:
    """A new owner from the reassign modal: they get the card, the former owner's loses its
    buttons (notify_changes), and the escalations and the review's message follow."""
    item_id = int(view["private_metadata"].split(":")[0])
    owner = state.user(view["state"]["values"], "owner")
    if not owner:
        ack(response_action="errors", errors={"owner": "Choose who owns it now."})
        return
    if not _owner_or_admin(rt, item_id, body["user"]["id"]):
        ack(
            response_action="errors",
            errors={
                "owner": "Only the item's owner, the review's owner or an admin can change it."
            },
        )
        return
    refused, _, _ = reminders.reassign(rt, item_id, owner, body["user"]["id"])
    if refused:
        ack(response_action="errors", errors={"owner": refused})
        return
    ack()
    # The new owner's card, the former one's, notices, the review message, the tracker's task.
    rt.delivery_due.set()


def owner_menu(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """Home's menu on an item of my review: "nudge:<id>" or "reassign:<id>"."""
    what, _, item_id = action["selected_option"]["value"].partition(":")
    chosen = {**action, "value": item_id}
    if what == "reassign":
        reassign_clicked(ack=ack, body=body, action=chosen, client=client, rt=rt)
    else:
        nudge_clicked(ack=ack, body=body, action=chosen, client=client, rt=rt)


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
    assert title and owner and due  # each missing one has an error above
    try:
        with transaction(rt.sessions) as session:
            review = store.get_review(session, int(view["private_metadata"]))
            if review is not None:
                item = store.add_action_item(
                    session,
                    review,
                    title=title,
                    owner_id=owner,
                    due=date.fromisoformat(due),
                    tracking_link=link,
                    actor=body["user"]["id"],
                )
                session.flush()
                record(
                    session,
                    [
                        *reminders.assignment_effects(
                            [(item.id, True, None)],
                            tracker=reminders.tracker_in_use(rt, review.workspace) is not None,
                        ),
                        status_effect(review.id),
                    ],
                )
    except Exception:  # the database is down or read-only: say so in the form, which stays open
        log.exception("saving an action item for review %s failed", view["private_metadata"])
        ack(response_action="errors", errors={"title": ADD_FAILED})
        return
    if review is None:
        ack(
            response_action="update",
            view=notice_view("Review gone", "That review no longer exists."),
        )
        return
    ack()
    rt.delivery_due.set()


ADD_FAILED = "Saving failed on our side. What you typed is still here: try Add again in a minute."


def open_review(ack: Ack) -> None:
    ack()  # a link button: Slack opens the URL; the click still needs acknowledging


def confirm(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """ "Yes, improvements implemented": recorded, and the question redrawn as confirmed by the
    outbox (recorded with the confirmation); only a refusal is answered here, ephemerally."""
    ack()
    user_id = body["user"]["id"]
    container = body.get("container") or {}
    clicked = clicked_message(body)
    confirmed, review = reminders.confirm_improvements(
        rt, int(action["value"]), user_id, clicked=clicked
    )
    if review is None:
        return
    if confirmed or review.improvements_confirmed_at:
        rt.delivery_due.set()
    else:
        client.chat_postEphemeral(
            channel=container.get("channel_id") or user_id,
            user=user_id,
            text=("Only the review's owner or an admin can confirm."),
        )


def clicked_on_home(body: dict) -> bool:
    """A click on the App Home tab (Slack sends the Home view with it)."""
    return (body.get("view") or {}).get("type") == "home"


def from_home(body: dict) -> bool:
    """A click on Home, or a modal opened from Home (its private_metadata ends ":home").

    The home feature handles these with the same listeners and then draws Home again; every
    other request for an item is handled here. The two sets never overlap, so the order the
    features are wired in does not matter."""
    view = body.get("view") or {}
    if view.get("type") == "home":
        return True
    return views.HOME in str(view.get("private_metadata") or "").split(":")[1:]


def not_from_home(body: dict) -> bool:
    return not from_home(body)


ITEM_ACTIONS: dict[str, Callable[..., None]] = {
    views.DONE: done,
    views.SNOOZE: snooze,
    views.SNOOZE_DATE: snooze_date,
    views.STATUS: status_clicked,
    views.NUDGE_OWNER: nudge_clicked,
    views.REASSIGN: reassign_clicked,
    views.OWNER_MENU: owner_menu,
}
"""An item's buttons, wherever they are shown (its card, lists, notices, Home)."""
ITEM_MODALS: dict[str, Callable[..., None]] = {
    views.STATUS_CALLBACK: status_saved,
    views.REASSIGN_CALLBACK: reassign_saved,
}


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    for action_id, listener in ITEM_ACTIONS.items():
        app.action(action_id, matchers=[not_from_home])(listener)
    for callback_id, listener in ITEM_MODALS.items():
        app.view(callback_id, matchers=[not_from_home])(listener)
    app.action(ADD_ITEM)(add_clicked)
    app.view(views.ADD_CALLBACK)(add_submitted)
    app.action(views.OPEN)(open_review)
    app.action(views.CONFIRM_IMPROVEMENTS)(confirm)


def actions_message(rt: Runtime, team_id: str, user_id: str) -> dict[str, Any]:
    """`/postmortem actions`: the person's open items, soonest first, each with its buttons."""
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team_id)
        listed = reminders.items_of(rt, session, user_id, ws.id, MAX_LISTED)
    items, total = listed.items, listed.total
    if not items:
        text = "You have no open action items. :tada:"
        return {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Your open action items* ({total}), soonest first",
            },
        }
    ]
    for view in items:  # at most 15: 1 + 3 blocks each + "and more", within a message's 50
        blocks += views.item_blocks(view, "Action item")["blocks"]
        blocks.append({"type": "divider"})
    if total > len(items):
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": (f"and {total - len(items)} more: see the Home tab")}
                ],
            }
        )
    return {"text": f"Your open action items ({total})", "blocks": blocks}


def my_actions(rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient) -> None:
    respond(**actions_message(rt, command["team_id"], command["user_id"]))

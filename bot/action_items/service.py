"""Action items: assignment DMs, changes from buttons, and each item's reminder schedule.

The reminders themselves are sent by the sweep in bot/action_items/nudges.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import object_session

from bot.action_items.views import (
    ItemView,
    improvements_blocks,
    item_blocks,
)
from bot.delivery.service import record
from bot.features import SideEffect, StageSaved, payload_int
from bot.runtime import Runtime
from bot.slack import posted
from storage import reviews as store
from storage.db import transaction
from storage.models import ActionItem, Review, Workspace
from storage.outbox import Claimed
from storage.trackers import TaskLink, task_link
from storage.types import utcnow
from workflows.nudges import (
    ItemSchedule,
    NudgePolicy,
    next_nudge_at,
)

log = logging.getLogger(__name__)

OPEN = store.OPEN_ITEM_STATUSES
STALE_CLAIM = timedelta(minutes=10)
PERMANENT_ERRORS = {"user_not_found", "account_inactive", "user_disabled", "channel_not_found",
                    "cannot_dm_bot", "is_archived", "user_is_restricted", "not_allowed"}
METADATA_EVENT = "postmortem_nudge"


def reminder_settings(ws: Workspace) -> dict[str, int]:
    """The workspace's reminder settings over the defaults (README: "Reminders")."""
    defaults = {"due_soon_days": 2, "overdue_every_days": 2, "escalate_after_days": 3,
                "hour": 9, "catch_up_hours": 24}
    saved = (ws.settings or {}).get("reminders", {})
    return {k: int(saved.get(k, v)) for k, v in defaults.items()}


def policy(rt: Runtime, ws: Workspace) -> NudgePolicy:
    s = reminder_settings(ws)
    return NudgePolicy(due_soon_days=s["due_soon_days"],
                       overdue_every_days=s["overdue_every_days"],
                       escalate_after_days=s["escalate_after_days"], hour=s["hour"],
                       state=rt.settings.state, default_tz=rt.settings.timezone)


def schedule(item: ActionItem, owner_tz: str | None) -> ItemSchedule | None:
    if item.due_date is None:
        return None
    return ItemSchedule(item_id=item.id, due_date=item.due_date, status=item.status,
                        owner_tz=owner_tz, assigned_at=item.assigned_at,
                        snoozed_until=item.snoozed_until)


def reschedule(rt: Runtime, item: ActionItem, ws: Workspace, now: datetime | None = None) -> None:
    """Recompute when the item's next nudge falls due (after any change to it)."""
    sched = schedule(item, rt.people.timezone(item.owner_id, rt.settings.timezone))
    item.next_nudge_at = (next_nudge_at(sched, policy(rt, ws), now or utcnow())
                          if sched and item.status in OPEN else None)


def _task_link(item: ActionItem) -> TaskLink | None:
    """The item's task in the team's tracker, when bot/trackers has filed one."""
    session = object_session(item)
    return task_link(session, item.id) if session is not None else None


def view_of(rt: Runtime, item: ActionItem) -> ItemView:
    tz = ZoneInfo(rt.people.timezone(item.owner_id, rt.settings.timezone))
    return ItemView(id=item.id, title=item.title, status=item.status, due=item.due_date,
                    owner_id=item.owner_id, review_title=item.review.title,
                    permalink=item.review.permalink, note=item.status_note,
                    snoozed_until=item.snoozed_until.astimezone(tz) if item.snoozed_until
                    else None, task=_task_link(item))


# --- assignment ------------------------------------------------------------------------------


ASSIGNMENT_EVENT = "postmortem_assignment"


def notify_assignment(rt: Runtime, item_id: int, previous_owner: str | None = None, *,
                      retrying: bool = False) -> None:
    """DM the owner at once; on reassignment tell the new owner and the old one.

    When `retrying` (an earlier attempt may have reached Slack), the DM is looked up by its
    metadata before it is posted again.
    """
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None or item.status == "cancelled":
            return
        reschedule(rt, item, item.review.workspace)
        view = view_of(rt, item)
    headline = ("Reassigned to you" if previous_owner else "New action item for you")
    found: tuple[str, str] | None = None
    if retrying:
        channel = rt.client.conversations_open(users=view.owner_id)["channel"]["id"]
        ts = posted.find(rt.client, channel, ASSIGNMENT_EVENT, item_id=item_id,
                         owner=view.owner_id)
        found = (channel, ts) if ts else None
    if found is None:
        reply = rt.client.chat_postMessage(
            channel=view.owner_id, **item_blocks(view, headline),
            metadata=posted.metadata(ASSIGNMENT_EVENT, item_id=item_id, owner=view.owner_id))
        found = (str(reply["channel"]), str(reply["ts"]))
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        item.dm_channel, item.dm_ts = found
    if previous_owner and previous_owner != view.owner_id:
        rt.client.chat_postMessage(channel=previous_owner, text=(
            f"“{view.title}” in {view.review_title} is now owned by <@{view.owner_id}>: "
            "you will get no more reminders about it."))


def assignment_effects(changes: list[tuple[int, bool, str | None]]) -> list[SideEffect]:
    """One effect per item created or reassigned: each owner's DM is delivered on its own."""
    effects = []
    for item_id, created, previous_owner in changes:
        if created or previous_owner:
            effects += [SideEffect("action_items.assigned", {"item_id": item_id,
                                                             "previous_owner": previous_owner}),
                        # its task in the tracker (bot/trackers: nothing when none is set up)
                        SideEffect("trackers.create", {"item_id": item_id},
                                   group=f"tracker:{item_id}")]
    return effects


def after_stage(saved: StageSaved) -> list[SideEffect]:
    """The owners of the action items the stage created or reassigned are told."""
    return assignment_effects(saved.result.item_changes)


def deliver_assignment(rt: Runtime, effect: Claimed) -> None:
    previous = effect.payload.get("previous_owner")
    notify_assignment(rt, payload_int(effect.payload, "item_id"),
                      str(previous) if previous else None, retrying=effect.attempt > 1)


def notify_changes(rt: Runtime, changes: list[tuple[int, bool, str | None]]) -> None:
    """(item id, created, previous owner) each: tell new and former owners, one at a time."""
    for item_id, created, previous_owner in changes:
        if created or previous_owner:
            try:
                notify_assignment(rt, item_id, previous_owner)
            except SlackApiError as exc:  # the item is saved; the sweep will still nudge
                log.error("assignment DM for item %s failed: %s", item_id,
                          exc.response.get("error"))


# --- changes from buttons --------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    changed: bool
    item: ItemView | None
    review_id: int | None = None
    all_done: bool = False


def update_item(rt: Runtime, item_id: int, actor: str, **fields: Any) -> Change:
    """Apply a change from a DM button; applying the same change twice changes nothing more."""
    with transaction(rt.sessions) as session:
        item = session.scalar(select(ActionItem).where(ActionItem.id == item_id)
                              .with_for_update())
        if item is None:
            return Change(False, None)
        if fields.get("status") == "done" and item.status != "done":
            fields["completed_at"] = utcnow()
        changes = {k: v for k, v in fields.items() if getattr(item, k) != v}
        for key, value in changes.items():
            setattr(item, key, value)
        if changes:
            store.audit(session, item.review.workspace_id, actor, "action_item.updated",
                        item.review_id, item=item.id,
                        **{k: v.isoformat() if isinstance(v, date | datetime) else v
                           for k, v in changes.items()})
            reschedule(rt, item, item.review.workspace)
        if changes.get("status") == "done" and rt.settings.tracker is not None:
            record(session, [SideEffect("trackers.close", {"item_id": item.id},
                                        group=f"tracker:{item.id}")])  # bot/trackers
        review = item.review
        all_done = bool(changes.get("status") == "done" and review.improvements_asked_at is None
                        and all(i.status in ("done", "cancelled") for i in review.action_items))
        if all_done:
            review.improvements_asked_at = utcnow()
        return Change(bool(changes), view_of(rt, item), review.id, all_done)


def confirm_improvements(rt: Runtime, review_id: int, actor: str) -> tuple[bool, Review | None]:
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id, for_update=True)
        if review is None or review.improvements_confirmed_at is not None:
            return False, review
        if actor != review.owner_id and not rt.is_admin(actor):
            return False, review
        review.improvements_confirmed_at, review.improvements_confirmed_by = utcnow(), actor
        store.audit(session, review.workspace_id, actor, "review.improvements_confirmed",
                    review.id)
        return True, review


def ask_to_confirm(rt: Runtime, review_id: int) -> None:
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        owner, title, permalink = review.owner_id, review.title, review.permalink
    rt.client.chat_postMessage(channel=owner, **improvements_blocks(review_id, title, permalink))

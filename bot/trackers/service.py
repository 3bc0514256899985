"""Keeping action items and their tracker tasks in step, both ways.

Slack to tracker goes through the outbox: `trackers.create` (recorded with every assignment) and
`trackers.close` (recorded with "Mark done"), each retried on its own until the tracker takes it.
Tracker to Slack arrives by signed webhook or by the reconcile, and goes through the action
items' own `update_item`, so nudges stop or move exactly as for a change made in Slack.

Creation happens exactly once: the attempt is recorded (and committed) before the tracker is
asked, and an attempt that follows one whose answer was lost looks the task up by its marker
before creating another.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.action_items import service as items
from bot.action_items.views import item_blocks
from bot.delivery.service import record
from bot.features import PermanentError, SideEffect, payload_int
from bot.reviews.status import status_effect
from bot.runtime import Runtime
from bot.slack import posted
from bot.slack.text import escape
from bot.slack.text import link as slack_link
from bot.trackers import adapters
from bot.trackers import settings as tracker_settings
from bot.trackers.base import Change, NewTask, Task, Tracker, TrackerError, TrackerRateLimited
from storage import trackers as store
from storage.db import transaction
from storage.models import ActionItem
from storage.outbox import PENDING, Claimed, Effect
from storage.types import utcnow

log = logging.getLogger(__name__)

CREATE, CLOSE, REWRITE = "trackers.create", "trackers.close", "trackers.dm"
ASSIGN, UNASSIGNED, CANCELLED = "trackers.assign", "trackers.unassigned", "trackers.cancelled"
CANCELLED_EVENT = "postmortem_task_cancelled"
UNASSIGNED_EVENT = "postmortem_task_unassigned"
SETTINGS_KEY = store.SETTINGS_KEY  # Workspace.settings["trackers"]: {"github_logins": {U…: login}}


def tracker_of(rt: Runtime, session: Session | None = None) -> Tracker | None:
    """The tracker in effect's adapter (the workspace's choice, else the environment's), or
    None when action items stay in Slack only."""
    chosen = tracker_settings.current(rt, session)
    return None if chosen is None else adapters.make(chosen, rt.settings.timezone)


def group(item_id: int) -> str:
    """An item's tracker effects run in order: a close never overtakes the creation."""
    return f"tracker:{item_id}"


def create_effect(item_id: int) -> SideEffect:
    return SideEffect(CREATE, {"item_id": item_id}, group=group(item_id))


def close_effect(item_id: int) -> SideEffect:
    return SideEffect(CLOSE, {"item_id": item_id}, group=group(item_id))


def unassigned_effect(item_id: int, owner_id: str) -> SideEffect:
    return SideEffect(UNASSIGNED, {"item_id": item_id, "owner": owner_id}, group=group(item_id))


# --- Slack to tracker ----------------------------------------------------------------------


def request_task(rt: Runtime, item_id: int, user_id: str) -> str:
    """ "Create task" on an item that has none: the same `trackers.create` as an assignment
    records, so the task is filed once however often it is clicked. What to tell the clicker
    (mrkdwn, escaped)."""
    with rt.sessions() as session:
        item = session.get(ActionItem, item_id)
        owners = (item.owner_id, item.review.owner_id) if item is not None else ()
    if item is None:
        return "That action item no longer exists."
    # Slack is asked (admin?) before the transaction, so no row is locked while it answers.
    if user_id not in owners and not rt.is_admin(user_id):
        return "Only the item's owner, the review's owner or an admin can file its task."
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:
            return "That action item no longer exists."
        title = escape(f"“{item.title}”")
        review = item.review
        name = items.tracker_in_use(rt, review.workspace)
        if name is None:
            return (
                "No tracker is set up, so there is nowhere to file it: an admin can choose one "
                "with `/postmortem tracker`."
            )
        label = store.TRACKER_NAMES.get(name, name)
        if item.status not in items.OPEN:
            return f"{title} is already {item.status}: no task is filed for it."
        link = store.task_link(session, item_id)
        if link is not None:
            return f"{title} already has a task: {slack_link(link.url, link.label)}."
        if not _pending(session, CREATE, item_id):  # a second click adds nothing
            record(session, [create_effect(item_id)])
    rt.delivery_due.set()
    return f"Filing {title} in {label}: its link will appear on the item's card."


def _pending(session: Session, kind: str, item_id: int) -> bool:
    """Whether an effect of `kind` for the item is still waiting in the outbox."""
    payloads = session.scalars(
        select(Effect.payload).where(Effect.kind == kind, Effect.status == PENDING)
    )
    return any(payload.get("item_id") == item_id for payload in payloads)


class TrackerBusy(TrackerError):
    """Another worker holds the creation's lease: try again shortly."""


def _assignee(
    rt: Runtime, tracker: Tracker, owner_id: str, ws_settings: dict[str, Any]
) -> str | None:
    """The owner as the tracker knows them: by e-mail, or (GitHub) the workspace's mapping.

    A lookup the tracker refuses (no permission to browse users) files the task unassigned
    rather than not at all; an outage is retried like the creation itself.
    """
    if tracker.name == "github":
        logins = (ws_settings.get(SETTINGS_KEY) or {}).get("github_logins") or {}
        login = logins.get(owner_id)
        return str(login) if login else None
    profile = (rt.people.info(owner_id) or {}).get("profile") or {}
    email = str(profile.get("email") or "").strip()
    if not email:
        return None  # Slack hides e-mails without the users:read.email scope
    try:
        return tracker.find_user(email)
    except TrackerError as exc:
        if isinstance(exc, PermanentError):
            log.warning("%s user lookup refused; filing unassigned: %s", tracker.name, exc)
            return None
        raise


def ensure_task(
    rt: Runtime, tracker: Tracker, item_id: int, now: datetime | None = None
) -> Task | None:
    """The item's task, created if it has none; None when there is nothing to create.

    Raises when the tracker is unavailable (the caller retries) or another worker is creating
    the same task right now.
    """
    now = now or utcnow()
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None or item.status not in items.OPEN:
            return None
        existing = store.for_item(session, item_id)
        if existing is not None and existing.external_id is not None:
            return None
        attempt = store.claim_creation(session, item_id, tracker.name, now)
        if attempt is None:
            raise TrackerBusy(f"another worker is creating the task of item {item_id}")
        review = item.review
        new = NewTask(
            item_id=item.id,
            title=item.title,
            review_title=review.title,
            review_url=review.permalink,
            due=item.due_date,
            details=tuple(
                line
                for line in (
                    f"Tracking link: {item.tracking_link}" if item.tracking_link else "",
                    f"Note: {item.status_note}" if item.status_note else "",
                )
                if line
            ),
        )
        owner, ws_settings = item.owner_id, dict(review.workspace.settings or {})
        review_id = review.id
    # Slack and the tracker are asked outside the transaction: no lock is held while they answer.
    owner_name = str((rt.people.info(owner) or {}).get("real_name") or owner)
    new = replace(new, details=(f"Owner in Slack: {owner_name}", *new.details))
    unassigned = False  # a task found again keeps whoever it has
    try:
        found = tracker.find(item_id) if attempt.earlier_attempts else None
        if found is None:
            assignee = _assignee(rt, tracker, owner, ws_settings)
            unassigned = assignee is None
        task = found or tracker.create(replace(new, assignee=assignee))
    except Exception as exc:
        with transaction(rt.sessions) as session:
            store.release(session, attempt.row_id, f"{type(exc).__name__}: {exc}")
        raise
    with transaction(rt.sessions) as session:
        store.record_created(
            session,
            attempt.row_id,
            external_id=task.external_id,
            reference=task.reference,
            url=task.url,
            due=task.due or new.due,
            closed=task.closed,
        )
        # the owner's DM and the review's status message show the link
        record(
            session,
            [
                SideEffect(REWRITE, {"item_id": item_id}),
                status_effect(review_id),
                *([unassigned_effect(item_id, owner)] if unassigned else []),
            ],
        )
    rt.delivery_due.set()
    log.info(
        "item %s: %s task %s %s",
        item_id,
        tracker.name,
        task.reference,
        "found" if found else "created",
    )
    return task


def deliver_create(rt: Runtime, effect: Claimed) -> None:
    """`trackers.create`: file the item's task (nothing when no tracker is configured)."""
    tracker = tracker_of(rt)
    if tracker is not None:
        ensure_task(rt, tracker, payload_int(effect.payload, "item_id"))


def deliver_close(rt: Runtime, effect: Claimed) -> None:
    """`trackers.close`: the item was marked done in Slack; close its task as done."""
    tracker = tracker_of(rt)
    if tracker is None:
        return
    item_id = payload_int(effect.payload, "item_id")
    with transaction(rt.sessions) as session:
        row = store.for_item(session, item_id)
        if row is None or row.status == store.CLOSED:
            return
        if row.external_id is None:
            if row.lease_until is not None and row.lease_until > utcnow():
                raise TrackerBusy(f"the task of item {item_id} is still being created")
            return  # never created: nothing to close (the reconcile files open items only)
        external_id, row_id = row.external_id, row.id
    tracker.close(external_id)
    with transaction(rt.sessions) as session:
        row = session.get(store.TrackerTask, row_id)
        if row is not None:
            row.status = store.CLOSED


def deliver_assign(rt: Runtime, effect: Claimed) -> None:
    """`trackers.assign`: the item has a new owner; so has its task (mapped by e-mail, or the
    GitHub login mapping). Unmapped: the task is left unassigned and the owner is told once."""
    tracker = tracker_of(rt)
    if tracker is None:
        return
    item_id = payload_int(effect.payload, "item_id")
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        row = store.for_item(session, item_id)
        if item is None or row is None or item.status not in items.OPEN:
            return  # no task yet: its creation files it with the owner of that moment
        if row.external_id is None:
            if row.lease_until is not None and row.lease_until > utcnow():
                raise TrackerBusy(f"the task of item {item_id} is still being created")
            return
        if row.tracker != tracker.name or row.status == store.CLOSED:
            return
        external_id, owner = row.external_id, item.owner_id
        ws_settings = dict(item.review.workspace.settings or {})
    assignee = _assignee(rt, tracker, owner, ws_settings)
    tracker.assign(external_id, assignee)
    log.info("item %s: %s task %s reassigned", item_id, tracker.name, external_id)
    if assignee is None:
        with transaction(rt.sessions) as session:
            record(session, [unassigned_effect(item_id, owner)])
        rt.delivery_due.set()


def deliver_unassigned(rt: Runtime, effect: Claimed) -> None:
    """`trackers.unassigned`: tell the owner, once, that their task has no assignee and why."""
    item_id, owner = payload_int(effect.payload, "item_id"), str(effect.payload.get("owner"))
    tracker = tracker_of(rt)
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        link = store.task_link(session, item_id)
        if item is None or link is None or item.owner_id != owner or tracker is None:
            return  # reassigned again meanwhile: that owner's own notice follows
        title = item.title
    name = store.TRACKER_NAMES.get(tracker.name, tracker.name)
    why = (
        "no GitHub login is mapped to you (an admin can add it with "
        "`postmortem-bot trackers github-login`)"
        if tracker.name == "github"
        else f"I found no {name} user with the e-mail of your Slack profile"
    )
    channel = rt.client.conversations_open(users=owner)["channel"]["id"]
    if effect.attempt > 1 and posted.find(
        rt.client, channel, UNASSIGNED_EVENT, item_id=item_id, owner=owner
    ):
        return
    rt.client.chat_postMessage(
        channel=channel,
        text=(
            f"Your task {slack_link(link.url, link.label)} for “{escape(title)}” is unassigned "
            f"in {name}: {why}. Assign it to yourself there so it shows in your {name} work."
        ),
        metadata=posted.metadata(UNASSIGNED_EVENT, item_id=item_id, owner=owner),
    )


def deliver_cancelled(rt: Runtime, effect: Claimed) -> None:
    """`trackers.cancelled`: the task was closed as not planned, so the item was cancelled and
    its reminders stopped; its owner is told (once) why, and what to do if it still matters."""
    item_id = payload_int(effect.payload, "item_id")
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        link = store.task_link(session, item_id)
        if item is None or link is None or item.status != "cancelled":
            return
        owner, title, review_title = item.owner_id, item.title, item.review.title
    channel = rt.client.conversations_open(users=owner)["channel"]["id"]
    if effect.attempt > 1 and posted.find(rt.client, channel, CANCELLED_EVENT, item_id=item_id):
        return
    name = store.TRACKER_NAMES.get(link.tracker, link.tracker)
    rt.client.chat_postMessage(
        channel=channel,
        text=(
            f"{slack_link(link.url, link.label)} was closed as *not planned* in {name}, so "
            f"“{escape(title)}” ({escape(review_title)}) is cancelled here: no more reminders "
            f"about it. If it still needs doing, ask the review's owner to add it again."
        ),
        metadata=posted.metadata(CANCELLED_EVENT, item_id=item_id),
    )


def _dm_on_its_way(session: Session, item_id: int) -> bool:
    """Whether the item's assignment DM is still pending in the outbox (maybe being sent now:
    it may have been built before the task existed, so it is rewritten once it is out)."""
    return _pending(session, "action_items.assigned", item_id)


def deliver_rewrite(rt: Runtime, effect: Claimed) -> None:
    """`trackers.dm`: the owner's DM shows the item as it is now (its task link, its state)."""
    item_id = payload_int(effect.payload, "item_id")
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:
            return
        if not (item.dm_channel and item.dm_ts):
            if _dm_on_its_way(session, item_id):
                raise TrackerBusy(f"the DM of item {item_id} is still on its way")
            return  # never DMed (an item from before the outbox): nothing to rewrite
        view = items.view_of(rt, item)
        channel, ts, review_id = item.dm_channel, item.dm_ts, item.review_id
    rt.client.chat_update(channel=channel, ts=ts, **item_blocks(view, "Action item"))
    if effect.payload.get("ask_to_confirm"):
        items.ask_to_confirm(rt, review_id)


# --- tracker to Slack ----------------------------------------------------------------------


def apply(rt: Runtime, tracker_name: str, changes: list[Change]) -> int:
    """Apply what the tracker says changed to the linked items; how many items changed.

    Tasks the bot did not file are ignored. Closing marks the item done (its nudges stop);
    reopening opens it again; a new due date moves its nudges. Each goes through the action
    items' `update_item`, as a click in Slack would, and the owner's DM is rewritten.
    """
    applied = 0
    for change in changes:
        with transaction(rt.sessions) as session:
            row = store.by_external_id(session, tracker_name, change.external_id)
            if row is None:
                continue
            item = session.get(ActionItem, row.item_id)
            if item is None:
                continue
            fields: dict[str, Any] = {}
            cancelled = False
            if change.cancelled and row.status != store.CLOSED:
                row.status = store.CLOSED
                if item.status in items.OPEN:
                    name = store.TRACKER_NAMES.get(tracker_name, tracker_name)
                    fields["status"] = "cancelled"
                    fields["status_note"] = f"Closed as not planned in {name} {row.reference}"
                    cancelled = True
            elif change.closed is True and row.status != store.CLOSED:
                row.status = store.CLOSED  # before update_item records a close: it is closed
                if item.status in items.OPEN:
                    fields["status"] = "done"
            elif change.closed is False and row.status == store.CLOSED:
                row.status = store.OPEN
                if item.status == "done":
                    fields["status"] = "open"
            if change.due_changed and change.due is not None and change.due != row.due_date:
                row.due_date = change.due
                if change.due != item.due_date and item.status in items.OPEN:
                    fields["due_date"] = change.due
            item_id = item.id
        if not fields:
            continue
        result = items.update_item(rt, item_id, tracker_name, effects=False, **fields)
        if not result.changed:
            continue
        applied += 1
        with transaction(rt.sessions) as session:
            record(
                session,
                [
                    SideEffect(REWRITE, {"item_id": item_id, "ask_to_confirm": result.all_done}),
                    *([status_effect(result.review_id)] if result.review_id else []),
                    *([SideEffect(CANCELLED, {"item_id": item_id})] if cancelled else []),
                ],
            )
        rt.delivery_due.set()
    return applied


# --- the reconcile -------------------------------------------------------------------------


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"created {self.created}, updated {self.updated}, failed {self.failed}"


def sync(rt: Runtime, now: datetime | None = None) -> SyncResult:
    """One reconcile pass: file open items that have no task, read back every open task.

    The fallback for a bot without a public URL (no webhooks), and for deliveries a webhook
    missed. A rate limit ends the pass early; the next pass continues.
    """
    result = SyncResult()
    tracker = tracker_of(rt)
    if tracker is None:
        return result
    with transaction(rt.sessions) as session:
        missing = store.items_without_task(session, items.OPEN)
        linked = [
            (r.item_id, str(r.external_id), r.status)
            for r in store.open_tasks(session, tracker.name)
        ]
        item_status = {
            row[0]: row[1]
            for row in session.execute(
                select(ActionItem.id, ActionItem.status).where(
                    ActionItem.id.in_([item_id for item_id, _, _ in linked])
                )
            )
        }
    try:
        for item_id in missing:
            try:
                if ensure_task(rt, tracker, item_id, now) is not None:
                    result.created += 1
            except TrackerRateLimited:
                raise
            except Exception as exc:  # one item's failure never stops the others
                log.warning("reconcile: creating the task of item %s failed: %s", item_id, exc)
                result.failed += 1
        for item_id, external_id, status in linked:
            try:
                result.updated += _reconcile_one(
                    rt, tracker, item_id, external_id, status, item_status.get(item_id)
                )
            except TrackerRateLimited:
                raise
            except Exception as exc:
                log.warning(
                    "reconcile: reading %s task %s failed: %s", tracker.name, external_id, exc
                )
                result.failed += 1
    except TrackerRateLimited as exc:
        log.warning("reconcile stopped early: %s", exc)
        result.failed += 1
    return result


def _reconcile_one(
    rt: Runtime,
    tracker: Tracker,
    item_id: int,
    external_id: str,
    status: str,
    item_status: str | None,
) -> int:
    """Read one task back; 1 when that changed the item (or closed a task left open)."""
    task = tracker.get(external_id)
    if task is None:
        return 0  # deleted in the tracker: the item stays as it is in Slack
    if item_status == "done" and status != store.CLOSED and not task.closed:
        tracker.close(external_id)  # a close the outbox gave up on
        with transaction(rt.sessions) as session:
            row = store.for_item(session, item_id)
            if row is not None:
                row.status = store.CLOSED
        return 1
    change = Change(
        external_id,
        closed=task.closed,
        due_changed=tracker.name != "github",
        due=task.due,
        cancelled=task.cancelled,
    )
    return apply(rt, tracker.name, [change])


def scheduled_sync(rt: Runtime) -> SyncResult:
    result = sync(rt)
    if result.created or result.updated or result.failed:
        log.info("trackers reconcile: %s", result)
    return result

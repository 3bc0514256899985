"""Action items that get done: assignment DMs, button updates, and the exactly-once nudge sweep.

Due nudges are computed from the database (`ActionItem.next_nudge_at`, indexed), never held in
memory. A nudge is claimed by inserting its identity row (unique on item, kind, occurrence) before
it is sent, so two sweeps at once never send it twice; a claim left behind by a crash is recovered
by looking for the nudge's metadata in the DM history before sending again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.runtime import Runtime
from bot.scheduler import job
from bot.views.action_items import (
    NUDGE_HEADLINES,
    ItemView,
    delivery_failed_blocks,
    escalation_blocks,
    improvements_blocks,
    item_blocks,
)
from storage import reviews as store
from storage.db import transaction
from storage.models import ActionItem, Review, Workspace
from storage.nudges import CLAIMED, FAILED, MISSED, SENT, Nudge
from storage.types import utcnow
from workflows.calendar import working_days_between
from workflows.nudges import (
    ItemSchedule,
    NudgePolicy,
    classify,
    next_nudge_at,
    planned_nudges,
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


def view_of(rt: Runtime, item: ActionItem) -> ItemView:
    tz = ZoneInfo(rt.people.timezone(item.owner_id, rt.settings.timezone))
    return ItemView(id=item.id, title=item.title, status=item.status, due=item.due_date,
                    owner_id=item.owner_id, review_title=item.review.title,
                    permalink=item.review.permalink, note=item.status_note,
                    snoozed_until=item.snoozed_until.astimezone(tz) if item.snoozed_until
                    else None)


# --- assignment ------------------------------------------------------------------------------


def notify_assignment(rt: Runtime, item_id: int, previous_owner: str | None = None) -> None:
    """DM the owner at once; on reassignment tell the new owner and the old one."""
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None or item.status == "cancelled":
            return
        reschedule(rt, item, item.review.workspace)
        view = view_of(rt, item)
    headline = ("Reassigned to you" if previous_owner else "New action item for you")
    posted = rt.client.chat_postMessage(channel=view.owner_id, **item_blocks(view, headline))
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        item.dm_channel, item.dm_ts = posted["channel"], posted["ts"]
    if previous_owner and previous_owner != view.owner_id:
        rt.client.chat_postMessage(channel=previous_owner, text=(
            f"“{view.title}” in {view.review_title} is now owned by <@{view.owner_id}>: "
            "you will get no more reminders about it."))


def after_stage(rt: Runtime, changes: list[tuple[int, bool, str | None]]) -> None:
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
                        **{k: v.isoformat() if isinstance(v, datetime) else v
                           for k, v in changes.items()})
            reschedule(rt, item, item.review.workspace)
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


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    sent: int = 0
    missed: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, missed {self.missed}, failed {self.failed}"


def _insert(session: Session) -> Any:
    return (postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert)


def _claim(session: Session, values: dict[str, Any]) -> int | None:
    """Insert the nudge's identity row; None when another sweep already has it."""
    stmt = (_insert(session)(Nudge).values(**values)
            .on_conflict_do_nothing(index_elements=["action_item_id", "kind", "occurrence"])
            .returning(Nudge.id))
    return session.execute(stmt).scalar()


def _lock(query: Any, session: Session) -> Any:
    # Replicas on PostgreSQL share the work instead of waiting on each other's rows.
    if session.bind.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def sweep(rt: Runtime, now: datetime | None = None, *, batch: int = 500) -> SweepResult:
    """Send every nudge that has fallen due; record the ones too late to send as missed."""
    now = now or utcnow()
    result = SweepResult()
    for nudge_id in _recover_claims(rt, now):
        _deliver(rt, nudge_id, result, recovering=True)
    while True:
        claimed, done = _claim_due(rt, now, batch, result)
        for nudge_id in claimed:
            _deliver(rt, nudge_id, result)
        if done:
            return result


def _claim_due(rt: Runtime, now: datetime, batch: int, result: SweepResult
               ) -> tuple[list[int], bool]:
    with rt.sessions() as session:  # owners' timezones first, outside the write transaction
        owners = set(session.scalars(select(ActionItem.owner_id).where(
            ActionItem.next_nudge_at <= now, ActionItem.status.in_(OPEN)).limit(batch)))
    zones = {o: rt.people.timezone(o, rt.settings.timezone) for o in owners}
    claimed: list[int] = []
    with transaction(rt.sessions) as session:
        items = session.scalars(_lock(select(ActionItem).where(
            ActionItem.next_nudge_at <= now, ActionItem.status.in_(OPEN),
        ).order_by(ActionItem.next_nudge_at).limit(batch), session)).all()
        for item in items:
            ws = item.review.workspace
            pol = policy(rt, ws)
            catch_up = timedelta(hours=reminder_settings(ws)["catch_up_hours"])
            sched = schedule(item, zones.get(item.owner_id))
            if sched is None:
                item.next_nudge_at = None
                continue
            for planned in planned_nudges(sched, pol, item.next_nudge_at, now + timedelta(
                    microseconds=1)):
                verdict = classify(planned, now, catch_up)
                if verdict == "future":
                    continue
                recipient = item.review.owner_id if planned.kind == "escalation" else (
                    item.owner_id)
                nudge_id = _claim(session, {
                    "action_item_id": item.id, "kind": planned.kind,
                    "occurrence": planned.occurrence, "recipient_id": recipient,
                    "scheduled_at": planned.at, "claimed_at": now,
                    "status": CLAIMED if verdict == "send" else MISSED,
                    "reason": None if verdict == "send" else
                    f"more than {catch_up} late (the bot was not running)"})
                if nudge_id and verdict == "send":
                    claimed.append(nudge_id)
                elif nudge_id:
                    result.missed += 1
            item.next_nudge_at = next_nudge_at(sched, pol, now)
    return claimed, len(items) < batch


def _recover_claims(rt: Runtime, now: datetime) -> list[int]:
    """Claims older than STALE_CLAIM were interrupted (a crash, or Slack was down): retry them."""
    with transaction(rt.sessions) as session:
        stale = session.scalars(_lock(select(Nudge).where(
            Nudge.status == CLAIMED, Nudge.claimed_at < now - STALE_CLAIM), session)).all()
        for nudge in stale:
            nudge.claimed_at = now
        return [n.id for n in stale]


def _already_delivered(rt: Runtime, nudge: Nudge) -> tuple[str, str] | None:
    """Did an interrupted run send it before it could record so? Look for its metadata."""
    channel = rt.client.conversations_open(users=nudge.recipient_id)["channel"]["id"]
    history = rt.client.conversations_history(channel=channel, limit=100,
                                              include_all_metadata=True)
    for message in history.get("messages", []):
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if payload.get("nudge_id") == nudge.id:
            return channel, message["ts"]
    return None


def _message(rt: Runtime, nudge: Nudge, item: ActionItem) -> dict[str, Any]:
    view = view_of(rt, item)
    if nudge.kind == "escalation":
        today = datetime.now(UTC).date()
        days = working_days_between(item.due_date, today, rt.settings.state)
        return escalation_blocks(view, days)
    return item_blocks(view, NUDGE_HEADLINES.get(nudge.kind, "Reminder"))


def _deliver(rt: Runtime, nudge_id: int, result: SweepResult, recovering: bool = False) -> None:
    with transaction(rt.sessions) as session:
        nudge = session.get(Nudge, nudge_id)
        item = session.get(ActionItem, nudge.action_item_id)
        if item.status not in OPEN:
            nudge.status, nudge.reason = MISSED, f"item became {item.status} before sending"
            result.missed += 1
            return
        message = _message(rt, nudge, item)
        recipient, owner_of_review = nudge.recipient_id, item.review.owner_id
        view = view_of(rt, item)
    try:
        found = _already_delivered(rt, nudge) if recovering else None
        if found:
            channel, ts = found
        else:
            posted = rt.client.chat_postMessage(
                channel=recipient, metadata={"event_type": METADATA_EVENT,
                                             "event_payload": {"nudge_id": nudge_id}},
                **message)
            channel, ts = posted["channel"], posted["ts"]
    except SlackApiError as exc:
        error = exc.response.get("error") or "unknown_error"
        with transaction(rt.sessions) as session:
            nudge = session.get(Nudge, nudge_id)
            if error in PERMANENT_ERRORS:
                nudge.status, nudge.reason = FAILED, error
            else:  # retried by the next sweep, after the client's own retries gave up
                nudge.reason, nudge.claimed_at = f"retrying: {error}", utcnow() - STALE_CLAIM
        if error in PERMANENT_ERRORS:
            result.failed += 1
            if recipient != owner_of_review:
                try:
                    rt.client.chat_postMessage(channel=owner_of_review,
                                               **delivery_failed_blocks(view, error))
                except SlackApiError:
                    log.exception("could not tell the review owner about a failed nudge")
        return
    with transaction(rt.sessions) as session:
        nudge = session.get(Nudge, nudge_id)
        nudge.status, nudge.sent_at, nudge.channel, nudge.ts = SENT, utcnow(), channel, ts
        nudge.reason = None
    result.sent += 1


@job("reminders", 60)
def scheduled_sweep(rt: Runtime) -> SweepResult:
    result = sweep(rt)
    if result.sent or result.missed or result.failed:
        log.info("reminder sweep: %s", result)
    return result

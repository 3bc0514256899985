"""The exactly-once reminder (nudge) sweep for action items.

Due nudges are computed from the database (`ActionItem.next_nudge_at`, indexed), never held in
memory. A nudge is claimed by inserting its identity row (unique on item, kind, occurrence) before
it is sent, so two sweeps at once never send it twice; a claim left behind by a crash is recovered
by looking for the nudge's metadata in the DM history before sending again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.client import HTTPException
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.action_items.service import (
    METADATA_EVENT,
    OPEN,
    PERMANENT_ERRORS,
    STALE_CLAIM,
    policy,
    reminder_settings,
    schedule,
    view_of,
)
from bot.action_items.views import (
    NUDGE_HEADLINES,
    delivery_failed_blocks,
    escalation_blocks,
    item_blocks,
)
from bot.runtime import Runtime
from storage.claims import insert_once, skip_locked
from storage.db import transaction
from storage.models import ActionItem
from storage.nudges import CLAIMED, FAILED, MISSED, SENT, Nudge
from storage.types import utcnow
from workflows.calendar import working_days_between
from workflows.nudges import (
    classify,
    next_nudge_at,
    planned_nudges,
)

log = logging.getLogger(__name__)

@dataclass
class SweepResult:
    sent: int = 0
    missed: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, missed {self.missed}, failed {self.failed}"


def _claim(session: Session, values: dict[str, Any]) -> int | None:
    """Insert the nudge's identity row; None when another sweep already has it."""
    return insert_once(session, Nudge, ("action_item_id", "kind", "occurrence"), **values)


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
        items = session.scalars(skip_locked(select(ActionItem).where(
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
        stale = session.scalars(skip_locked(select(Nudge).where(
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
    except (SlackApiError, OSError, HTTPException) as exc:  # OSError: a time-out, no connection
        error = (exc.response.get("error") or "unknown_error") if isinstance(
            exc, SlackApiError) else type(exc).__name__
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
        else:
            result.failed += 1  # for now: the next sweep tries it again
        return
    with transaction(rt.sessions) as session:
        nudge = session.get(Nudge, nudge_id)
        nudge.status, nudge.sent_at, nudge.channel, nudge.ts = SENT, utcnow(), channel, ts
        nudge.reason = None
    result.sent += 1


def scheduled_sweep(rt: Runtime) -> SweepResult:
    result = sweep(rt)
    if result.sent or result.missed or result.failed:
        log.info("reminder sweep: %s", result)
    return result

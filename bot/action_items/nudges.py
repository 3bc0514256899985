"""The exactly-once reminder (nudge) sweep for action items.

Due nudges are computed from the database (`ActionItem.next_nudge_at`, indexed), never held in
memory. A nudge is claimed by inserting its identity row (unique on item, kind, occurrence) before
it is sent, so two sweeps at once never send it twice; a claim left behind by a crash is recovered
by looking for the nudge's metadata in the DM history before sending again.

Claimed nudges go out through the runtime's PacedSender (bot/slack/pacing.py): several at a time,
one at a time per recipient, under Slack's limits. While they go out, a heartbeat renews their
claims, so a long sweep is never taken for a dead one by another sweeper.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from http.client import HTTPException
from types import TracebackType
from typing import Any
from urllib.error import URLError

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.action_items.service import (
    METADATA_EVENT,
    OPEN,
    PERMANENT_ERRORS,
    STALE_CLAIM,
    card_link,
    card_of,
    days_overdue,
    policy,
    reminder_settings,
    schedule,
    view_of,
)
from bot.action_items.views import (
    NUDGE_HEADLINES,
    ItemView,
    delivery_failed_blocks,
    escalation_blocks,
    item_blocks,
    note_blocks,
)
from bot.runtime import Runtime
from bot.slack.posted import find as find_posted
from storage.claims import insert_once, skip_locked
from storage.db import transaction
from storage.models import ActionItem
from storage.nudges import CLAIMED, FAILED, MISSED, SENT, Nudge, abandoned, renew
from storage.types import utcnow
from workflows.nudges import (
    classify,
    next_nudge_at,
    planned_nudges,
)

log = logging.getLogger(__name__)

HEARTBEAT = STALE_CLAIM / 5
"""How often a sweep renews the claims it is still sending: well inside STALE_CLAIM."""


@dataclass
class SweepResult:
    """What one sweep did. Its line says why nudges were missed, so "missed 1" in the CLI or
    the sandbox's clock is never a puzzle."""

    sent: int = 0
    missed: int = 0
    failed: int = 0
    why_missed: Counter[str] = field(default_factory=Counter)

    def miss(self, why: str) -> None:
        self.missed += 1
        self.why_missed[why] += 1

    def add(self, other: SweepResult) -> None:
        """Count in what one nudge's delivery did (each runs on a thread of its own)."""
        self.sent += other.sent
        self.missed += other.missed
        self.failed += other.failed
        self.why_missed.update(other.why_missed)

    def __str__(self) -> str:
        line = f"sent {self.sent}, missed {self.missed}, failed {self.failed}"
        if self.why_missed:
            line += "; missed " + ", ".join(f"{n}: {why}" for why, n in self.why_missed.items())
        return line


def _too_late(catch_up: timedelta) -> str:
    hours = catch_up.total_seconds() / 3600
    return f"older than the catch-up window ({hours:g} h)"


def _claim(session: Session, values: dict[str, Any]) -> int | None:
    """Insert the nudge's identity row; None when another sweep already has it."""
    return insert_once(session, Nudge, ("action_item_id", "kind", "occurrence"), **values)


def sweep(rt: Runtime, now: datetime | None = None, *, batch: int = 500) -> SweepResult:
    """Send every nudge that has fallen due; record the ones too late to send as missed."""
    now = now or utcnow()
    result = SweepResult()
    try:
        _send(rt, _recover_claims(rt, now), result, now, recovering=True)
        while True:
            claimed, done = _claim_due(rt, now, batch, result)
            _send(rt, claimed, result, now)
            if done:
                return result
    finally:  # what was done counts, even when the sweep stopped on an error
        for outcome in ("sent", "missed", "failed"):
            if count := getattr(result, outcome):
                rt.metrics.nudges.labels(outcome).inc(count)


class _Heartbeat:
    """Renews the claims of the nudges a sweep has yet to finish, every HEARTBEAT, from a
    thread of its own, while the sweep sends them."""

    def __init__(self, rt: Runtime, ids: Iterable[int]) -> None:
        self._rt, self._left = rt, set(ids)
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="nudge-heartbeat")

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def done(self, nudge_id: int) -> None:
        with self._lock:
            self._left.discard(nudge_id)

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT.total_seconds()):
            with self._lock:
                left = list(self._left)
            try:
                with transaction(self._rt.sessions) as session:
                    renew(session, left)
            except Exception as exc:  # noqa: BLE001 - at worst another sweep looks in the DM
                log.warning("could not renew %d nudge claims: %s", len(left), type(exc).__name__)


def _send(
    rt: Runtime,
    claimed: list[tuple[int, str]],
    result: SweepResult,
    now: datetime,
    recovering: bool = False,
) -> None:
    """Deliver the claimed nudges through the paced sender, one at a time per recipient."""
    if not claimed:
        return
    paced = rt.paced()

    def job(nudge_id: int) -> SweepResult:
        part = SweepResult()
        try:
            _deliver(paced, nudge_id, part, recovering=recovering, now=now)
        except (TimeoutError, URLError, ConnectionError) as exc:  # Slack unreachable for now
            log.warning(
                "nudge %s not sent, retried by the next sweep: %s", nudge_id, type(exc).__name__
            )
            _let_go(rt, nudge_id, f"retrying: {type(exc).__name__}")
        except Exception as exc:  # one nudge's bug or blip must not stop the others
            log.exception("nudge %s not sent, retried by the next sweep", nudge_id)
            _let_go(rt, nudge_id, f"retrying: {type(exc).__name__}")
        return part

    with _Heartbeat(rt, [nudge_id for nudge_id, _ in claimed]) as heartbeat:

        def beat_after(nudge_id: int) -> SweepResult:
            try:
                return job(nudge_id)
            finally:
                heartbeat.done(nudge_id)

        parts = rt.sender.run(
            (recipient, partial(beat_after, nudge_id)) for nudge_id, recipient in claimed
        )
    for part in parts:
        result.add(part)


def _let_go(rt: Runtime, nudge_id: int, reason: str) -> None:
    """Give the claim up (no heartbeat): the next sweep takes it over, looking in the DM first."""
    try:
        with transaction(rt.sessions) as session:
            nudge = session.get(Nudge, nudge_id)
            if nudge is not None and nudge.status == CLAIMED:
                nudge.reason, nudge.heartbeat_at = reason, None
    except Exception as exc:  # noqa: BLE001 - the claim then lapses after STALE_CLAIM
        log.warning("could not let go of nudge %s: %s", nudge_id, type(exc).__name__)


def _claim_due(
    rt: Runtime, now: datetime, batch: int, result: SweepResult
) -> tuple[list[tuple[int, str]], bool]:
    """Claim a batch of due nudges: their ids and recipients, and whether that was the last."""
    with rt.sessions() as session:  # owners' timezones first, outside the write transaction
        owners = set(
            session.scalars(
                select(ActionItem.owner_id)
                .where(ActionItem.next_nudge_at <= now, ActionItem.status.in_(OPEN))
                .limit(batch)
            )
        )
    zones = rt.people.timezones(owners, rt.settings.timezone)  # users.list, not one call each
    claimed: list[tuple[int, str]] = []
    beat = utcnow()
    with transaction(rt.sessions) as session:
        items = session.scalars(
            skip_locked(
                select(ActionItem)
                .where(
                    ActionItem.next_nudge_at <= now,
                    ActionItem.status.in_(OPEN),
                )
                .order_by(ActionItem.next_nudge_at)
                .limit(batch),
                session,
            )
        ).all()
        for item in items:
            ws = item.review.workspace
            pol = policy(rt, ws)
            catch_up = timedelta(hours=reminder_settings(ws)["catch_up_hours"])
            sched = schedule(item, zones.get(item.owner_id))
            if sched is None:
                item.next_nudge_at = None
                continue
            assert item.next_nudge_at is not None  # the query asked for next_nudge_at <= now
            for planned in planned_nudges(
                sched, pol, item.next_nudge_at, now + timedelta(microseconds=1)
            ):
                verdict = classify(planned, now, catch_up)
                if verdict == "future":
                    continue
                recipient = (
                    item.review.owner_id if planned.kind == "escalation" else (item.owner_id)
                )
                nudge_id = _claim(
                    session,
                    {
                        "action_item_id": item.id,
                        "kind": planned.kind,
                        "occurrence": planned.occurrence,
                        "recipient_id": recipient,
                        "scheduled_at": planned.at,
                        "claimed_at": now,
                        "heartbeat_at": beat,
                        "status": CLAIMED if verdict == "send" else MISSED,
                        "reason": None
                        if verdict == "send"
                        else f"more than {catch_up} late (the bot was not running)",
                    },
                )
                if nudge_id and verdict == "send":
                    claimed.append((nudge_id, recipient))
                elif nudge_id:
                    result.miss(_too_late(catch_up))
            item.next_nudge_at = next_nudge_at(sched, pol, now)
    return claimed, len(items) < batch


def _recover_claims(rt: Runtime, now: datetime) -> list[tuple[int, str]]:
    """Claims without a heartbeat for STALE_CLAIM were interrupted (a crash), or let go after a
    failure (Slack was down): retry them. A sweep still sending keeps its claims renewed."""
    with transaction(rt.sessions) as session:
        stale = session.scalars(
            skip_locked(select(Nudge).where(abandoned(STALE_CLAIM)), session)
        ).all()
        for nudge in stale:
            nudge.claimed_at, nudge.heartbeat_at = now, utcnow()
        return [(n.id, n.recipient_id) for n in stale]


def _already_delivered(rt: Runtime, nudge: Nudge) -> tuple[str, str] | None:
    """Did an interrupted run send it before it could record so? Look for its metadata.

    The DM is read back page by page (bot/slack/posted.py) as far as the nudge's scheduled time: it
    cannot have been sent before that, and a busy DM (a hundred reminders and notices since)
    must not hide it, or the owner gets it twice. (Its claim time is no bound: a recovery claims
    it again.) A sweep whose clock is ahead of the wall clock (`remind --now` in the future)
    gives no safe bound; then the DM is read back as far as find_posted goes."""
    channel = str(rt.client.conversations_open(users=nudge.recipient_id)["channel"]["id"])
    since = nudge.scheduled_at - timedelta(minutes=1)
    oldest = since.timestamp() if since <= utcnow() else None
    ts = find_posted(rt.client, channel, METADATA_EVENT, oldest=oldest, nudge_id=nudge.id)
    return (channel, ts) if ts else None


def _deliver(
    rt: Runtime,
    nudge_id: int,
    result: SweepResult,
    recovering: bool = False,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    with transaction(rt.sessions) as session:
        nudge = session.get(Nudge, nudge_id)
        item = session.get(ActionItem, nudge.action_item_id) if nudge else None
        if nudge is None or item is None:  # deleted with its review meanwhile
            return
        if item.status not in OPEN:
            nudge.status, nudge.reason = MISSED, f"item became {item.status} before sending"
            result.miss(f"the item was {item.status} before it was sent")
            return
        kind = nudge.kind
        escalation = (
            escalation_blocks(view_of(rt, item, now), days_overdue(rt, item, now))
            if kind == "escalation"
            else None
        )
        recipient, owner_of_review = nudge.recipient_id, item.review.owner_id
        view = view_of(rt, item, now)
        card = card_of(item)
        item_id = item.id
        snooze_over = item.snoozed_until is not None and item.snoozed_until <= now
    new_card = False
    try:
        found = _already_delivered(rt, nudge) if recovering else None
        if found:
            channel, ts = found
        else:
            message: dict[str, Any]
            if escalation is not None:
                message = escalation
            else:
                link = card_link(rt, card)
                new_card = link is None
                message = (
                    note_blocks(view, kind, link)
                    if link
                    else item_blocks(view, NUDGE_HEADLINES.get(kind, "Reminder"))
                )
            posted = rt.client.chat_postMessage(
                channel=recipient,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"nudge_id": nudge_id}},
                **message,
            )
            channel, ts = posted["channel"], posted["ts"]
    except (SlackApiError, OSError, HTTPException) as exc:  # OSError: a time-out, no connection
        error = (
            (exc.response.get("error") or "unknown_error")
            if isinstance(exc, SlackApiError)
            else type(exc).__name__
        )
        with transaction(rt.sessions) as session:
            nudge = session.get(Nudge, nudge_id)
            if nudge is None:
                pass  # deleted with its review meanwhile: nothing to record
            elif error in PERMANENT_ERRORS:
                nudge.status, nudge.reason = FAILED, error
            else:  # retried by the next sweep, after the client's own retries gave up
                nudge.reason, nudge.heartbeat_at = f"retrying: {error}", None
        if error in PERMANENT_ERRORS:
            result.failed += 1
            if recipient != owner_of_review:
                try:
                    rt.client.chat_postMessage(
                        channel=owner_of_review, **delivery_failed_blocks(view, error)
                    )
                except SlackApiError:
                    log.exception("could not tell the review owner about a failed nudge")
        else:
            result.failed += 1  # for now: the next sweep tries it again
        return
    with transaction(rt.sessions) as session:
        nudge = session.get(Nudge, nudge_id)
        if nudge is not None:  # (deleted with its review meanwhile: nothing to record)
            nudge.status, nudge.sent_at, nudge.channel, nudge.ts = SENT, utcnow(), channel, ts
            nudge.reason = None
        item = session.get(ActionItem, item_id)
        # The reminder replaces the card only if nobody else gave the item one meanwhile (the
        # assignment DM, delivered late by another worker, is the card then).
        unchanged = item is not None and (item.dm_channel, item.dm_ts) == (card or (None, None))
        if item is not None and new_card and unchanged:
            item.dm_channel, item.dm_ts = channel, ts
        if (
            item is not None
            and snooze_over
            and item.snoozed_until is not None
            and item.snoozed_until <= now
        ):
            item.snoozed_until = None  # over: the card is redrawn once, below
    result.sent += 1
    if snooze_over and card and not new_card:
        _refresh_card(rt, card, view)


def _refresh_card(rt: Runtime, card: tuple[str, str], view: ItemView) -> None:
    """The snooze is over: the card stops saying "Snoozed until" a moment that has passed.
    (`view` was drawn as of the sweep's clock, which drops a snooze that has ended.)"""
    try:
        rt.client.chat_update(channel=card[0], ts=card[1], **item_blocks(view, "Action item"))
    except SlackApiError as exc:
        log.info("card %s not refreshed: %s", card, exc.response.get("error"))


def scheduled_sweep(rt: Runtime) -> SweepResult:
    result = sweep(rt)
    if result.sent or result.missed or result.failed:
        log.info("reminder sweep: %s", result)
    return result

"""Reminder deliveries: one row per nudge identity, claimed before it is sent.

The unique key (action item, kind, occurrence) is what makes delivery exactly-once: two sweeps
(replicas, or `serve` and the CLI) race to insert the same row and only one wins.

Besides the sweep's kinds (due_soon, due_today, overdue, snoozed, escalation), a "blocked" row
records the notice sent to the review's owner when an item is blocked (its occurrence is the
message's ts). Escalation and blocked rows keep where they were sent (channel, ts), so those
messages are rewritten whenever the item changes.

A claim is a lease: `heartbeat_at` is when its sweep last said it is still working on it (at the
claim, then every few minutes while it sends, by the wall clock). A claim whose heartbeat stopped
(the process died, or the sweep let it go after a failure: no heartbeat) is taken over by the
next sweep; a long sweep that is still sending keeps its claims to itself.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, SlackId
from storage.types import utcnow

CLAIMED, SENT, MISSED, FAILED = "claimed", "sent", "missed", "failed"


class Nudge(Base):
    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint(
            "action_item_id", "kind", "occurrence", name="uq_nudges_action_item_id_kind_occurrence"
        ),
        Index("ix_nudges_status_claimed_at", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_item_id: Mapped[int] = mapped_column(ForeignKey("action_items.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occurrence: Mapped[str] = mapped_column(String(40))
    recipient_id: Mapped[str] = mapped_column(SlackId)
    scheduled_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default=CLAIMED)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(SlackId)
    ts: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)


def abandoned(stale: timedelta, now: datetime | None = None) -> ColumnElement[bool]:
    """Claims nobody is working on: no heartbeat, or none for `stale` (by the wall clock)."""
    return and_(
        Nudge.status == CLAIMED,
        or_(Nudge.heartbeat_at.is_(None), Nudge.heartbeat_at < (now or utcnow()) - stale),
    )


def renew(session: Session, ids: Collection[int], now: datetime | None = None) -> None:
    """The sweep is still working on these claims (those not yet sent, missed or failed)."""
    if ids:
        session.execute(
            update(Nudge)
            .where(Nudge.id.in_(list(ids)), Nudge.status == CLAIMED)
            .values(heartbeat_at=now or utcnow())
        )

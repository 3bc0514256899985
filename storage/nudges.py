"""Reminder deliveries: one row per nudge identity, claimed before it is sent.

The unique key (action item, kind, occurrence) is what makes delivery exactly-once: two sweeps
(replicas, or `serve` and the CLI) race to insert the same row and only one wins.

Besides the sweep's kinds (due_soon, due_today, overdue, snoozed, escalation), a "blocked" row
records the notice sent to the review's owner when an item is blocked (its occurrence is the
message's ts). Escalation and blocked rows keep where they were sent (channel, ts), so those
messages are rewritten whenever the item changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, SlackId
from storage.types import utcnow

CLAIMED, SENT, MISSED, FAILED = "claimed", "sent", "missed", "failed"


class Nudge(Base):
    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("action_item_id", "kind", "occurrence",
                         name="uq_nudges_action_item_id_kind_occurrence"),
        Index("ix_nudges_status_claimed_at", "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_item_id: Mapped[int] = mapped_column(
        ForeignKey("action_items.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occurrence: Mapped[str] = mapped_column(String(40))
    recipient_id: Mapped[str] = mapped_column(SlackId)
    scheduled_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default=CLAIMED)
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(SlackId)
    ts: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)

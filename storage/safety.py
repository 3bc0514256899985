"""The product safety incident register and its deadline alerts (ACL s131)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Base, SlackId
from storage.types import utcnow


class SafetyIncident(Base):
    __tablename__ = "safety_incidents"
    __table_args__ = (Index("ix_safety_incidents_status_due", "report_status", "report_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    product_name: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200), default="")
    batch_or_serials: Mapped[str] = mapped_column(Text, default="")
    supplier: Mapped[str] = mapped_column(String(200), default="")
    aware_at: Mapped[datetime]
    aware_tz: Mapped[str] = mapped_column(String(64))
    what_happened: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(String(30))
    caused_or_may_have: Mapped[bool] = mapped_column(Boolean)
    exemption: Mapped[str | None] = mapped_column(String(30))
    actions_taken: Mapped[str] = mapped_column(Text, default="")
    # due | submitted | not_required
    report_status: Mapped[str] = mapped_column(String(20))
    report_due_at: Mapped[datetime | None]
    status_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_on: Mapped[date | None]
    accc_reference: Mapped[str] = mapped_column(String(100), default="")
    reported_by: Mapped[str] = mapped_column(SlackId)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SafetyAlert(Base):
    """One alert per incident and kind, inserted before it is sent: never sent twice."""

    __tablename__ = "safety_alerts"
    __table_args__ = (
        UniqueConstraint("incident_id", "kind", name="uq_safety_alerts_incident_id_kind"),
        UniqueConstraint("deadline_id", "kind", name="uq_safety_alerts_deadline_id_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("safety_incidents.id", ondelete="CASCADE")
    )
    # Recall deadlines are alerted the same way (exactly one of the two ids is set).
    deadline_id: Mapped[int | None] = mapped_column(
        ForeignKey("safety_recall_deadlines.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))  # reported | 24h | 4h | overdue
    status: Mapped[str] = mapped_column(String(10), default="claimed")
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)


class SafetyRecall(Base):
    """A voluntary recall (ACL s128) and what the recall notice must say."""

    __tablename__ = "safety_recalls"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    product: Mapped[str] = mapped_column(String(200))
    identifiers: Mapped[str] = mapped_column(Text, default="")
    hazard: Mapped[str] = mapped_column(Text)
    supplied: Mapped[str] = mapped_column(Text, default="")  # dates, quantity and where
    consumer_action: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(String(300))
    action_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecallDeadline(Base):
    """One tracked deadline of a recall; alerts for it are claimed in `safety_alerts`."""

    __tablename__ = "safety_recall_deadlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    recall_id: Mapped[int] = mapped_column(ForeignKey("safety_recalls.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    due_at: Mapped[datetime] = mapped_column(index=True)
    description: Mapped[str] = mapped_column(Text)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(SlackId)


def open_recall_deadlines(session: Session, workspace_id: int) -> list[RecallDeadline]:
    return list(
        session.scalars(
            select(RecallDeadline)
            .join(SafetyRecall)
            .where(SafetyRecall.workspace_id == workspace_id, RecallDeadline.done_at.is_(None))
            .order_by(RecallDeadline.due_at)
        )
    )


def register(
    session: Session, workspace_id: int, *, open_only: bool = False
) -> list[SafetyIncident]:
    query = select(SafetyIncident).where(SafetyIncident.workspace_id == workspace_id)
    if open_only:
        query = query.where(SafetyIncident.report_status == "due")
    return list(session.scalars(query.order_by(SafetyIncident.report_due_at, SafetyIncident.id)))

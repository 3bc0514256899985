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
    __table_args__ = (UniqueConstraint("incident_id", "kind",
                                       name="uq_safety_alerts_incident_id_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("safety_incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # reported | 24h | 4h | overdue
    status: Mapped[str] = mapped_column(String(10), default="claimed")
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)


def register(session: Session, workspace_id: int, *, open_only: bool = False
             ) -> list[SafetyIncident]:
    query = select(SafetyIncident).where(SafetyIncident.workspace_id == workspace_id)
    if open_only:
        query = query.where(SafetyIncident.report_status == "due")
    return list(session.scalars(query.order_by(SafetyIncident.report_due_at,
                                               SafetyIncident.id)))

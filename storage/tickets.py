"""Helpdesk tickets the webhook has seen, and the support reminders' exactly-once claims.

A ticket id is unique per workspace, so redelivered events update one row; `review_id` links the
post-mortem a low CES started, and `stale_suggested_at` makes the "still open after 14 days"
suggestion a one-off. Reminder claims work like `storage.nudges`: a row is inserted before a DM is
sent, and its unique key lets only one sweep win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.claims import dialect_insert, insert_once, updated_rows
from storage.models import Base, Review, SlackId, StageSubmission
from storage.types import utcnow, without_nul


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("workspace_id", "ticket_id", name="uq_tickets_workspace_id_ticket_id"),
        Index("ix_tickets_closed_at_opened_at", "closed_at", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    ticket_id: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))
    raw: Mapped[dict[str, Any]]  # the helpdesk's body as received, for support and audits
    subject: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(SlackId)
    customer_type: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(100))
    ces_score: Mapped[float | None] = mapped_column(Numeric(6, 2, asdecimal=False))
    ces_scale: Mapped[int | None] = mapped_column(SmallInteger)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id", ondelete="SET NULL"))
    stale_suggested_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SupportReminder(Base):
    """One reminder about a review ("still in progress", "waiting for review"), claimed once."""

    __tablename__ = "support_reminders"
    __table_args__ = (
        UniqueConstraint(
            "review_id",
            "kind",
            "occurrence",
            "recipient_id",
            name="uq_support_reminders_review_id_kind_occurrence_recipient_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occurrence: Mapped[str] = mapped_column(String(60))
    recipient_id: Mapped[str] = mapped_column(SlackId)
    status: Mapped[str] = mapped_column(String(10), default="claimed")
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)


TICKET_FIELDS = (
    "source",
    "raw",
    "subject",
    "url",
    "owner_id",
    "customer_type",
    "category",
    "ces_score",
    "ces_scale",
    "opened_at",
    "closed_at",
)


def upsert_ticket(session: Session, workspace_id: int, ticket_id: str, **values: Any) -> Ticket:
    """Insert the ticket or update it to the newest event; safe when deliveries race."""
    # NUL: PostgreSQL refuses it in text and JSON and SQLite keeps it; drop it on both.
    fields = {k: without_nul(values[k]) for k in TICKET_FIELDS if k in values}
    if "\x00" in ticket_id:
        raise ValueError("a ticket id can't contain NUL")  # an id is not to be guessed at
    now = utcnow()
    stmt = dialect_insert(session)(Ticket).values(
        workspace_id=workspace_id, ticket_id=ticket_id, created_at=now, updated_at=now, **fields
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["workspace_id", "ticket_id"], set_={**fields, "updated_at": now}
    ).returning(Ticket.id)
    row_id = session.execute(stmt).scalar_one()
    return session.scalars(
        select(Ticket).where(Ticket.id == row_id).execution_options(populate_existing=True)
    ).one()


def claim_stale_suggestion(session: Session, ticket: Ticket) -> bool:
    """Mark the ticket's one stale suggestion as taken; False when someone already took it."""
    taken = updated_rows(
        session,
        update(Ticket)
        .where(
            Ticket.id == ticket.id,
            Ticket.stale_suggested_at.is_(None),
        )
        .values(stale_suggested_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    session.refresh(ticket)
    return taken == 1


def stale_candidates(session: Session, opened_before: datetime, limit: int = 500) -> list[Ticket]:
    """Open tickets older than the cut-off that were never suggested and have no post-mortem."""
    return list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.closed_at.is_(None),
                Ticket.opened_at < opened_before,
                Ticket.stale_suggested_at.is_(None),
                Ticket.review_id.is_(None),
            )
            .order_by(Ticket.opened_at)
            .limit(limit)
        )
    )


def review_for_trigger(session: Session, workspace_id: int, trigger_ref: str) -> Review | None:
    return session.scalar(
        select(Review).where(Review.workspace_id == workspace_id, Review.trigger_ref == trigger_ref)
    )


def claim_reminder(session: Session, **values: Any) -> int | None:
    """Insert the reminder's identity row; None when another sweep already has it."""
    return insert_once(
        session,
        SupportReminder,
        ("review_id", "kind", "occurrence", "recipient_id"),
        claimed_at=utcnow(),
        **values,
    )


def last_moved(session: Session, review_ids: list[int]) -> dict[int, datetime]:
    """When each review last had a stage submitted (reviews without one are left out)."""
    if not review_ids:
        return {}
    rows = session.execute(
        select(StageSubmission.review_id, func.max(StageSubmission.submitted_at))
        .where(StageSubmission.review_id.in_(review_ids))
        .group_by(StageSubmission.review_id)
    )
    return {review_id: at for review_id, at in rows}


def answers_of_stage(
    session: Session, workspace_id: int, workflow_key: str, stage_key: str
) -> list[tuple[Review, dict[str, Any]]]:
    """Each review's newest answers to one stage (e.g. the support workflow's action items)."""
    newest = (
        select(StageSubmission.review_id, func.max(StageSubmission.revision).label("rev"))
        .where(StageSubmission.stage_key == stage_key)
        .group_by(StageSubmission.review_id)
        .subquery()
    )
    rows = session.execute(
        select(Review, StageSubmission.answers)
        .join(
            StageSubmission,
            StageSubmission.review_id == Review.id,
        )
        .join(
            newest,
            (newest.c.review_id == StageSubmission.review_id)
            & (newest.c.rev == StageSubmission.revision),
        )
        .where(
            Review.workspace_id == workspace_id,
            Review.workflow_key == workflow_key,
            StageSubmission.stage_key == stage_key,
        )
        .order_by(Review.created_at.desc())
    )
    return [(review, answers) for review, answers in rows]

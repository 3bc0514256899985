"""Who a stage is handed to, and the notices about it that must go out exactly once.

A review is a team process (seeds 000 and 002): a quality reviewer does the quality review, an
account manager the customer acceptance. An assignment is one row per (review, stage); handing
the stage to someone else replaces it. `waiting_since` is when the assignee was told the stage is
theirs to do (the stage was open and assigned): the stage-waiting nudges count working days from
it, so a reassignment starts the count again.

`PeopleNotice` rows are the claims of the one-off messages to people on a review (the lessons,
the stage-waiting nudge, the owner's "still waiting"): inserted before the message is recorded
for delivery, unique on what they are about, so a retried sweep or a resubmitted stage never
sends one twice (storage.claims.insert_once).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, bindparam, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.claims import insert_once
from storage.models import Base, Review, SlackId
from storage.types import utcnow


class StageAssignment(Base):
    """One stage of one review, handed to one person (by the owner, an admin, or its YAML role)."""

    __tablename__ = "stage_assignments"
    __table_args__ = (
        UniqueConstraint("review_id", "stage_key", name="uq_stage_assignments_review_id_stage_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    stage_key: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(SlackId)
    assigned_by: Mapped[str] = mapped_column(SlackId)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "manual" (the Assign stage form) or "role" (the stage's `assignee` in its YAML).
    source: Mapped[str] = mapped_column(String(10), default="manual")
    # When the assignee's "Start <stage>" DM was recorded; None while the stage is not open yet.
    waiting_since: Mapped[datetime | None]


class PeopleNotice(Base):
    """The claim of one message to one person about one review (sent exactly once)."""

    __tablename__ = "people_notices"
    __table_args__ = (
        UniqueConstraint(
            "review_id",
            "user_id",
            "kind",
            "occurrence",
            name="uq_people_notices_review_id_user_id_kind_occurrence",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(SlackId)
    kind: Mapped[str] = mapped_column(String(30))
    occurrence: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def assign(
    session: Session,
    review_id: int,
    stage_key: str,
    user_id: str,
    assigned_by: str,
    source: str = "manual",
) -> StageAssignment:
    """Hand the stage to `user_id` (replacing an earlier assignee); `waiting_since` restarts."""
    row = get(session, review_id, stage_key)
    if row is None:
        row = StageAssignment(review_id=review_id, stage_key=stage_key)
        session.add(row)
    row.user_id, row.assigned_by, row.source = user_id, assigned_by, source
    row.assigned_at, row.waiting_since = utcnow(), None
    session.flush()
    return row


def get(session: Session, review_id: int, stage_key: str) -> StageAssignment | None:
    return session.scalar(_BY_STAGE, {"review_id": review_id, "stage_key": stage_key})


_BY_STAGE = select(StageAssignment).where(  # built once: building costs more than running
    StageAssignment.review_id == bindparam("review_id"),
    StageAssignment.stage_key == bindparam("stage_key"),
)


def assignee(session: Session, review_id: int, stage_key: str | None) -> str | None:
    """The user the stage is handed to, or None."""
    if stage_key is None:
        return None
    row = get(session, review_id, stage_key)
    return row.user_id if row else None


def of_review(session: Session, review_id: int) -> dict[str, str]:
    """Stage key -> assignee, for every assigned stage of the review."""
    rows = session.scalars(select(StageAssignment).where(StageAssignment.review_id == review_id))
    return {r.stage_key: r.user_id for r in rows}


def unassign(session: Session, review_id: int, stage_key: str) -> bool:
    result = session.execute(
        delete(StageAssignment).where(
            StageAssignment.review_id == review_id, StageAssignment.stage_key == stage_key
        )
    )
    return bool(getattr(result, "rowcount", 0))


def waiting(session: Session) -> list[tuple[StageAssignment, Review]]:
    """Assignments of open stages whose assignee has been told, oldest first (the nudge
    sweep's work grows with the stages waiting now, not with every assignment ever made)."""
    rows = session.execute(
        select(StageAssignment, Review)
        .join(Review, Review.id == StageAssignment.review_id)
        .where(
            StageAssignment.waiting_since.is_not(None),
            Review.current_stage == StageAssignment.stage_key,
        )
        .order_by(StageAssignment.waiting_since)
    )
    return [(row[0], row[1]) for row in rows]


def claim_notice(
    session: Session, review_id: int, user_id: str, kind: str, occurrence: str
) -> bool:
    """Claim one message; False when it was claimed before (by this or another process)."""
    return (
        insert_once(
            session,
            PeopleNotice,
            ("review_id", "user_id", "kind", "occurrence"),
            review_id=review_id,
            user_id=user_id,
            kind=kind,
            occurrence=occurrence[:80],
            created_at=utcnow(),
        )
        is not None
    )


def open_for(session: Session, workspace_id: int, user_id: str, limit: int = 50) -> list[Review]:
    """Reviews whose current stage is handed to `user_id` (their "Waiting on you")."""
    return list(
        session.scalars(
            select(Review)
            .join(StageAssignment, StageAssignment.review_id == Review.id)
            .where(
                Review.workspace_id == workspace_id,
                StageAssignment.user_id == user_id,
                StageAssignment.stage_key == Review.current_stage,
            )
            .order_by(Review.updated_at.desc(), Review.id.desc())
            .limit(limit)
        )
    )

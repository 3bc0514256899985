"""Who takes part in a review, and who is told its lessons.

Seeds 000 and 002 describe a team process: everyone involved gives feedback and joins the team
discussion (participants), and key stakeholders hear what was learned (stakeholders). They are
rows, not a text field, so the bot can invite, survey, remind and tell each person, and adding
someone later invites just them (`invited_at` stays empty until their invitation is recorded).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.claims import insert_once
from storage.models import Base, SlackId
from storage.types import utcnow

PARTICIPANT, STAKEHOLDER = "participant", "stakeholder"
ROLES = (PARTICIPANT, STAKEHOLDER)


class ReviewPerson(Base):
    """One person on one review, in one role (a participant or a stakeholder, never both)."""

    __tablename__ = "review_people"
    __table_args__ = (
        UniqueConstraint("review_id", "user_id", name="uq_review_people_review_id_user_id"),
        CheckConstraint("role IN ('participant', 'stakeholder')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(SlackId)
    role: Mapped[str] = mapped_column(String(20), default=PARTICIPANT)
    added_by: Mapped[str] = mapped_column(SlackId)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the invitation (participants) was recorded for delivery: None means not yet invited.
    invited_at: Mapped[datetime | None]


def add(
    session: Session, review_id: int, user_ids: Iterable[str], role: str, added_by: str
) -> list[str]:
    """Add people in `role`; the ids that were not on the review before, in the order given.

    Someone already on the review keeps their row (a stakeholder added as a participant is moved
    to participant: taking part includes hearing the lessons)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    added: list[str] = []
    for user_id in dict.fromkeys(user_ids):
        row = insert_once(
            session,
            ReviewPerson,
            ("review_id", "user_id"),
            review_id=review_id,
            user_id=user_id,
            role=role,
            added_by=added_by,
            added_at=utcnow(),
        )
        if row is not None:
            added.append(user_id)
        elif role == PARTICIPANT:
            session.execute(
                update(ReviewPerson)
                .where(ReviewPerson.review_id == review_id, ReviewPerson.user_id == user_id)
                .values(role=PARTICIPANT)
            )
    return added


def remove(session: Session, review_id: int, user_id: str) -> bool:
    """Take someone off the review; True if they were on it."""
    result = session.execute(
        delete(ReviewPerson).where(
            ReviewPerson.review_id == review_id, ReviewPerson.user_id == user_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


def people(session: Session, review_id: int, role: str | None = None) -> list[ReviewPerson]:
    """Everyone on the review (or in one role), in the order they were added."""
    query = select(ReviewPerson).where(ReviewPerson.review_id == review_id)
    if role is not None:
        query = query.where(ReviewPerson.role == role)
    return list(session.scalars(query.order_by(ReviewPerson.id)))


def user_ids(session: Session, review_id: int, role: str | None = None) -> list[str]:
    """The Slack user ids of `people`."""
    return [p.user_id for p in people(session, review_id, role)]


def mark_invited(session: Session, review_id: int, user_ids: Iterable[str]) -> list[str]:
    """Mark participants invited; the ids that had not been (each is invited exactly once)."""
    newly: list[str] = []
    for user_id in user_ids:
        changed = session.execute(
            update(ReviewPerson)
            .where(
                ReviewPerson.review_id == review_id,
                ReviewPerson.user_id == user_id,
                ReviewPerson.invited_at.is_(None),
            )
            .values(invited_at=utcnow())
        )
        if getattr(changed, "rowcount", 0):
            newly.append(user_id)
    return newly


def is_on(session: Session, review_id: int, user_id: str, role: str | None = None) -> bool:
    """Whether the user is on the review (in `role`, if given)."""
    query = select(ReviewPerson.id).where(
        ReviewPerson.review_id == review_id, ReviewPerson.user_id == user_id
    )
    if role is not None:
        query = query.where(ReviewPerson.role == role)
    return session.scalar(query) is not None

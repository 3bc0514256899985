"""Feedback surveys: one per (review, stage), the answers, and who was asked or reminded.

An answer is stored under its respondent key (workflows/surveys.respondent_key: an HMAC of the
review and the person with the server's secret), unique per survey, so a person edits their own
answer and counts once. A named answer also keeps `user_id`; an anonymous one keeps nothing that
names its author: no user id, no audit entry, no Slack ids in its answers.

`survey_deliveries` are claim rows ("asked", "reminded"; "closed" for the survey itself, its status
message refreshed once it closes), one per (survey, person, kind), inserted
with the outbox effect that sends the DM: whoever inserts the row sends, exactly once, whether
two owners click "Send survey" at once or two sweeps run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    String,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.claims import insert_once
from storage.models import Base, SlackId
from storage.types import utcnow

ASKED, REMINDED, CLOSED = "asked", "reminded", "closed"
NOBODY = "-"  # the user of a claim about the survey itself (its closing)


class Survey(Base):
    """A stage's survey of a review's participants, from when it was first sent."""

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("review_id", "stage_key", name="uq_surveys_review_id_stage_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    stage_key: Mapped[str] = mapped_column(String(40))
    sent_by: Mapped[str] = mapped_column(SlackId)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(index=True)
    remind_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))


class SurveyResponse(Base):
    """One respondent's answers; `user_id` only when they did not answer anonymously."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint(
            "survey_id", "respondent_key", name="uq_survey_responses_survey_id_respondent_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    respondent_key: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(SlackId)
    anonymous: Mapped[bool]
    answers: Mapped[dict[str, Any]]
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyDelivery(Base):
    """A DM about a survey, claimed before it is recorded for delivery: once per person."""

    __tablename__ = "survey_deliveries"
    __table_args__ = (
        UniqueConstraint(
            "survey_id", "user_id", "kind", name="uq_survey_deliveries_survey_id_user_id_kind"
        ),
        CheckConstraint("kind IN ('asked', 'reminded', 'closed')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(SlackId)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)


def open_survey(
    session: Session,
    review_id: int,
    stage_key: str,
    *,
    sent_by: str,
    sent_at: datetime,
    closes_at: datetime,
    remind_at: datetime,
    timezone: str,
) -> tuple[Survey, bool]:
    """The review's survey for the stage, created now unless it exists: (survey, created)."""
    new_id = insert_once(
        session,
        Survey,
        ("review_id", "stage_key"),
        review_id=review_id,
        stage_key=stage_key,
        sent_by=sent_by,
        sent_at=sent_at,
        closes_at=closes_at,
        remind_at=remind_at,
        timezone=timezone,
    )
    survey = find(session, review_id, stage_key)
    assert survey is not None  # inserted now or by whoever won the race
    return survey, new_id is not None


def find(session: Session, review_id: int, stage_key: str | None = None) -> Survey | None:
    """The review's survey (of the stage, or its first)."""
    query = select(Survey).where(Survey.review_id == review_id)
    if stage_key is not None:
        query = query.where(Survey.stage_key == stage_key)
    return session.scalars(query.order_by(Survey.id).limit(1)).first()


def get(session: Session, survey_id: int) -> Survey | None:
    return session.get(Survey, survey_id)


def claim(session: Session, survey_id: int, user_ids: Iterable[str], kind: str) -> list[str]:
    """Claim a DM of `kind` for each person; the ids this caller won (each is sent once)."""
    won: list[str] = []
    for user_id in dict.fromkeys(user_ids):
        row = insert_once(
            session,
            SurveyDelivery,
            ("survey_id", "user_id", "kind"),
            survey_id=survey_id,
            user_id=user_id,
            kind=kind,
            at=utcnow(),
        )
        if row is not None:
            won.append(user_id)
    return won


def delivered_to(session: Session, survey_id: int, kind: str) -> set[str]:
    return set(
        session.scalars(
            select(SurveyDelivery.user_id).where(
                SurveyDelivery.survey_id == survey_id, SurveyDelivery.kind == kind
            )
        )
    )


def response_of(session: Session, survey_id: int, respondent_key: str) -> SurveyResponse | None:
    return session.scalars(
        select(SurveyResponse).where(
            SurveyResponse.survey_id == survey_id,
            SurveyResponse.respondent_key == respondent_key,
        )
    ).first()


def save_response(
    session: Session,
    survey_id: int,
    respondent_key: str,
    answers: dict[str, Any],
    *,
    user_id: str,
    anonymous: bool,
) -> bool:
    """Save (or replace) a respondent's answers; True when it is their first.

    Anonymous: the row keeps no user id, and an earlier named row loses its name.
    """
    values: dict[str, Any] = {
        "answers": answers,
        "anonymous": anonymous,
        "user_id": None if anonymous else user_id,
        "answered_at": utcnow(),
    }
    new_id = insert_once(
        session,
        SurveyResponse,
        ("survey_id", "respondent_key"),
        survey_id=survey_id,
        respondent_key=respondent_key,
        **values,
    )
    if new_id is not None:
        return True
    row = response_of(session, survey_id, respondent_key)
    assert row is not None
    for name, value in values.items():
        setattr(row, name, value)
    return False


def responses(session: Session, survey_id: int) -> list[SurveyResponse]:
    """Every answer, in the order first given."""
    return list(
        session.scalars(
            select(SurveyResponse)
            .where(SurveyResponse.survey_id == survey_id)
            .order_by(SurveyResponse.id)
        )
    )


def response_keys(session: Session, survey_id: int) -> set[str]:
    return set(
        session.scalars(
            select(SurveyResponse.respondent_key).where(SurveyResponse.survey_id == survey_id)
        )
    )


def answered_count(session: Session, survey_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(SurveyResponse.id)).where(SurveyResponse.survey_id == survey_id)
        )
        or 0
    )


def stage_responses(
    session: Session, review_id: int, stage_key: str
) -> list[tuple[dict[str, Any], str | None]]:
    """The answers to a stage's survey as (answers, user id), the user id None when anonymous."""
    survey = find(session, review_id, stage_key)
    if survey is None:
        return []
    return [(r.answers, None if r.anonymous else r.user_id) for r in responses(session, survey.id)]


@dataclass(frozen=True)
class Progress:
    """How far a review's survey has come, for the status message."""

    answered: int
    asked: int
    closes_at: datetime


def progress(session: Session, review_id: int) -> Progress | None:
    """The review's survey's answers against the people asked, or None before it is sent."""
    survey = find(session, review_id)
    if survey is None:
        return None
    asked = session.scalar(
        select(func.count(SurveyDelivery.id)).where(
            SurveyDelivery.survey_id == survey.id, SurveyDelivery.kind == ASKED
        )
    )
    return Progress(answered_count(session, survey.id), int(asked or 0), survey.closes_at)


def closed_since(session: Session, since: datetime, now: datetime) -> list[Survey]:
    """Surveys that closed between `since` and `now`."""
    return list(
        session.scalars(
            select(Survey)
            .where(Survey.closes_at > since, Survey.closes_at <= now)
            .order_by(Survey.id)
        )
    )


def due_for_reminders(session: Session, now: datetime) -> list[Survey]:
    """Surveys whose reminder morning has come and that still take answers."""
    return list(
        session.scalars(
            select(Survey)
            .where(Survey.remind_at <= now, Survey.closes_at > now)
            .order_by(Survey.id)
        )
    )

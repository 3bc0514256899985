"""Survey rows on SQLite and PostgreSQL: one survey per stage, one answer per respondent key,
one DM per person and kind, and an anonymous answer that holds no user id at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storage import surveys
from tests.storage.test_reviews import start
from workflows.surveys import respondent_key

SENT = datetime(2026, 11, 30, 4, tzinfo=UTC)
SECRET = b"k" * 32


def open_one(session: Session, review_id: int) -> surveys.Survey:
    survey, created = surveys.open_survey(
        session,
        review_id,
        "data_gathering",
        sent_by="U1",
        sent_at=SENT,
        closes_at=SENT + timedelta(days=3),
        remind_at=SENT + timedelta(days=2),
        timezone="Australia/Sydney",
    )
    return survey


def test_a_stage_has_one_survey_and_each_person_is_asked_once(session: Session) -> None:
    review = start(session)
    first = open_one(session, review.id)
    again, created = surveys.open_survey(
        session,
        review.id,
        "data_gathering",
        sent_by="U9",
        sent_at=SENT + timedelta(days=1),
        closes_at=SENT + timedelta(days=9),
        remind_at=SENT,
        timezone="UTC",
    )
    assert (again.id, created, again.sent_by) == (first.id, False, "U1")
    assert surveys.claim(session, first.id, ["U2", "U3", "U2"], surveys.ASKED) == ["U2", "U3"]
    assert surveys.claim(session, first.id, ["U3", "U4"], surveys.ASKED) == ["U4"]
    assert surveys.claim(session, first.id, ["U3"], surveys.REMINDED) == ["U3"]
    assert surveys.claim(session, first.id, ["U3"], surveys.REMINDED) == []
    session.commit()
    assert surveys.delivered_to(session, first.id, surveys.ASKED) == {"U2", "U3", "U4"}
    progress = surveys.progress(session, review.id)
    assert progress is not None and (progress.answered, progress.asked) == (0, 3)


def test_an_answer_is_edited_in_place_and_counted_once(session: Session) -> None:
    review = start(session)
    survey = open_one(session, review.id)
    key = respondent_key(SECRET, review.id, "U2")
    assert surveys.save_response(
        session, survey.id, key, {"q": "one"}, user_id="U2", anonymous=False
    )
    assert not surveys.save_response(
        session, survey.id, key, {"q": "two"}, user_id="U2", anonymous=False
    )
    session.commit()
    assert surveys.answered_count(session, survey.id) == 1
    assert surveys.stage_responses(session, review.id, "data_gathering") == [({"q": "two"}, "U2")]


def test_an_anonymous_answer_stores_no_user_id(session: Session) -> None:
    review = start(session)
    survey = open_one(session, review.id)
    key = respondent_key(SECRET, review.id, "U0CAROL")
    surveys.save_response(
        session, survey.id, key, {"q": "named first"}, user_id="U0CAROL", anonymous=False
    )
    # Changing one's mind to anonymous takes the name off the row.
    surveys.save_response(
        session, survey.id, key, {"q": "quiet"}, user_id="U0CAROL", anonymous=True
    )
    session.commit()
    rows = session.execute(
        text("SELECT * FROM survey_responses WHERE survey_id = :s"), {"s": survey.id}
    ).all()
    assert len(rows) == 1
    assert "U0CAROL" not in repr(tuple(rows[0]))
    assert surveys.stage_responses(session, review.id, "data_gathering") == [({"q": "quiet"}, None)]
    # ... while the same person still finds (and can edit) their answer by their key.
    found = surveys.response_of(session, survey.id, key)
    assert found is not None and found.anonymous


def test_reminders_are_due_from_the_morning_until_closing(session: Session) -> None:
    review = start(session)
    survey = open_one(session, review.id)
    session.commit()
    due = lambda at: [s.id for s in surveys.due_for_reminders(session, at)]  # noqa: E731
    assert survey.id not in due(SENT + timedelta(days=1))
    assert survey.id in due(SENT + timedelta(days=2, hours=1))
    assert survey.id not in due(SENT + timedelta(days=3))
    assert session.scalar(select(surveys.Survey.id).where(surveys.Survey.id == survey.id))

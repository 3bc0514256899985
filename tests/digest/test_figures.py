"""The digest's figures, counted by the database: what the team reads under "Figures"."""

from __future__ import annotations

from datetime import UTC, date, datetime

from digest.seed import ALICE, SYDNEY, Seeder, local
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import digests as store
from storage.models import Review, StageSubmission

START, END = local(1, 9, 10), local(2, 9, 12)  # 1 Oct to 2 Dec 2026, Sydney


def _counts(session: Session) -> store.FigureCounts:
    return store.figure_counts(
        session, Seeder(session).ws.id, START, END, SYDNEY, ces_workflow="support_postmortem"
    )


def _revise(session: Session, review_id: int, stage: str, answers: dict) -> None:
    session.add(
        StageSubmission(
            review_id=review_id,
            stage_key=stage,
            revision=2,
            answers=answers,
            submitted_by=ALICE,
            submitted_at=local(28),
        )
    )


def test_on_time_is_judged_by_the_date_in_sydney_across_daylight_saving(seeder) -> None:
    s: Seeder = seeder()
    review = s.review("support_postmortem", "Items", created=local(2, 12, 10))

    def done(due: date, at: datetime) -> None:
        s.item(review, f"due {due}", owner=ALICE, due=due, status="done", completed=at)

    # Sydney moves from +10 to +11 at 16:00 UTC on 3 Oct 2026.
    done(date(2026, 10, 3), datetime(2026, 10, 3, 13, 30, tzinfo=UTC))  # 23:30 on the 3rd
    done(date(2026, 10, 4), datetime(2026, 10, 4, 13, 30, tzinfo=UTC))  # 00:30 on the 5th
    done(date(2026, 11, 25), datetime(2026, 11, 25, 21, 0, tzinfo=UTC))  # 08:00 on the 26th
    done(date(2026, 11, 27), local(27, 18))
    s.item(review, "No due date", owner=ALICE, due=None, status="done", completed=local(20))
    s.item(review, "Cancelled", owner=ALICE, due=date(2026, 11, 1), status="cancelled")
    s.item(
        review,
        "Done before the period",
        owner=ALICE,
        due=date(2026, 9, 30),
        status="done",
        completed=local(29, 9, 9),
    )
    s.session.commit()
    counts = _counts(s.session)
    assert (counts.closed_on_time, counts.closed_with_due_date) == (2, 4)


def test_categories_come_from_each_reviews_current_answers(seeder) -> None:
    s: Seeder = seeder()

    def completed(title: str, category: str, month: int = 11) -> int:
        return s.review(
            "support_postmortem",
            title,
            status="closed",
            created=local(1, 12, 9),
            completed=local(20, 12, month),
            answers={"metadata": {"category": category}},
        ).id

    completed("Billing", "billing")
    completed("Billing too", "billing")
    _revise(
        s.session,
        completed("Was billing, now delivery", "billing"),
        "metadata",
        {"category": "delivery"},
    )
    _revise(s.session, completed("Category cleared", "returns"), "metadata", {"category": ""})
    completed("Completed before the period", "returns", month=9)
    s.review(
        "support_postmortem",
        "Not completed",
        created=local(1),
        answers={"metadata": {"category": "returns"}},
    )
    s.session.commit()
    version = s.session.scalar(select(Review.workflow_version_id).limit(1))
    assert set(_counts(s.session).categories) == {(version, "billing", 2), (version, "delivery", 1)}


def test_ces_average_of_current_scores_skips_blanks_and_non_numbers(seeder) -> None:
    s: Seeder = seeder()

    def started(title: str, score: object, month: int = 11) -> int:
        return s.review(
            "support_postmortem",
            title,
            created=local(10, 12, month),
            answers={"metadata": {"ces_score": score}},
        ).id

    started("Text", "2")
    started("Number", 4)
    started("Blank", "")
    started("Not a number", "n/a")
    _revise(s.session, started("Revised", "1"), "metadata", {"ces_score": "6"})
    started("Started before the period", "1", month=9)
    s.session.commit()
    counts = _counts(s.session)
    assert (counts.ces_count, counts.ces_average) == (3, 4.0)

    nothing = store.figure_counts(
        s.session, s.ws.id, END, END, SYDNEY, ces_workflow="support_postmortem"
    )
    assert (nothing.ces_count, nothing.ces_average, nothing.categories) == (0, None, ())

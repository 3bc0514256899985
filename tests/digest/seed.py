"""Seeding a post-mortem period for the digest tests (and the names the tests share)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.digest import service as digest
from bot.reviews.service import start_review
from storage.models import ActionItem, FollowUp, Review, StageSubmission
from storage.reviews import workspace
from workflows.loader import Registry

SYDNEY = ZoneInfo("Australia/Sydney")
TEAM, CHANNEL, ALICE, BOB, ADMIN = "T0TEST", "C0REVIEWS", "U0ALICE", "U0BOB", "U0ADMIN"
REGISTRY = Registry.load()
# Meetings every 2 weeks from Wed 18 Nov 2026 at 10:00 Sydney; this digest is Wed 2 Dec's.
FIRST = date(2026, 11, 18)
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=SYDNEY)


def local(day: int, hour: int = 12, month: int = 11) -> datetime:
    return datetime.combine(date(2026, month, day), time(hour), tzinfo=SYDNEY)


def digest_settings(**over: Any) -> dict[str, Any]:
    base = digest.DigestSettings(
        channel=CHANNEL,
        first_meeting=FIRST,
        every_weeks=2,
        tz="Australia/Sydney",
        updated_at=local(1, 9, 11),
        updated_by="test",
    )
    return {"digest": {**base.to_json(), **over}}


class Seeder:
    """Reviews, stage answers, follow-ups and action items at chosen times."""

    def __init__(self, session: Session):
        self.session = session
        self.ws = workspace(session, TEAM)
        self.ws.settings = digest_settings()
        self.reviews_made = 0  # permalinks count reviews, not database ids (sequences carry on)
        session.flush()

    def review(
        self,
        workflow: str,
        title: str,
        *,
        owner: str = ALICE,
        status: str = "open",
        created: datetime,
        completed: datetime | None = None,
        answers: dict[str, dict[str, Any]] | None = None,
        submitted: datetime | None = None,
        permalink: str | None = None,
    ) -> Review:
        wf = REGISTRY[workflow]
        review = start_review(
            self.session,
            wf,
            team_id=TEAM,
            title=title,
            channel_id=CHANNEL,
            owner_id=owner,
            started_by=owner,
        )
        review.created_at, review.status, review.completed_at = created, status, completed
        review.updated_at = completed or created
        self.reviews_made += 1
        review.permalink = (
            permalink or f"https://slack.example/archives/{CHANNEL}/p{self.reviews_made}"
        )
        review.current_stage = None if completed else wf.stages[-1].key
        for stage_key, given in (answers or {}).items():
            self.session.add(
                StageSubmission(
                    review_id=review.id,
                    stage_key=stage_key,
                    revision=1,
                    answers=given,
                    submitted_by=owner,
                    submitted_at=submitted or created,
                )
            )
        self.session.flush()
        return review

    def escalation(self, review: Review, detail: str, at: datetime) -> None:
        sub = StageSubmission(
            review_id=review.id,
            stage_key="sync",
            revision=9,
            answers={},
            submitted_by=review.owner_id,
            submitted_at=at,
        )
        self.session.add(sub)
        self.session.flush()
        self.session.add(
            FollowUp(
                review_id=review.id,
                submission_id=sub.id,
                kind="escalation",
                title="Systemic issue requiring organisational change",
                detail=detail,
                created_at=at,
            )
        )

    def item(
        self,
        review: Review,
        title: str,
        *,
        owner: str,
        due: date | None,
        status: str = "open",
        completed: datetime | None = None,
    ) -> ActionItem:
        item = ActionItem(
            review_id=review.id,
            title=title,
            owner_id=owner,
            due_date=due,
            status=status,
            completed_at=completed,
        )
        self.session.add(item)
        self.session.flush()
        return item


def seed_busy(session: Session) -> None:
    """The golden period: 18 Nov 09:00 to 2 Dec 09:00, with something in every section."""
    s = Seeder(session)
    refund = s.review(
        "support_postmortem",
        "Refund took 3 weeks <script>",
        status="closed",
        created=local(20),
        completed=local(25, 15),
        answers={
            "metadata": {"category": "billing", "ces_score": "3"},
            "report": {
                "summary": "Customer waited 21 days for a refund & was charged "
                "twice; see <https://evil.example|here>",
                "lessons": "Check the refund queue daily, not weekly & see "
                "<https://evil.example|here>",
                "share_at_meeting": True,
            },
        },
        submitted=local(24),
    )
    wrong_size = s.review(
        "support_postmortem",
        "Wrong size shipped",
        owner=BOB,
        status="in_review",
        created=local(19),
        answers={
            "metadata": {"category": "delivery", "ces_score": "5"},
            "report": {"summary": "The picker used an old label.", "share_at_meeting": False},
        },
        submitted=local(23),
    )
    campaign = s.review(
        "campaign_postmortem",
        "Black Friday email <!channel>",
        status="complete",
        created=local(21),
        completed=local(30, 16),
        answers={
            "lessons_learned": {
                "summary": "Send tests to the seed list first.",
                "share_at_meeting": True,
            }
        },
        submitted=local(29),
    )
    s.escalation(campaign, "Approval chain is too long for urgent campaigns", local(26))
    old = s.review(
        "support_postmortem",
        "Old one",
        created=local(1),
        completed=local(10),
        status="closed",
        answers={
            "metadata": {"category": "returns", "ces_score": "1"},
            "report": {"share_at_meeting": True},
        },
        submitted=local(9),
    )
    s.item(refund, "Update the refund KB article", owner=BOB, due=date(2026, 11, 27))
    s.item(
        wrong_size,
        "Train pickers on the new labels",
        owner=ALICE,
        due=date(2026, 12, 10),
        status="in_progress",
    )
    s.item(wrong_size, "Audit label stock", owner=ALICE, due=date(2026, 12, 20))
    s.item(
        refund,
        "Add a refund queue alert",
        owner=ALICE,
        due=date(2026, 11, 25),
        status="done",
        completed=local(24, 17),
    )
    s.item(
        wrong_size,
        "Fix the label printer",
        owner=BOB,
        due=date(2026, 11, 28),
        status="done",
        completed=local(29, 10),
    )
    s.item(
        old, "Done long ago", owner=BOB, due=date(2026, 11, 5), status="done", completed=local(4)
    )
    s.item(old, "Cancelled overdue", owner=BOB, due=date(2026, 11, 5), status="cancelled")
    session.commit()


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)

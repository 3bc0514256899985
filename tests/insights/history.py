"""A few months of post-mortems ending now: what the end-to-end and CLI tests look at."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from .seed import Seed

LESSON_TITLE = "Refund wording <must> match the policy"


def money(amount: str, gst: str) -> dict[str, str]:
    return {"amount": amount, "gst": gst}


def seed_history(session: Session, now: datetime) -> Seed:
    """Reviews over the last 70 days: a lesson on refunds and two reviews repeating it, action
    items kept and missed, scored tickets, an engagement sent back, a campaign over budget."""
    seed = Seed(session)
    day = timedelta(days=1)
    first = seed.review(
        created=now - 70 * day, completed=now - 60 * day, title="Black Friday refunds"
    )
    seed.lesson(first, ["support", "refunds"], published=now - 60 * day, title=LESSON_TITLE)
    for n in (1, 2):
        again = seed.review(
            created=now - (20 + n) * day, completed=now - 10 * day, title=f"Refunds again {n}"
        )
        seed.lesson(again, ["support", "refunds"], published=now - 9 * day)
        seed.ticket(again, opened=now - 25 * day, closed=now - 20 * day, score=2 + n, scale=7)
        seed.item(again, due=(now - 8 * day).date(), status="done", completed=now - 9 * day)
        seed.item(again, due=(now - 8 * day).date(), status="done", completed=now - 2 * day)
    late = seed.review(created=now - 40 * day)
    seed.item(late, due=(now - 30 * day).date(), status="open")
    seed.item(late, due=(now + 10 * day).date(), status="in_progress")
    seed.ticket(None, opened=now - 30 * day)  # open for a month
    job = seed.review("service_delivery", created=now - 50 * day, title="Acme store fit-out")
    seed.submission(
        job,
        "quality_review",
        {},
        at=now - 30 * day,
        decisions={"quality_outcome": "revision_required"},
    )
    seed.submission(
        job,
        "quality_review",
        {},
        revision=2,
        at=now - 25 * day,
        decisions={"quality_outcome": "approved"},
    )
    campaign = seed.review("campaign_postmortem", created=now - 15 * day)
    seed.submission(
        campaign,
        "data_gathering",
        {"budget": money("1100.00", "inclusive"), "actual_spend": money("1200.00", "exclusive")},
    )
    session.commit()
    return seed

"""The insights' SQL on SQLite and PostgreSQL, against numbers checked by hand and against the
pure rules in workflows/insights.py."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from storage import insights as store
from workflows.insights import (
    LATE,
    ON_TIME,
    OPEN,
    OVERDUE,
    ThemeUse,
    both_bases,
    classify,
    repeat_themes,
)

from .seed import SYDNEY, Seed


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def syd(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SYDNEY)


START, END = syd(2026, 1, 1), syd(2026, 7, 1)


def test_reviews_are_counted_in_the_month_they_began_where_the_team_is(session: Session) -> None:
    seed = Seed(session)
    seed.review(created=syd(2026, 1, 31, 23, 30))  # January in Sydney (and in UTC)
    seed.review(created=syd(2026, 2, 1, 0, 30))  # February in Sydney, still January in UTC
    seed.review(created=syd(2026, 2, 10), completed=syd(2026, 3, 1, 9))
    seed.review("campaign_postmortem", created=syd(2026, 2, 11), completed=syd(2026, 2, 20))
    seed.review(created=syd(2025, 12, 31, 23))  # before the period
    session.commit()
    started, completed = store.reviews_by_month(session, seed.ws.id, START, END, SYDNEY)
    assert sorted(started) == [
        ("campaign_postmortem", "2026-02", 1),
        ("support_postmortem", "2026-01", 1),
        ("support_postmortem", "2026-02", 2),
    ]
    assert sorted(completed) == [
        ("campaign_postmortem", "2026-02", 1),
        ("support_postmortem", "2026-03", 1),
    ]


def test_action_items_on_time_late_and_overdue_by_due_month(session: Session) -> None:
    seed = Seed(session)
    r = seed.review(created=syd(2026, 1, 5))
    due = date(2026, 3, 10)
    # Done at 23:30 on the due date in Sydney: on time (the UTC date is the same day).
    seed.item(r, due=due, status="done", completed=syd(2026, 3, 10, 23, 30))
    # Done at 00:30 the day after in Sydney: late, though it is still 10 March in UTC.
    seed.item(r, due=due, status="done", completed=syd(2026, 3, 11, 0, 30))
    seed.item(r, due=due, status="open")  # overdue on 17 June
    seed.item(r, due=date(2026, 6, 17), status="in_progress")  # due today: open, not overdue
    seed.item(r, due=date(2026, 6, 20), status="blocked")
    seed.item(r, due=date(2026, 4, 2), status="cancelled")  # made no promise
    seed.item(r, due=None, status="open")  # no due date
    seed.item(r, due=date(2026, 4, 1), status="done", completed=None)  # no completion time
    seed.item(r, due=date(2025, 12, 31), status="open")  # due before the period
    other = Seed(session, team="T0OTHER")  # another workspace's items never count
    other.versions = seed.versions
    other.item(other.review(created=syd(2026, 1, 5)), due=due, status="open")
    session.commit()
    today, now = date(2026, 6, 17), syd(2026, 6, 17, 9)
    rows = store.items_by_due_month(
        session, seed.ws.id, date(2026, 1, 1), date(2026, 7, 1), today, SYDNEY, now
    )
    assert rows == [
        store.ItemMonth("2026-03", on_time=1, late=1, overdue=1, open=0),
        store.ItemMonth("2026-04", on_time=1, late=0, overdue=0, open=0),
        store.ItemMonth("2026-06", on_time=0, late=0, overdue=0, open=2),
    ]
    assert classify("done", due, syd(2026, 3, 11, 0, 30).date(), today) == LATE


def test_the_sql_classifies_items_as_the_rule_does(session: Session) -> None:
    rng = random.Random(17)
    seed = Seed(session)
    r = seed.review(created=syd(2026, 1, 1))
    today, now = date(2026, 5, 20), syd(2026, 5, 20, 12)
    expected: dict[str, dict[str, int]] = {}
    for _ in range(300):
        due = date(2026, 1, 1) + timedelta(days=rng.randrange(150))
        status = rng.choice(("open", "in_progress", "blocked", "done", "done", "cancelled"))
        completed = None
        if status == "done":
            completed = datetime.combine(due, datetime.min.time(), SYDNEY) + timedelta(
                minutes=rng.randrange(-3000, 3000)
            )
        seed.item(r, due=due, status=status, completed=completed)
        kind = classify(
            status, due, completed.astimezone(SYDNEY).date() if completed else None, today
        )
        if kind in (ON_TIME, LATE, OVERDUE, OPEN):
            expected.setdefault(f"{due:%Y-%m}", {}).setdefault(kind, 0)
            expected[f"{due:%Y-%m}"][kind] += 1
    session.commit()
    rows = store.items_by_due_month(
        session, seed.ws.id, date(2026, 1, 1), date(2026, 7, 1), today, SYDNEY, now
    )
    got = {
        row.month: {
            k: v
            for k, v in (
                ("on_time", row.on_time),
                ("late", row.late),
                ("overdue", row.overdue),
                ("open", row.open),
            )
            if v
        }
        for row in rows
    }
    assert got == expected


def test_items_since_the_last_meeting(session: Session) -> None:
    seed = Seed(session)
    r = seed.review(created=syd(2026, 1, 5))
    start, end = syd(2026, 3, 4, 9), syd(2026, 3, 18, 9)
    seed.item(r, due=date(2026, 3, 10), status="done", completed=syd(2026, 3, 9))  # on time
    seed.item(r, due=date(2026, 3, 1), status="done", completed=syd(2026, 3, 5))  # late
    seed.item(r, due=date(2026, 3, 1), status="done", completed=syd(2026, 3, 3))  # before
    seed.item(r, due=date(2026, 3, 17), status="open")  # overdue at the meeting
    seed.item(r, due=date(2026, 2, 1), status="blocked")  # overdue for a while
    seed.item(r, due=date(2026, 3, 18), status="open")  # due on meeting day: not yet
    seed.item(r, due=None, status="done", completed=syd(2026, 3, 6))  # no promise made
    session.commit()
    assert store.items_since(session, seed.ws.id, start, end, date(2026, 3, 18), SYDNEY) == (
        1,
        1,
        2,
    )


def test_days_from_review_completion_to_its_last_action(session: Session) -> None:
    seed = Seed(session)
    a = seed.review(created=utc(2026, 2, 1), completed=utc(2026, 3, 1))
    seed.item(a, due=None, status="done", completed=utc(2026, 3, 3, 12))
    seed.item(a, due=None, status="done", completed=utc(2026, 3, 5))  # the last: 4 days
    seed.item(a, due=None, status="cancelled")
    b = seed.review(created=utc(2026, 2, 1), completed=utc(2026, 3, 10))
    seed.item(b, due=None, status="done", completed=utc(2026, 3, 8))  # before: -2 days
    c = seed.review(created=utc(2026, 2, 1), completed=utc(2026, 3, 10))
    seed.item(c, due=None, status="done", completed=utc(2026, 3, 11))
    seed.item(c, due=None, status="open")  # not finished: no last action yet
    d = seed.review(created=utc(2026, 2, 1), completed=utc(2026, 3, 10))
    seed.item(d, due=None, status="cancelled")  # nothing was done
    e = seed.review(created=utc(2025, 2, 1), completed=utc(2025, 3, 10))  # before the period
    seed.item(e, due=None, status="done", completed=utc(2025, 3, 11))
    session.commit()
    days = store.days_to_last_action(session, seed.ws.id, utc(2026, 1, 1), utc(2026, 7, 1))
    assert sorted(round(x, 6) for x in days) == [-2.0, 4.0]


def test_ces_per_month_category_and_customer_type_on_one_scale(session: Session) -> None:
    seed = Seed(session)
    jan, feb = seed.review(created=syd(2026, 1, 10)), seed.review(created=syd(2026, 2, 3))
    # 4 on 1-5 is 5.5 on 1-7; 3 on 1-7 stays 3: the average is 4.25.
    seed.ticket(jan, opened=syd(2026, 1, 1), score=4, scale=5)
    seed.ticket(jan, opened=syd(2026, 1, 2), score=3, scale=7)
    seed.ticket(jan, opened=syd(2026, 1, 2), score=7, scale=None, customer="end-user")
    seed.ticket(feb, opened=syd(2026, 2, 1), score=2, scale=7, category=None, customer=None)
    seed.ticket(feb, opened=syd(2026, 2, 1), score=None)  # no score: left out
    seed.ticket(None, opened=syd(2026, 2, 1), score=1, scale=7)  # no post-mortem: left out
    session.commit()
    rows = store.ces_by_month(session, seed.ws.id, START, END, SYDNEY)
    got = [(r.month, r.category, r.customer_type, round(r.average, 4), r.tickets) for r in rows]
    assert got == [
        ("2026-01", "delivery", "end-user", 7.0, 1),
        ("2026-01", "delivery", "reseller", 4.25, 2),
        ("2026-02", "", "", 2.0, 1),
    ]
    # Where 1 means little effort, 4 on 1-5 reads as 2 (2.5 on 1-7) and 3 on 1-7 as 5.
    flipped = store.ces_by_month(session, seed.ws.id, START, END, SYDNEY, higher_is_easier=False)
    assert round(flipped[1].average, 4) == (2.5 + 5.0) / 2


def test_tickets_open_over_14_days(session: Session) -> None:
    seed = Seed(session)
    now = utc(2026, 6, 30)
    seed.ticket(None, opened=now - timedelta(days=15))
    seed.ticket(None, opened=now - timedelta(days=40))
    seed.ticket(None, opened=now - timedelta(days=13))
    seed.ticket(None, opened=now - timedelta(days=30), closed=now - timedelta(days=1))
    session.commit()
    assert store.stale_tickets(session, seed.ws.id, now) == 2


def test_repeat_themes_with_their_first_lesson(session: Session) -> None:
    seed = Seed(session)
    first = seed.review(created=syd(2025, 11, 1), title="Black Friday refunds")
    seed.lesson(
        first, ["support", "refunds", "email"], published=syd(2025, 12, 1), title="Refund wording"
    )
    again = seed.review(created=syd(2026, 1, 10))
    seed.lesson(again, ["support", "refunds"], published=syd(2026, 1, 20))
    third = seed.review(created=syd(2026, 3, 2))
    seed.lesson(
        third, ["support", "refunds", "marketing"], published=syd(2026, 3, 9), team="marketing"
    )
    early = seed.review(created=syd(2025, 11, 20))  # started before the lesson: no repeat
    seed.lesson(early, ["support", "email"], published=syd(2026, 1, 5))
    session.commit()
    themes, by_month = store.repeat_themes(
        session, seed.ws.id, START, END, SYDNEY, ignore={"support", "marketing"}
    )
    assert [(t.theme, t.repeats, t.lessons) for t in themes] == [("refunds", 2, 3)]
    refunds = themes[0]
    assert refunds.first_title == "Refund wording"
    assert refunds.first_link == first.permalink and refunds.first_review_id == first.id
    assert refunds.first_published == syd(2025, 12, 1)
    assert refunds.last_seen == syd(2026, 3, 2)
    assert by_month == [("2026-01", 1), ("2026-03", 1)]
    assert store.theme_teams(session, seed.ws.id) == ["marketing"]


def test_the_sql_finds_the_repeats_the_rule_finds(session: Session) -> None:
    rng = random.Random(3)
    seed = Seed(session)
    uses = []
    for _ in range(120):
        started = syd(2025, 10, 1) + timedelta(hours=rng.randrange(24 * 270))
        published = started + timedelta(hours=rng.randrange(1, 24 * 40))
        review = seed.review(created=started)
        tags = rng.sample(
            ["refunds", "email", "delivery", "billing", "sizing", "courier"], rng.randrange(0, 3)
        )
        entry = seed.lesson(review, tags, published=published)
        uses += [
            ThemeUse(t, entry.id, review.id, review.title, review.permalink, started, published)
            for t in tags
        ]
    session.commit()
    themes, by_month = store.repeat_themes(session, seed.ws.id, START, END, SYDNEY, limit=20)
    expected = repeat_themes(uses, START, END)
    assert [(t.theme, t.repeats, t.lessons, t.last_seen, t.first_entry_id) for t in themes] == [
        (r.theme, r.repeats, r.lessons, r.last_seen, r.first_lesson.entry_id) for r in expected
    ]
    reviews_repeating = {
        u.review_id
        for u in uses
        for r in expected
        if u.theme == r.theme and START <= u.started < END and u.started > r.first_lesson.published
    }
    assert sum(n for _, n in by_month) == len(reviews_repeating)


def test_engagements_sent_back_count_real_submissions_not_edits(session: Session) -> None:
    seed = Seed(session)
    loops = [
        ("service_delivery", "quality_outcome", "revision_required"),
        ("service_delivery", "accepted", "no"),
    ]
    one = seed.review("service_delivery", created=syd(2026, 2, 1), title="Acme fit-out")
    at = syd(2026, 2, 10)
    seed.submission(
        one, "quality_review", {}, at=at, decisions={"quality_outcome": "revision_required"}
    )
    seed.submission(
        one,
        "quality_review",
        {},
        revision=2,
        at=at + timedelta(days=3),
        decisions={"quality_outcome": "revision_required"},
    )
    seed.submission(
        one,
        "quality_review",
        {},
        revision=3,
        at=at + timedelta(days=6),
        decisions={"quality_outcome": "approved"},
    )
    seed.submission(
        one, "customer_acceptance", {}, at=at + timedelta(days=9), decisions={"accepted": "no"}
    )
    # An owner's correction of the first stage's answers records the decision again: no loop.
    seed.submission(
        one,
        "quality_review",
        {},
        revision=4,
        at=at + timedelta(days=10),
        decisions={"quality_outcome": "revision_required"},
        edit=True,
    )
    smooth = seed.review("service_delivery", created=syd(2026, 2, 1))
    seed.submission(smooth, "quality_review", {}, at=at, decisions={"quality_outcome": "approved"})
    old = seed.review("service_delivery", created=syd(2025, 2, 1))
    seed.submission(
        old,
        "quality_review",
        {},
        at=syd(2025, 3, 1),
        decisions={"quality_outcome": "revision_required"},
    )
    session.commit()
    rows, engagements = store.sent_back(session, seed.ws.id, START, END, loops)
    assert [(r.review_id, r.title, r.decision_key, r.times) for r in rows] == [
        (one.id, "Acme fit-out", "accepted", 1),
        (one.id, "Acme fit-out", "quality_outcome", 2),
    ]
    assert engagements == 2
    assert store.sent_back(session, seed.ws.id, START, END, []) == ([], 0)


def money(amount: str, gst: str) -> dict[str, str]:
    return {"amount": amount, "gst": gst}


def test_budget_and_actual_on_the_same_gst_basis(session: Session) -> None:
    seed = Seed(session)
    spec = [("campaign_postmortem", "data_gathering", "budget", "data_gathering", "actual_spend")]
    a = seed.review("campaign_postmortem", created=syd(2026, 1, 5))
    # $1,100 incl. GST budget against $1,000 excl. GST spent: the same money, not over.
    seed.submission(
        a,
        "data_gathering",
        {"budget": money("1100.00", "inclusive"), "actual_spend": money("1000.00", "exclusive")},
    )
    b = seed.review("campaign_postmortem", created=syd(2026, 1, 20))
    seed.submission(
        b,
        "data_gathering",
        {"budget": money("500.00", "exclusive"), "actual_spend": money("10.05", "inclusive")},
    )
    # Revised: only the newest answers count ($600 excl. spent against $500: over budget).
    seed.submission(
        b,
        "data_gathering",
        {"budget": money("500.00", "exclusive"), "actual_spend": money("600.00", "exclusive")},
        revision=2,
    )
    c = seed.review("campaign_postmortem", created=syd(2026, 2, 2))
    seed.submission(
        c,
        "data_gathering",
        {"budget": money("10.05", "inclusive"), "actual_spend": money("0.05", "exclusive")},
    )
    d = seed.review("campaign_postmortem", created=syd(2026, 2, 3))
    seed.submission(d, "data_gathering", {"budget": money("100.00", "inclusive")})  # no actual
    session.commit()
    rows = store.budget_vs_actual(session, seed.ws.id, START, END, SYDNEY, spec)
    # January: budgets 1100.00 incl / 1000.00 excl and 550.00 / 500.00; actuals 1100.00 /
    # 1000.00 and 660.00 / 600.00. February: budget 10.05 incl is 9.14 excl; actual 0.05 excl
    # is 0.06 incl (half a cent of GST rounds up).
    assert rows == [
        store.BudgetRow("2026-01", 2, 1, 165000, 150000, 176000, 160000),
        store.BudgetRow("2026-02", 1, 0, 1005, 914, 6, 5),
    ]
    assert both_bases(1005, "inclusive") == (1005, 914)


@pytest.mark.parametrize(
    "amount", ["0.00", "0.05", "0.06", "10.05", "99.99", "1234567.89", "0.55", "0.65", "1.15"]
)
def test_the_sql_gst_matches_the_rule_for_awkward_cents(session: Session, amount: str) -> None:
    seed = Seed(session)
    spec = [("campaign_postmortem", "data_gathering", "budget", "data_gathering", "actual_spend")]
    r = seed.review("campaign_postmortem", created=syd(2026, 1, 5))
    seed.submission(
        r,
        "data_gathering",
        {"budget": money(amount, "inclusive"), "actual_spend": money(amount, "exclusive")},
    )
    session.commit()
    (row,) = store.budget_vs_actual(session, seed.ws.id, START, END, SYDNEY, spec)
    cents = round(float(amount) * 100)
    assert (row.budget_incl, row.budget_excl) == both_bases(cents, "inclusive")
    assert (row.actual_incl, row.actual_excl) == both_bases(cents, "exclusive")

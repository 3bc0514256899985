"""The insights' pure rules, with numbers checked by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from workflows.au.budget import amount as budget_amount
from workflows.insights import (
    LATE,
    NO_DUE_DATE,
    ON_TIME,
    OPEN,
    OVERDUE,
    CesPoint,
    Insights,
    ItemCounts,
    Period,
    PeriodError,
    ThemeUse,
    as_json,
    as_rows,
    both_bases,
    ces_by,
    classify,
    median,
    months_between,
    parse_period,
    repeat_themes,
    waited,
)

TODAY = date(2026, 6, 17)
SYDNEY = ZoneInfo("Australia/Sydney")


def at(day: int, month: int = 1, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


# --- periods ---------------------------------------------------------------------------------


def test_the_default_period_is_this_month_and_the_five_before() -> None:
    period = parse_period("", TODAY)
    assert (period.start, period.end) == (date(2026, 1, 1), date(2026, 6, 18))
    assert period.months() == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("3m", date(2026, 4, 1), date(2026, 6, 18)),
        ("last 12 months", date(2025, 7, 1), date(2026, 6, 18)),
        ("1y", date(2025, 7, 1), date(2026, 6, 18)),
        ("2w", date(2026, 6, 4), date(2026, 6, 18)),
        ("90d", date(2026, 3, 20), date(2026, 6, 18)),
        ("2025", date(2025, 1, 1), date(2026, 1, 1)),
        ("2026", date(2026, 1, 1), date(2026, 6, 18)),  # a year so far ends today
        ("2026-02", date(2026, 2, 1), date(2026, 3, 1)),
        ("since 2026-01-01", date(2026, 1, 1), date(2026, 6, 18)),
        ("2026-03-15", date(2026, 3, 15), date(2026, 6, 18)),
        ("2026-01-01..2026-03-31", date(2026, 1, 1), date(2026, 4, 1)),
    ],
)
def test_periods_people_type(text: str, start: date, end: date) -> None:
    period = parse_period(text, TODAY)
    assert (period.start, period.end) == (start, end)


def test_all_time_starts_at_the_first_review_month() -> None:
    period = parse_period("all", TODAY, earliest=date(2024, 11, 20))
    assert period.start == date(2024, 11, 1) and "Nov 2024" in period.label


@pytest.mark.parametrize(
    "text", ["soon", "0m", "2026-13", "2026-02-30", "2027-01-01", "2026-03-01..2026-02-01", "500y"]
)
def test_periods_we_cannot_read_say_what_would_work(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text, TODAY)


def test_a_period_is_bounded_at_local_midnight() -> None:
    start, end = Period(date(2026, 1, 1), date(2026, 2, 1), "January").bounds(SYDNEY)
    # Sydney is on daylight time (UTC+11) in January.
    assert start == datetime(2025, 12, 31, 13, tzinfo=UTC)
    assert end == datetime(2026, 1, 31, 13, tzinfo=UTC)


def test_months_between_covers_part_months_at_both_ends() -> None:
    assert months_between(date(2025, 11, 20), date(2026, 2, 2)) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert months_between(date(2026, 3, 1), date(2026, 3, 1)) == []


# --- action items ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "due", "done_on", "expected"),
    [
        ("done", date(2026, 6, 10), date(2026, 6, 10), ON_TIME),  # on the day is on time
        ("done", date(2026, 6, 10), date(2026, 6, 11), LATE),
        ("done", date(2026, 6, 10), date(2026, 5, 1), ON_TIME),
        ("open", date(2026, 6, 16), None, OVERDUE),
        ("blocked", date(2026, 6, 17), None, OPEN),  # due today is not overdue yet
        ("in_progress", date(2026, 7, 1), None, OPEN),
        ("open", None, None, NO_DUE_DATE),
        ("cancelled", date(2026, 1, 1), None, "cancelled"),
    ],
)
def test_on_time_late_overdue(
    status: str, due: date | None, done_on: date | None, expected: str
) -> None:
    assert classify(status, due, done_on, TODAY) == expected


def test_median_of_even_and_odd_lists() -> None:
    assert median([]) is None
    assert median([5.0, 1.0, 3.0]) == 3.0
    assert median([4.0, 1.0, 2.0, 10.0]) == 3.0


def test_days_from_review_to_last_action_never_go_negative() -> None:
    assert waited(3.5) == 3.5
    assert waited(-2.0) == 0.0
    assert median(waited(d) for d in (-2.0, 4.0, 1.0, 9.5)) == 2.5  # 0, 1, 4, 9.5


# --- repeat themes ---------------------------------------------------------------------------


def use(theme: str, review: int, started: datetime, published: datetime) -> ThemeUse:
    return ThemeUse(
        theme, review * 10, review, f"Review {review}", f"https://x/{review}", started, published
    )


def test_a_theme_repeats_when_a_review_starts_after_its_first_lesson() -> None:
    uses = [
        use("refunds", 1, at(1), at(5)),  # the first lesson on refunds, published 5 Jan
        use("refunds", 2, at(3), at(20)),  # started before that lesson: not a repeat
        use("refunds", 3, at(6), at(25)),  # started after: a repeat
        use("refunds", 4, at(10, 2), at(12, 2)),  # a repeat in February
        use("email", 3, at(6), at(25)),  # only one review on email: no repeat
        use("delivery", 5, at(2), at(4)),
        use("delivery", 6, at(9), at(11)),  # a repeat of delivery, January
    ]
    found = repeat_themes(uses, at(1), at(1, 3))
    assert [(r.theme, r.repeats, r.lessons) for r in found] == [
        ("refunds", 2, 4),
        ("delivery", 1, 2),
    ]
    refunds = found[0]
    assert refunds.first_lesson.review_id == 1 and refunds.first_lesson.link == "https://x/1"
    assert refunds.last_seen == at(10, 2)
    # Only reviews started in the period count; lessons from before it still do.
    february = repeat_themes(uses, at(1, 2), at(1, 3))
    assert [(r.theme, r.repeats) for r in february] == [("refunds", 1)]


def test_a_review_started_the_moment_a_lesson_appeared_is_not_a_repeat() -> None:
    uses = [use("x", 1, at(1), at(5)), use("x", 2, at(5), at(9))]
    assert repeat_themes(uses, at(1), at(1, 2)) == []


# --- GST -------------------------------------------------------------------------------------


def test_the_sql_cents_arithmetic_matches_the_gst_rules_for_every_cent_to_100_dollars() -> None:
    """workflows.au.budget (Decimal, GST Act s9-70 and s9-90) is the reference."""
    for c in range(0, 10_001):
        amount = f"{Decimal(c) / 100:.2f}"
        for basis in ("inclusive", "exclusive"):
            ref = budget_amount({"amount": amount, "gst": basis})
            assert both_bases(c, basis) == (int(ref.incl * 100), int(ref.excl * 100)), amount


def test_gst_cents_by_hand() -> None:
    assert both_bases(110000, "inclusive") == (110000, 100000)  # $1,100 incl -> $1,000 excl
    assert both_bases(1005, "inclusive") == (1005, 914)  # GST $0.91 (s9-90 rounding)
    assert both_bases(100000, "exclusive") == (110000, 100000)
    assert both_bases(5, "exclusive") == (6, 5)  # half a cent of GST rounds up
    assert both_bases(-1005, "inclusive") == (-1005, -914)


# --- what is written out ---------------------------------------------------------------------


def sample() -> Insights:
    period = Period(date(2026, 1, 1), date(2026, 3, 1), "Jan – Feb 2026")
    return Insights(
        period=period,
        months=("2026-01", "2026-02"),
        workflows={"support_postmortem": "Support post-mortem"},
        started={"support_postmortem": {"2026-01": 3, "2026-02": 1}},
        completed={"support_postmortem": {"2026-02": 2}},
        items={"2026-01": ItemCounts(on_time=4, late=1, overdue=2)},
        median_days_to_last_action=6.5,
        reviews_with_all_actions_done=2,
        ces=(
            CesPoint("2026-01", "delivery", "reseller", 3.0, 2),
            CesPoint("2026-01", "delivery", "end-user", 6.0, 1),
            CesPoint("2026-02", "billing", "end-user", 5.0, 1),
        ),
        stale_tickets=3,
        repeats=(),
        repeat_reviews={"2026-02": 1},
        engagements=0,
        loops=(),
        budget=(),
    )


def test_json_and_rows_carry_the_same_figures() -> None:
    ins = sample()
    data = as_json(ins)
    assert data["action_items"][0] == {
        "due_month": "2026-01",
        "done_on_time": 4,
        "done_late": 1,
        "open_overdue": 2,
        "open_not_due": 0,
    }
    assert data["ces_average_1_to_7"] == 4.25  # (3*2 + 6 + 5) / 4
    assert data["tickets_open_over_14_days"] == 3
    rows = as_rows(ins)
    assert ("reviews", "2026-02", "Support post-mortem", "completed", "2") in rows
    assert ("action items by due month", "2026-01", "", "open overdue", "2") in rows
    assert ("repeat themes by month", "2026-02", "", "reviews repeating a theme", "1") in rows


def test_ces_is_averaged_by_tickets_within_a_group() -> None:
    by_type = ces_by(sample().ces, "category")
    assert by_type["delivery"]["2026-01"] == (4.0, 3)  # (3*2 + 6) / 3
    assert by_type["billing"] == {"2026-02": (5.0, 1)}


def test_totals() -> None:
    ins = sample()
    assert (ins.started_total(), ins.completed_total()) == (4, 2)
    assert ins.item_totals() == ItemCounts(4, 1, 2, 0)
    assert ins.started_by_month() == [3, 1]
    assert ins.period.end - ins.period.start == timedelta(days=59)

"""A hand-made half year of insights for the chart and view tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from workflows.insights import (
    BudgetMonth,
    CesPoint,
    Engagement,
    Insights,
    ItemCounts,
    Lesson,
    Period,
    Repeat,
)

MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06")


def half_year() -> Insights:
    lesson = Lesson(
        1, 11, "Refund <wording>", "https://slack.example/p11", datetime(2025, 12, 1, tzinfo=UTC)
    )
    return Insights(
        period=Period(date(2026, 1, 1), date(2026, 7, 1), "1 Jan 2026 – 30 Jun 2026"),
        months=MONTHS,
        workflows={"support_postmortem": "Support post-mortem"},
        started={"support_postmortem": dict(zip(MONTHS, (12, 9, 14, 8, 11, 6), strict=True))},
        completed={"support_postmortem": dict(zip(MONTHS, (7, 10, 9, 12, 8, 5), strict=True))},
        items={m: ItemCounts(20 - i, 3, i) for i, m in enumerate(MONTHS)},
        median_days_to_last_action=6.0,
        reviews_with_all_actions_done=20,
        ces=tuple(
            CesPoint(m, c, "reseller", v, 3)
            for m in MONTHS
            for c, v in (("delivery", 3.2), ("billing", 4.5))
        ),
        stale_tickets=2,
        repeats=(Repeat("refunds", lesson, 2, 5, datetime(2026, 6, 2, tzinfo=UTC)),),
        repeat_reviews=dict(zip(MONTHS, (3, 4, 2, 2, 1, 1), strict=True)),
        engagements=3,
        loops=(Engagement(7, "Acme <fit-out>", None, {"quality_outcome": 2}),),
        budget=(BudgetMonth("2026-02", 2, 1, 110000, 100000, 132000, 120000),),
        loop_labels={"quality_outcome": "Quality Review: Revision required"},
    )


def empty() -> Insights:
    return Insights(
        period=Period(date(2026, 1, 1), date(2026, 7, 1), "1 Jan 2026 – 30 Jun 2026"),
        months=MONTHS,
        workflows={},
        started={},
        completed={},
        items={},
        median_days_to_last_action=None,
        reviews_with_all_actions_done=0,
        ces=(),
        stale_tickets=0,
        repeats=(),
        repeat_reviews={},
        engagements=0,
        loops=(),
        budget=(),
    )

"""Insights as plain data: periods, months, on-time rules, medians and repeat themes.

The database does the counting (storage/insights.py); what is left is small and is decided here,
where it can be tested with numbers checked by hand: which months a period spans, when an action
item counts as done on time, the median of a short list, what makes a theme a "repeat" (the
"same mistake twice" signal), and the GST arithmetic the SQL repeats in whole cents.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

# --- periods and months ----------------------------------------------------------------------

DEFAULT_MONTHS = 6
MAX_MONTHS = 120  # ten years of monthly bars is already more than a chart can label


class PeriodError(ValueError):
    """A period the person typed that we cannot read; the message says what would work."""


@dataclass(frozen=True)
class Period:
    """Calendar dates [start, end) in the workspace's timezone, and how to say it."""

    start: date
    end: date
    label: str

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The period as aware UTC instants: midnight to midnight where the team is."""
        return (
            datetime.combine(self.start, time(0), zone).astimezone(UTC),
            datetime.combine(self.end, time(0), zone).astimezone(UTC),
        )

    def months(self) -> list[str]:
        return months_between(self.start, self.end)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, n: int) -> date:
    """The first day of the month `n` months after `day`'s month (n may be negative)."""
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> list[str]:
    """Every month that has a day in [start, end), oldest first: the chart's x axis."""
    if end <= start:
        return []
    out, at = [], month_start(start)
    while at < end:
        out.append(month_key(at))
        at = add_months(at, 1)
    return out


def month_label(key: str) -> str:
    """'2026-03' -> 'Mar 2026' (axis labels in words)."""
    return date(int(key[:4]), int(key[5:7]), 1).strftime("%b %Y")


def _range_label(start: date, end: date) -> str:
    last = end - timedelta(days=1)
    return f"{start:%-d %b %Y} – {last:%-d %b %Y}"


_UNITS = {
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "m": "months",
    "month": "months",
    "months": "months",
    "mo": "months",
    "y": "years",
    "year": "years",
    "years": "years",
}
PERIOD_HELP = (
    "Periods: `3m`, `6 months`, `12w`, `90d`, `1y`, `2026`, `2026-03`, "
    "`since 2026-01-01`, `2026-01-01..2026-06-30` or `all`."
)


def parse_period(text: str, today: date, *, earliest: date | None = None) -> Period:
    """What `/postmortem insights [period]` and `--since` accept; the default is six months.

    "6m" means this month and the five before it (whole months, so the first bar is not a
    stub); days and weeks end today. `earliest` is where "all" begins (the first review).
    """
    words = " ".join(text.lower().split())
    tomorrow = today + timedelta(days=1)
    if words in ("", "default"):
        words = f"{DEFAULT_MONTHS}m"
    if words in ("all", "all time", "everything"):
        start = month_start(earliest or today)
        return Period(start, tomorrow, f"all time (since {start:%b %Y})")
    if m := re.fullmatch(r"(?:last\s+)?(\d{1,4})\s*([a-z]+)", words):
        n, unit = int(m.group(1)), _UNITS.get(m.group(2))
        if unit is None or n < 1:
            raise PeriodError(f"I can't read the period `{text}`. {PERIOD_HELP}")
        if unit == "days":
            start = tomorrow - timedelta(days=n)
        elif unit == "weeks":
            start = tomorrow - timedelta(weeks=n)
        else:
            months = n * 12 if unit == "years" else n
            if months > MAX_MONTHS:
                raise PeriodError(f"That is more than {MAX_MONTHS // 12} years: try `all`.")
            start = add_months(today, -(months - 1))
        return Period(start, tomorrow, f"{_range_label(start, tomorrow)}")
    if m := re.fullmatch(r"(\d{4})", words):
        year = int(m.group(1))
        return Period(date(year, 1, 1), min(date(year + 1, 1, 1), tomorrow), f"{year}")
    if m := re.fullmatch(r"(\d{4})-(\d{2})", words):
        try:
            start = date(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            raise PeriodError(f"`{text}` is not a month. {PERIOD_HELP}") from None
        return Period(start, min(add_months(start, 1), tomorrow), f"{start:%B %Y}")
    if m := re.fullmatch(r"(?:since\s+)?(\d{4}-\d{2}-\d{2})", words):
        start = _iso(m.group(1), text)
        if start > today:
            raise PeriodError(f"{start:%-d %b %Y} is in the future.")
        return Period(start, tomorrow, f"since {start:%-d %b %Y}")
    if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\s*(?:\.\.|to|–|-)\s*(\d{4}-\d{2}-\d{2})", words):
        start, last = _iso(m.group(1), text), _iso(m.group(2), text)
        if last < start:
            raise PeriodError("The period ends before it starts.")
        end = min(last + timedelta(days=1), tomorrow)
        return Period(start, end, _range_label(start, end))
    raise PeriodError(f"I can't read the period `{text}`. {PERIOD_HELP}")


def _iso(value: str, text: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError(f"`{text}` has a date that does not exist. {PERIOD_HELP}") from None


# --- action items: on time, late, overdue ----------------------------------------------------

ON_TIME, LATE, OVERDUE, OPEN, NO_DUE_DATE, CANCELLED = (
    "on_time",
    "late",
    "overdue",
    "open",
    "no_due_date",
    "cancelled",
)
OPEN_STATUSES = ("open", "in_progress", "blocked")


def classify(status: str, due: date | None, done_on: date | None, today: date) -> str:
    """Where an action item stands for the insights.

    On time is the owner's promise: done on or before the due date, on the team's calendar
    (`done_on` is the completion's local date). An open item is overdue from the day after its
    due date. Cancelled items and items without a due date made no promise to keep.
    """
    if status == "cancelled":
        return CANCELLED
    if due is None:
        return NO_DUE_DATE
    if status == "done":
        if done_on is None:
            return ON_TIME  # done before completion times were recorded: no evidence of lateness
        return ON_TIME if done_on <= due else LATE
    return OVERDUE if due < today else OPEN


def median(values: Iterable[float]) -> float | None:
    found = sorted(values)
    return statistics.median(found) if found else None


def waited(days: float) -> float:
    """Days from a review's completion to its last action done, never negative: an action
    finished before the review was closed waited no days after it."""
    return max(0.0, days)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percent(part: int, whole: int) -> str:
    value = share(part, whole)
    return "–" if value is None else f"{round(value * 100)}%"


# --- repeat themes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeUse:
    """One review's knowledge-base entry carrying a theme (a tag)."""

    theme: str
    entry_id: int
    review_id: int
    title: str
    link: str | None
    started: datetime  # when the review began
    published: datetime  # when its lesson went into the knowledge base


@dataclass(frozen=True)
class Lesson:
    entry_id: int
    review_id: int
    title: str
    link: str | None
    published: datetime


@dataclass(frozen=True)
class Repeat:
    """A theme that came back: reviews started after a lesson on it had been published."""

    theme: str
    first_lesson: Lesson
    lessons: int  # lessons on the theme published before the period ended
    repeats: int  # reviews started in the period, after the first lesson was published
    last_seen: datetime


def repeat_themes(uses: Iterable[ThemeUse], start: datetime, end: datetime) -> list[Repeat]:
    """The "same mistake twice" signal: most repeated first.

    A review repeats a theme when it started (in [start, end)) after a lesson with that theme
    was published. Its own lesson never counts, as a review starts before its lesson exists.
    This is the rule storage/insights.py computes in SQL; its tests compare the two.
    """
    by_theme: dict[str, list[ThemeUse]] = {}
    for use in uses:
        by_theme.setdefault(use.theme, []).append(use)
    found = []
    for theme, rows in by_theme.items():
        first = min(rows, key=lambda u: (u.published, u.entry_id))
        later = {
            u.review_id: u.started
            for u in rows
            if start <= u.started < end and u.started > first.published
        }
        if not later:
            continue
        lessons = sum(1 for u in rows if u.published < end)
        found.append(
            Repeat(
                theme,
                Lesson(first.entry_id, first.review_id, first.title, first.link, first.published),
                lessons,
                len(later),
                max(later.values()),
            )
        )
    return sorted(found, key=lambda r: (-r.repeats, r.theme))


# --- GST in whole cents (the SQL's arithmetic) -----------------------------------------------


def both_bases(amount_cents: int, basis: str) -> tuple[int, int]:
    """(incl. GST, excl. GST) in cents, as storage/insights.py computes them in SQL.

    Integer arithmetic that both databases do alike: GST is 1/11 of an inclusive amount or
    10% of an exclusive one, rounded half a cent up (GST Act s9-70, s9-90), i.e.
    (2c + 11) // 22 and (c + 5) // 10 for c >= 0, mirrored for negative amounts.
    tests/insights/test_pure.py checks this against workflows.au.budget for every cent to $100.
    """
    sign, c = (-1 if amount_cents < 0 else 1), abs(amount_cents)
    if basis == "inclusive":
        return amount_cents, sign * (c - (2 * c + 11) // 22)
    return sign * (c + (c + 5) // 10), amount_cents


# --- the assembled figures -------------------------------------------------------------------


@dataclass(frozen=True)
class ItemCounts:
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    open: int = 0

    @property
    def done(self) -> int:
        return self.on_time + self.late

    @property
    def promised(self) -> int:
        """Items whose due date has come: done, or open and overdue."""
        return self.on_time + self.late + self.overdue


@dataclass(frozen=True)
class CesPoint:
    month: str
    category: str
    customer_type: str
    average: float  # 1-7, 7 easiest
    tickets: int


@dataclass(frozen=True)
class Engagement:
    review_id: int
    title: str
    link: str | None
    loops: Mapping[str, int]  # decision key -> times sent back

    @property
    def total(self) -> int:
        return sum(self.loops.values())


@dataclass(frozen=True)
class BudgetMonth:
    month: str
    reviews: int
    over_budget: int
    budget_incl: int  # cents
    budget_excl: int
    actual_incl: int
    actual_excl: int


@dataclass(frozen=True)
class Insights:
    """Every figure of one period: what the command, App Home, the CLI and the charts show."""

    period: Period
    months: tuple[str, ...]
    workflows: Mapping[str, str]  # key -> name
    started: Mapping[str, Mapping[str, int]]  # workflow key -> month -> reviews started
    completed: Mapping[str, Mapping[str, int]]
    items: Mapping[str, ItemCounts]  # due month -> counts
    median_days_to_last_action: float | None
    reviews_with_all_actions_done: int
    ces: tuple[CesPoint, ...]
    stale_tickets: int
    repeats: tuple[Repeat, ...]
    repeat_reviews: Mapping[str, int]  # month -> reviews started that repeat a theme
    engagements: int  # service delivery engagements with decisions in the period
    loops: tuple[Engagement, ...]  # those sent back at least once, most loops first
    budget: tuple[BudgetMonth, ...]
    loop_labels: Mapping[str, str] = field(default_factory=dict)  # decision key -> words

    def started_total(self) -> int:
        return sum(sum(m.values()) for m in self.started.values())

    def completed_total(self) -> int:
        return sum(sum(m.values()) for m in self.completed.values())

    def started_by_month(self) -> list[int]:
        return [sum(self.started[k].get(m, 0) for k in self.started) for m in self.months]

    def item_totals(self) -> ItemCounts:
        return ItemCounts(
            *(
                sum(getattr(c, f) for c in self.items.values())
                for f in ("on_time", "late", "overdue", "open")
            )
        )

    def ces_average(self) -> tuple[float | None, int]:
        tickets = sum(p.tickets for p in self.ces)
        if not tickets:
            return None, 0
        return sum(p.average * p.tickets for p in self.ces) / tickets, tickets

    def budget_totals(self) -> BudgetMonth:
        return BudgetMonth(
            "all",
            *(
                sum(getattr(b, f) for b in self.budget)
                for f in (
                    "reviews",
                    "over_budget",
                    "budget_incl",
                    "budget_excl",
                    "actual_incl",
                    "actual_excl",
                )
            ),
        )


def ces_by(points: Iterable[CesPoint], key: str) -> dict[str, dict[str, tuple[float, int]]]:
    """Monthly average CES per category or customer type: {group: {month: (average, n)}}."""
    sums: dict[str, dict[str, list[float]]] = {}
    for p in points:
        group = getattr(p, key)
        cell = sums.setdefault(group, {}).setdefault(p.month, [0.0, 0])
        cell[0] += p.average * p.tickets
        cell[1] += p.tickets
    return {g: {m: (s / n, int(n)) for m, (s, n) in months.items()} for g, months in sums.items()}


def _money(c: int) -> str:
    return f"{Decimal(c) / 100:.2f}"


def as_json(ins: Insights) -> dict[str, Any]:
    """The figures for people who want them elsewhere (`postmortem-bot insights --format json`)."""
    avg, tickets = ins.ces_average()
    totals = ins.item_totals()
    return {
        "period": {
            "start": ins.period.start.isoformat(),
            "end": ins.period.end.isoformat(),
            "label": ins.period.label,
        },
        "reviews": [
            {
                "month": m,
                "workflow": k,
                "workflow_name": ins.workflows.get(k, k),
                "started": ins.started.get(k, {}).get(m, 0),
                "completed": ins.completed.get(k, {}).get(m, 0),
            }
            for m in ins.months
            for k in sorted({*ins.started, *ins.completed})
        ],
        "action_items": [
            {
                "due_month": m,
                "done_on_time": c.on_time,
                "done_late": c.late,
                "open_overdue": c.overdue,
                "open_not_due": c.open,
            }
            for m, c in ((m, ins.items.get(m, ItemCounts())) for m in ins.months)
        ],
        "action_items_total": {
            "done_on_time": totals.on_time,
            "done_late": totals.late,
            "open_overdue": totals.overdue,
            "open_not_due": totals.open,
        },
        "median_days_review_to_last_action": ins.median_days_to_last_action,
        "reviews_with_all_actions_done": ins.reviews_with_all_actions_done,
        "ces": [
            {
                "month": p.month,
                "category": p.category,
                "customer_type": p.customer_type,
                "average_1_to_7": round(p.average, 2),
                "tickets": p.tickets,
            }
            for p in ins.ces
        ],
        "ces_average_1_to_7": None if avg is None else round(avg, 2),
        "ces_tickets": tickets,
        "tickets_open_over_14_days": ins.stale_tickets,
        "repeat_themes": [
            {
                "theme": r.theme,
                "repeats": r.repeats,
                "lessons": r.lessons,
                "last_seen": r.last_seen.isoformat(),
                "first_lesson": {
                    "title": r.first_lesson.title,
                    "link": r.first_lesson.link,
                    "review_id": r.first_lesson.review_id,
                    "published": r.first_lesson.published.isoformat(),
                },
            }
            for r in ins.repeats
        ],
        "repeat_reviews_by_month": [
            {"month": m, "reviews": ins.repeat_reviews.get(m, 0), "started": s}
            for m, s in zip(ins.months, ins.started_by_month(), strict=True)
        ],
        "service_delivery": {
            "engagements": ins.engagements,
            "sent_back": [
                {
                    "review_id": e.review_id,
                    "title": e.title,
                    "link": e.link,
                    "loops": dict(e.loops),
                    "total": e.total,
                }
                for e in ins.loops
            ],
            "budget": [
                {
                    "month": b.month,
                    "reviews": b.reviews,
                    "over_budget": b.over_budget,
                    "budget_incl_gst": _money(b.budget_incl),
                    "budget_excl_gst": _money(b.budget_excl),
                    "actual_incl_gst": _money(b.actual_incl),
                    "actual_excl_gst": _money(b.actual_excl),
                }
                for b in ins.budget
            ],
        },
    }


CSV_COLUMNS = ("figure", "month", "group", "measure", "value")


def as_rows(ins: Insights) -> list[tuple[str, str, str, str, str]]:
    """One figure per row (figure, month, group, measure, value): a spreadsheet pivots it."""
    rows: list[tuple[str, str, str, str, str]] = []
    for m in ins.months:
        for k in sorted({*ins.started, *ins.completed}):
            name = ins.workflows.get(k, k)
            rows.append(("reviews", m, name, "started", str(ins.started.get(k, {}).get(m, 0))))
            rows.append(("reviews", m, name, "completed", str(ins.completed.get(k, {}).get(m, 0))))
    for m in ins.months:
        c = ins.items.get(m, ItemCounts())
        for measure, value in (
            ("done on time", c.on_time),
            ("done late", c.late),
            ("open overdue", c.overdue),
            ("open not due", c.open),
        ):
            rows.append(("action items by due month", m, "", measure, str(value)))
    if ins.median_days_to_last_action is not None:
        rows.append(
            (
                "review to last action",
                "",
                "",
                "median days",
                f"{ins.median_days_to_last_action:.1f}",
            )
        )
    for p in ins.ces:
        group = f"{p.category} / {p.customer_type}"
        rows.append(("support CES (1-7, 7 easiest)", p.month, group, "average", f"{p.average:.2f}"))
        rows.append(("support CES (1-7, 7 easiest)", p.month, group, "tickets", str(p.tickets)))
    rows.append(("tickets open over 14 days", "", "", "tickets", str(ins.stale_tickets)))
    for r in ins.repeats:
        rows.append(("repeat themes", "", r.theme, "reviews after a lesson", str(r.repeats)))
    for m, started in zip(ins.months, ins.started_by_month(), strict=True):
        rows.append(
            (
                "repeat themes by month",
                m,
                "",
                "reviews repeating a theme",
                str(ins.repeat_reviews.get(m, 0)),
            )
        )
        rows.append(("repeat themes by month", m, "", "reviews started", str(started)))
    for e in ins.loops:
        for key, n in sorted(e.loops.items()):
            rows.append(
                ("service delivery sent back", "", e.title, ins.loop_labels.get(key, key), str(n))
            )
    for b in ins.budget:
        for measure, value in (
            ("budget excl. GST", b.budget_excl),
            ("actual excl. GST", b.actual_excl),
            ("budget incl. GST", b.budget_incl),
            ("actual incl. GST", b.actual_incl),
        ):
            rows.append(("budget vs actual", b.month, "", measure, _money(value)))
        rows.append(("budget vs actual", b.month, "", "over budget", str(b.over_budget)))
    return rows

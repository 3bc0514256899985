"""The insights' figures, counted by the database: grouped rows, never every row.

A workspace with 10,000 reviews and 100,000 action items must get its insights in well under a
second, so each figure is one grouped query on SQLite and PostgreSQL alike; what comes back is a
row per month and group (or, for the review-to-last-action median, one number per review of the
period). The rules behind the numbers live in workflows/insights.py, and the tests check the SQL
against them on both databases.

Months are calendar months in the team's timezone: an instant is turned into its local date in
SQL with the zone's UTC offsets over the period (storage.digests does the same for "on time").
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Numeric,
    and_,
    case,
    cast,
    distinct,
    exists,
    extract,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from storage.digests import _local_date, _offsets
from storage.knowledge import KnowledgeEntry
from storage.models import ActionItem, AuditEntry, Decision, Review, StageSubmission
from storage.reviews import OPEN_ITEM_STATUSES
from storage.tickets import Ticket

STALE_AFTER = timedelta(days=14)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def month_of(session: Session, day: Any) -> ColumnElement[str]:
    """'YYYY-MM' of a date expression."""
    if _postgres(session):
        return func.to_char(day, "YYYY-MM")
    return func.strftime("%Y-%m", day)


def _local(
    session: Session, instant: Any, zone: tzinfo, low: datetime, high: datetime
) -> ColumnElement[Any]:
    """The local calendar date of an instant; exact for instants in [low, high]."""
    return _local_date(session, instant, _offsets(zone, low, high))


# --- reviews ---------------------------------------------------------------------------------


def reviews_by_month(
    session: Session, workspace_id: int, start: datetime, end: datetime, zone: tzinfo
) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    """([(workflow key, month, reviews started)], [(workflow key, month, reviews completed)])."""

    def grouped(column: Any) -> list[tuple[str, str, int]]:
        month = month_of(session, _local(session, column, zone, start, end)).label("month")
        rows = session.execute(
            select(Review.workflow_key, month, func.count())
            .where(Review.workspace_id == workspace_id, column >= start, column < end)
            .group_by(Review.workflow_key, month)
        )
        return [(k, m, int(n)) for k, m, n in rows]

    return grouped(Review.created_at), grouped(Review.completed_at)


def first_review_at(session: Session, workspace_id: int) -> datetime | None:
    """Where "all time" begins."""
    return session.scalar(
        select(func.min(Review.created_at)).where(Review.workspace_id == workspace_id)
    )


# --- action items ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemMonth:
    month: str  # the month the items were due
    on_time: int
    late: int
    overdue: int
    open: int


def _on_time_parts(
    session: Session, zone: tzinfo, low: datetime, high: datetime
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(done on time, done late) as SQL conditions: workflows.insights.classify's rule."""
    done_on = _local(session, ActionItem.completed_at, zone, low, high)
    done = ActionItem.status == "done"
    on_time = and_(done, or_(ActionItem.completed_at.is_(None), done_on <= ActionItem.due_date))
    late = and_(done, ActionItem.completed_at.is_not(None), done_on > ActionItem.due_date)
    return on_time, late


def items_by_due_month(
    session: Session,
    workspace_id: int,
    first_day: date,
    end_day: date,
    today: date,
    zone: tzinfo,
    now: datetime,
) -> list[ItemMonth]:
    """Action items due in [first_day, end_day), per due month: done on time or late, open and
    overdue (as of `today`), open and not due yet. Cancelled items are left out."""
    low = datetime.combine(first_day, datetime.min.time(), zone) - timedelta(days=2)
    on_time, late = _on_time_parts(session, zone, low, max(now, low) + timedelta(days=2))
    still_open = ActionItem.status.in_(OPEN_ITEM_STATUSES)
    month = month_of(session, ActionItem.due_date).label("month")
    rows = session.execute(
        select(
            month,
            func.count(case((on_time, 1))),
            func.count(case((late, 1))),
            func.count(case((and_(still_open, ActionItem.due_date < today), 1))),
            func.count(case((and_(still_open, ActionItem.due_date >= today), 1))),
        )
        .select_from(ActionItem)
        .join(Review, Review.id == ActionItem.review_id)
        .where(
            Review.workspace_id == workspace_id,
            ActionItem.due_date >= first_day,
            ActionItem.due_date < end_day,
            ActionItem.status != "cancelled",
        )
        .group_by(month)
        .order_by(month)
    )
    return [ItemMonth(m, int(a), int(b), int(c), int(d)) for m, a, b, c, d in rows]


def items_since(
    session: Session, workspace_id: int, start: datetime, end: datetime, today: date, zone: tzinfo
) -> tuple[int, int, int]:
    """(done on time, done late) among items done in [start, end), and (open overdue) now.

    The digest's "since the last meeting": items finished in the period by whether they kept
    their due date, and what is still open past it.
    """
    on_time, late = _on_time_parts(
        session, zone, start - timedelta(days=2), end + timedelta(days=2)
    )
    in_period = and_(
        ActionItem.status == "done",
        ActionItem.completed_at >= start,
        ActionItem.completed_at < end,
        ActionItem.due_date.is_not(None),
    )
    overdue = and_(ActionItem.status.in_(OPEN_ITEM_STATUSES), ActionItem.due_date < today)
    row = session.execute(
        select(
            func.count(case((and_(in_period, on_time), 1))),
            func.count(case((and_(in_period, late), 1))),
            func.count(case((overdue, 1))),
        )
        .select_from(ActionItem)
        .join(Review, Review.id == ActionItem.review_id)
        .where(Review.workspace_id == workspace_id, or_(in_period, overdue))
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def days_to_last_action(
    session: Session, workspace_id: int, start: datetime, end: datetime
) -> list[float]:
    """For each review completed in [start, end) whose action items are all finished (at least
    one done, none open): days from the review's completion to its last action done.

    Negative when the last action was done before the review was closed; the caller decides
    what that means (workflows.insights.days_between counts it as no wait).
    """
    last_done = func.max(ActionItem.completed_at)
    if _postgres(session):
        days: Any = extract("epoch", last_done - Review.completed_at) / 86400.0
    else:
        days = func.julianday(last_done) - func.julianday(Review.completed_at)
    rows = session.execute(
        select(cast(days, Float))
        .select_from(Review)
        .join(ActionItem, ActionItem.review_id == Review.id)
        .where(
            Review.workspace_id == workspace_id,
            Review.completed_at >= start,
            Review.completed_at < end,
        )
        .group_by(Review.id, Review.completed_at)
        .having(
            and_(
                func.count(case((ActionItem.status.in_(OPEN_ITEM_STATUSES), 1))) == 0,
                func.count(
                    case(
                        (and_(ActionItem.status == "done", ActionItem.completed_at.is_not(None)), 1)
                    )
                )
                > 0,
            )
        )
    )
    return [float(d) for (d,) in rows]


# --- support ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CesRow:
    month: str
    category: str
    customer_type: str
    average: float  # on 1-7, 7 easiest
    tickets: int


def ces_by_month(
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    *,
    default_scale: int = 7,
    higher_is_easier: bool = True,
) -> list[CesRow]:
    """The CES of the tickets behind post-mortems started in [start, end), averaged per month
    (of the post-mortem's start), category and customer type, on one 1-7 scale, 7 easiest.

    Tickets keep the score as the helpdesk sent it, on its own scale (`ces_scale`, else the
    workspace's); each is moved to 1-7 as workflows.tickets.on_scale does before averaging.
    """
    scale = func.coalesce(Ticket.ces_scale, default_scale)
    score = cast(Ticket.ces_score, Float)
    easiness = score if higher_is_easier else cast(scale, Float) + 1.0 - score
    on_seven = 1.0 + (easiness - 1.0) * 6.0 / cast(scale - 1, Float)
    month = month_of(session, _local(session, Review.created_at, zone, start, end)).label("m")
    category = func.coalesce(Ticket.category, "").label("category")
    customer = func.coalesce(Ticket.customer_type, "").label("customer")
    rows = session.execute(
        select(month, category, customer, cast(func.avg(on_seven), Float), func.count())
        .select_from(Ticket)
        .join(Review, Review.id == Ticket.review_id)
        .where(
            Ticket.workspace_id == workspace_id,
            Review.created_at >= start,
            Review.created_at < end,
            Ticket.ces_score.is_not(None),
        )
        .group_by(month, category, customer)
        .order_by(month, category, customer)
    )
    return [CesRow(m, c, t, float(a), int(n)) for m, c, t, a, n in rows]


def stale_tickets(
    session: Session, workspace_id: int, now: datetime, after: timedelta = STALE_AFTER
) -> int:
    """Tickets still open more than 14 days after they were opened."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.workspace_id == workspace_id,
                Ticket.closed_at.is_(None),
                Ticket.opened_at < now - after,
            )
        )
        or 0
    )


# --- repeat themes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeRow:
    theme: str
    repeats: int
    lessons: int
    last_seen: datetime
    first_entry_id: int
    first_review_id: int
    first_title: str
    first_link: str | None
    first_published: datetime


def theme_teams(session: Session, workspace_id: int) -> list[str]:
    """The teams named in the knowledge base: their tags say who, not what went wrong."""
    return [
        str(t)
        for (t,) in session.execute(
            select(KnowledgeEntry.team)
            .distinct()
            .where(KnowledgeEntry.workspace_id == workspace_id, KnowledgeEntry.team.is_not(None))
        )
    ]


def _theme_uses(session: Session, workspace_id: int, ignore: Collection[str]) -> Any:
    """(theme, entry_id, review_id, started, published): one row per tag of each entry."""
    if _postgres(session):
        tags = func.json_array_elements_text(KnowledgeEntry.tags).table_valued("value")
    else:
        tags = func.json_each(KnowledgeEntry.tags).table_valued("value")
    query = (
        select(
            tags.c.value.label("theme"),
            KnowledgeEntry.id.label("entry_id"),
            KnowledgeEntry.review_id.label("review_id"),
            Review.created_at.label("started"),
            KnowledgeEntry.created_at.label("published"),
        )
        .select_from(KnowledgeEntry)
        .join(Review, Review.id == KnowledgeEntry.review_id)
        .join(tags, true())
        .where(KnowledgeEntry.workspace_id == workspace_id, tags.c.value != "")
    )
    if ignore:
        query = query.where(tags.c.value.not_in(sorted(ignore)))
    return query.cte("theme_uses")


def repeat_themes(
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    *,
    ignore: Collection[str] = (),
    limit: int = 10,
) -> tuple[list[ThemeRow], list[tuple[str, int]]]:
    """Themes (knowledge-base tags) that came back after a lesson on them was published.

    workflows.insights.repeat_themes is the rule: a review started in [start, end) after the
    first lesson with the tag was published repeats it. Returns the `limit` most repeated
    themes with their first lesson, and per month (of the review's start) how many reviews
    repeated at least one theme. `ignore` drops tags that name no theme (the workflow, a team).
    """
    uses = _theme_uses(session, workspace_id, ignore)
    firsts = (
        select(uses.c.theme, func.min(uses.c.published).label("first"))
        .group_by(uses.c.theme)
        .subquery("firsts")
    )
    repeated = (
        select(uses.c.theme, uses.c.review_id, uses.c.started)
        .join(firsts, firsts.c.theme == uses.c.theme)
        .where(uses.c.started > firsts.c.first, uses.c.started >= start, uses.c.started < end)
        .subquery("repeated")
    )
    lessons = (
        select(uses.c.theme, func.count(distinct(uses.c.entry_id)).label("lessons"))
        .where(uses.c.published < end)
        .group_by(uses.c.theme)
        .subquery("lessons")
    )
    top = session.execute(
        select(
            repeated.c.theme,
            func.count(distinct(repeated.c.review_id)).label("n"),
            func.max(repeated.c.started),
        )
        .group_by(repeated.c.theme)
        .order_by(func.count(distinct(repeated.c.review_id)).desc(), repeated.c.theme)
        .limit(limit)
    ).all()
    month = month_of(session, _local(session, repeated.c.started, zone, start, end)).label("m")
    by_month = [
        (m, int(n))
        for m, n in session.execute(
            select(month, func.count(distinct(repeated.c.review_id)))
            .group_by(month)
            .order_by(month)
        )
    ]
    if not top:
        return [], by_month
    themes = [t for t, _, _ in top]
    first_rows = session.execute(
        select(
            uses.c.theme,
            uses.c.entry_id,
            uses.c.review_id,
            KnowledgeEntry.title,
            Review.permalink,
            uses.c.published,
            lessons.c.lessons,
        )
        .join(firsts, and_(firsts.c.theme == uses.c.theme, firsts.c.first == uses.c.published))
        .join(lessons, lessons.c.theme == uses.c.theme)
        .join(KnowledgeEntry, KnowledgeEntry.id == uses.c.entry_id)
        .join(Review, Review.id == uses.c.review_id)
        .where(uses.c.theme.in_(themes))
        .order_by(uses.c.theme, uses.c.entry_id)
    ).all()
    first: dict[str, Any] = {}
    for row in first_rows:
        first.setdefault(row[0], row)
    out = []
    for theme, n, last in top:
        f = first[theme]
        out.append(ThemeRow(theme, int(n), int(f[6]), last, f[1], f[2], f[3], f[4], f[5]))
    return out, by_month


# --- service delivery ------------------------------------------------------------------------


@dataclass(frozen=True)
class LoopRow:
    review_id: int
    title: str
    link: str | None
    decision_key: str
    times: int


def _not_an_edit() -> ColumnElement[bool]:
    """A decision saved by an owner's correction of a stage moved nothing: only real
    submissions count (an edit is audited as "stage.edited" with its stage and revision)."""
    return ~exists().where(
        AuditEntry.review_id == Decision.review_id,
        AuditEntry.action == "stage.edited",
        AuditEntry.detail["stage"].as_string() == StageSubmission.stage_key,
        AuditEntry.detail["revision"].as_integer() == StageSubmission.revision,
    )


def sent_back(
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    loops: Sequence[tuple[str, str, str]],
) -> tuple[list[LoopRow], int]:
    """Times each engagement was sent back in [start, end), by decision, and how many
    engagements had any decision in the period.

    `loops` are (workflow key, decision key, option) whose option leads back to an earlier
    stage (quality review: revision required; customer acceptance: no), from the definitions.
    """
    if not loops:
        return [], 0
    keys = sorted({w for w, _, _ in loops})
    looping = or_(
        *(
            and_(Review.workflow_key == w, Decision.decision_key == d, Decision.option == o)
            for w, d, o in loops
        )
    )
    base = (
        select()
        .select_from(Decision)
        .join(Review, Review.id == Decision.review_id)
        .join(StageSubmission, StageSubmission.id == Decision.submission_id)
        .where(
            Review.workspace_id == workspace_id,
            Review.workflow_key.in_(keys),
            Decision.decided_at >= start,
            Decision.decided_at < end,
            _not_an_edit(),
        )
    )
    engagements = int(
        session.scalar(base.add_columns(func.count(distinct(Decision.review_id)))) or 0
    )
    rows = session.execute(
        base.add_columns(
            Review.id, Review.title, Review.permalink, Decision.decision_key, func.count()
        )
        .where(looping)
        .group_by(Review.id, Review.title, Review.permalink, Decision.decision_key)
        .order_by(Review.id, Decision.decision_key)
    )
    return [LoopRow(i, t, p, k, int(n)) for i, t, p, k, n in rows], engagements


@dataclass(frozen=True)
class BudgetRow:
    month: str
    reviews: int
    over_budget: int
    budget_incl: int  # cents
    budget_excl: int
    actual_incl: int
    actual_excl: int


def _both_bases(
    session: Session, answers: Any, field: str
) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """(incl. GST, excl. GST) in cents of a money answer: workflows.insights.both_bases in SQL.

    Integer division only (both databases truncate integers alike; the operands are made
    non-negative and the sign put back), so a half cent rounds up exactly as the GST Act asks.
    """
    raw = answers[(field, "amount")].as_string()
    basis = answers[(field, "gst")].as_string()
    c = cast(func.round(cast(raw, Numeric(16, 2)) * 100), Integer)
    sign = case((c < 0, -1), else_=1)
    a = func.abs(c)
    incl_gst = sign * ((a * 2 + 11) // 22)  # GST inside an inclusive amount
    excl_gst = sign * ((a + 5) // 10)  # GST on top of an exclusive amount
    inclusive = basis == "inclusive"
    return (case((inclusive, c), else_=c + excl_gst), case((inclusive, c - incl_gst), else_=c))


def budget_vs_actual(
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    specs: Sequence[tuple[str, str, str, str, str]],
) -> list[BudgetRow]:
    """Budget against actual spend of reviews started in [start, end), per month, on both GST
    bases and never mixed: each amount is converted to both before anything is added up.

    `specs` are (workflow key, budget stage, budget field, actual stage, actual field): the
    fields whose role is budget and actual in the definitions. Reviews missing either amount
    are left out (there is nothing to compare).
    """
    out: dict[str, list[int]] = {}
    for workflow_key, b_stage, b_field, a_stage, a_field in specs:
        reviews = select(Review.id).where(
            Review.workspace_id == workspace_id,
            Review.workflow_key == workflow_key,
            Review.created_at >= start,
            Review.created_at < end,
        )

        def latest(stage: str, reviews: Any = reviews) -> Any:
            return (
                select(StageSubmission.review_id, func.max(StageSubmission.revision).label("rev"))
                .where(StageSubmission.review_id.in_(reviews), StageSubmission.stage_key == stage)
                .group_by(StageSubmission.review_id)
                .subquery()
            )

        # One join per stage: both amounts usually sit in the same stage, and joining its
        # current answers twice made PostgreSQL misjudge the rows and loop over them.
        current: dict[str, Any] = {}
        for stage in dict.fromkeys((b_stage, a_stage)):
            current[stage] = (aliased(StageSubmission), latest(stage))
        b_sub, a_sub = current[b_stage][0], current[a_stage][0]
        b_incl, b_excl = _both_bases(session, b_sub.answers, b_field)
        a_incl, a_excl = _both_bases(session, a_sub.answers, a_field)
        month = month_of(session, _local(session, Review.created_at, zone, start, end))
        query = select(
            month.label("month"),
            b_incl.label("b_incl"),
            b_excl.label("b_excl"),
            a_incl.label("a_incl"),
            a_excl.label("a_excl"),
        ).select_from(Review)
        for stage, (sub, newest) in current.items():
            query = query.join(newest, newest.c.review_id == Review.id).join(
                sub,
                and_(
                    sub.review_id == Review.id, sub.stage_key == stage, sub.revision == newest.c.rev
                ),
            )
        per_review = query.where(
            b_sub.answers[(b_field, "amount")].as_string().is_not(None),
            a_sub.answers[(a_field, "amount")].as_string().is_not(None),
        ).subquery("per_review")
        rows = session.execute(
            select(
                per_review.c.month,
                func.count(),
                func.count(case((per_review.c.a_excl > per_review.c.b_excl, 1))),
                *(func.sum(per_review.c[k]) for k in ("b_incl", "b_excl", "a_incl", "a_excl")),
            ).group_by(per_review.c.month)
        )
        for m, n, over, *sums in rows:
            cell = out.setdefault(m, [0] * 6)
            for i, value in enumerate((n, over, *sums)):
                cell[i] += int(value or 0)
    return [BudgetRow(m, *cell) for m, cell in sorted(out.items())]

"""The meeting digests: one row per (workspace, meeting, channel), and the digest's queries.

The unique key is what keeps a channel to one digest per meeting: whoever posts (the scheduler
on any replica, `postmortem-bot digest`, an admin's "Post now") first inserts the row, and only
the process whose insert wins posts. Each row keeps the period it covered, so the next digest
starts exactly where this one ended.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    cast,
    func,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.selectable import LABEL_STYLE_TABLENAME_PLUS_COL

from storage.claims import insert_once, updated_rows
from storage.models import ActionItem, Base, FollowUp, Review, SlackId, StageSubmission
from storage.reviews import OPEN_ITEM_STATUSES
from storage.types import utcnow

CLAIMED, POSTED, FAILED, MISSED = "claimed", "posted", "failed", "missed"


class Digest(Base):
    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint(
            "workspace_id",
            "meeting_key",
            "channel_id",
            name="uq_digests_workspace_id_meeting_key_channel_id",
        ),
        Index(
            "ix_digests_workspace_channel_covered_to", "workspace_id", "channel_id", "covered_to"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # The meeting's original (cadence) date: it survives the meeting being moved.
    meeting_key: Mapped[str] = mapped_column(String(20))
    channel_id: Mapped[str] = mapped_column(SlackId)
    meeting_starts_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default=CLAIMED)
    # What the digest covered: [covered_from, covered_to). Missed digests cover nothing.
    covered_from: Mapped[datetime | None]
    covered_to: Mapped[datetime | None]
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[datetime | None]
    posted_by: Mapped[str] = mapped_column(String(32), default="scheduler")
    ts: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)


# --- the exactly-once claim ------------------------------------------------------------------


def claim(
    session: Session,
    *,
    workspace_id: int,
    meeting_key: str,
    channel_id: str,
    meeting_starts_at: datetime,
    covered_from: datetime | None = None,
    covered_to: datetime | None = None,
    posted_by: str = "scheduler",
    status: str = CLAIMED,
    reason: str | None = None,
    now: datetime | None = None,
) -> int | None:
    """Insert the digest's row; None when another process already holds this meeting."""
    return insert_once(
        session,
        Digest,
        ("workspace_id", "meeting_key", "channel_id"),
        workspace_id=workspace_id,
        meeting_key=meeting_key,
        channel_id=channel_id,
        meeting_starts_at=meeting_starts_at,
        status=status,
        covered_from=covered_from,
        covered_to=covered_to,
        claimed_at=now or utcnow(),
        posted_by=posted_by,
        reason=reason,
    )


def retake(session: Session, digest: Digest, now: datetime) -> bool:
    """Take over a failed or abandoned claim; True for exactly one of several racing callers."""
    return (
        updated_rows(
            session,
            update(Digest)
            .where(
                Digest.id == digest.id,
                Digest.status == digest.status,
                Digest.claimed_at == digest.claimed_at,
            )
            .values(status=CLAIMED, claimed_at=now)
            .execution_options(synchronize_session=False),
        )
        == 1
    )


def find(session: Session, workspace_id: int, meeting_key: str, channel_id: str) -> Digest | None:
    return session.scalar(
        select(Digest).where(
            Digest.workspace_id == workspace_id,
            Digest.meeting_key == meeting_key,
            Digest.channel_id == channel_id,
        )
    )


def last_covered_to(session: Session, workspace_id: int, channel_id: str) -> datetime | None:
    """Where the next digest in this channel begins: the end of the last one posted."""
    return session.scalar(
        select(func.max(Digest.covered_to)).where(
            Digest.workspace_id == workspace_id,
            Digest.channel_id == channel_id,
            Digest.status.in_((CLAIMED, POSTED)),
        )
    )


def last_recorded(session: Session, workspace_id: int, channel_id: str) -> Digest | None:
    """The row of the latest meeting this channel has any row for (posted, failed or missed)."""
    return session.scalar(
        select(Digest)
        .where(
            Digest.workspace_id == workspace_id,
            Digest.channel_id == channel_id,
        )
        .order_by(Digest.meeting_starts_at.desc(), Digest.id.desc())
        .limit(1)
    )


# --- what a digest reports -------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    id: int
    title: str
    workflow_key: str
    workflow_version_id: int
    owner_id: str
    permalink: str | None
    status: str
    created_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True)
class IssueRow:
    title: str
    detail: str
    review: ReviewRow


@dataclass(frozen=True)
class ItemRow:
    id: int
    title: str
    owner_id: str
    due_date: date | None
    completed_at: datetime | None
    review: ReviewRow


_REVIEW_COLUMNS = (
    Review.id,
    Review.title,
    Review.workflow_key,
    Review.workflow_version_id,
    Review.owner_id,
    Review.permalink,
    Review.status,
    Review.created_at,
    Review.completed_at,
)


def _review(row: Any, offset: int = 0) -> ReviewRow:
    return ReviewRow(*row[offset : offset + len(_REVIEW_COLUMNS)])


def _page(
    session: Session, query: Any, limit: int, rows_query: Any = None
) -> tuple[list[Any], int]:
    """The first `limit` rows and how many there are in all (for "and N more").

    The total is a COUNT in the database, run only when the page is full. `rows_query`, when
    given, reads the same first rows as `query` by a faster route.
    """
    rows = list(session.execute(rows_query if rows_query is not None else query.limit(limit)))
    if len(rows) < limit:
        return rows, len(rows)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return rows, int(total or 0)


def completed_reviews(
    session: Session, workspace_id: int, start: datetime, end: datetime, limit: int
) -> tuple[list[ReviewRow], int]:
    query = (
        select(*_REVIEW_COLUMNS)
        .where(
            Review.workspace_id == workspace_id,
            Review.completed_at >= start,
            Review.completed_at < end,
        )
        .order_by(Review.completed_at, Review.id)
    )
    rows, total = _page(session, query, limit)
    return [_review(r) for r in rows], total


def reviews_in_status(
    session: Session, workspace_id: int, status: str, limit: int
) -> tuple[list[ReviewRow], int]:
    """Reviews waiting in a status now (e.g. "in_review"), longest waiting first."""
    query = (
        select(*_REVIEW_COLUMNS)
        .where(
            Review.workspace_id == workspace_id,
            Review.status == status,
            Review.current_stage.is_not(None),
        )
        .order_by(Review.updated_at, Review.id)
    )
    rows, total = _page(session, query, limit)
    return [_review(r) for r in rows], total


def flagged_for_sharing(
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    limit: int,
    flag: str = "share_at_meeting",
) -> tuple[list[ReviewRow], int]:
    """Reviews with a stage submitted in the period whose answers flag it for the meeting."""
    flagged = (
        select(StageSubmission.review_id)
        .join(Review)
        .where(
            Review.workspace_id == workspace_id,
            StageSubmission.submitted_at >= start,
            StageSubmission.submitted_at < end,
            StageSubmission.answers[flag].as_boolean().is_(True),
        )
        .distinct()
        .subquery()
    )
    query = (
        select(*_REVIEW_COLUMNS).join(flagged, flagged.c.review_id == Review.id).order_by(Review.id)
    )
    rows, total = _page(session, query, limit)
    return [_review(r) for r in rows], total


def follow_ups_of_kind(
    session: Session, workspace_id: int, kind: str, start: datetime, end: datetime, limit: int
) -> tuple[list[IssueRow], int]:
    query = (
        select(FollowUp.title, FollowUp.detail, *_REVIEW_COLUMNS)
        .join(Review)
        .where(
            Review.workspace_id == workspace_id,
            FollowUp.kind == kind,
            FollowUp.created_at >= start,
            FollowUp.created_at < end,
        )
        .order_by(FollowUp.created_at, FollowUp.id)
    )
    rows, total = _page(session, query, limit)
    return [IssueRow(r[0], r[1] or "", _review(r, 2)) for r in rows], total


_ITEM_COLUMNS = (
    ActionItem.id,
    ActionItem.title,
    ActionItem.owner_id,
    ActionItem.due_date,
    ActionItem.completed_at,
)


def _items(
    session: Session, query: Any, limit: int, rows_query: Any = None
) -> tuple[list[ItemRow], int]:
    rows, total = _page(session, query, limit, rows_query)
    return [ItemRow(r[0], r[1], r[2], r[3], r[4], review=_review(r, 5)) for r in rows], total


def open_items_due(
    session: Session,
    workspace_id: int,
    *,
    before: date,
    on_or_after: date | None = None,
    limit: int,
) -> tuple[list[ItemRow], int]:
    """Open action items due before a date (overdue: before today), earliest due first."""

    def due(*statuses: str) -> Select[*tuple[Any, ...]]:
        query = (
            select(*_ITEM_COLUMNS, *_REVIEW_COLUMNS)
            .join(Review)
            .where(
                Review.workspace_id == workspace_id,
                ActionItem.status.in_(statuses),
                ActionItem.due_date < before,
            )
        )
        if on_or_after is not None:
            query = query.where(ActionItem.due_date >= on_or_after)
        return query.order_by(ActionItem.due_date, ActionItem.id)

    # The first rows: the earliest of each open status, read in order from the (status,
    # due_date) index, then merged. With the statuses as one IN list, both databases sort
    # every overdue item (tens of thousands in a large workspace) to show the first 30.
    firsts = union_all(
        *(
            due(status)
            .set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL)
            .limit(limit)
            .subquery()
            .select()
            for status in OPEN_ITEM_STATUSES
        )
    ).subquery()
    rows = (
        select(firsts)
        .order_by(firsts.c.action_items_due_date, firsts.c.action_items_id)
        .limit(limit)
    )
    return _items(session, due(*OPEN_ITEM_STATUSES), limit, rows_query=rows)


def items_completed(
    session: Session, workspace_id: int, start: datetime, end: datetime, limit: int
) -> tuple[list[ItemRow], int]:
    query = (
        select(*_ITEM_COLUMNS, *_REVIEW_COLUMNS)
        .join(Review)
        .where(
            Review.workspace_id == workspace_id,
            ActionItem.status == "done",
            ActionItem.completed_at >= start,
            ActionItem.completed_at < end,
        )
        .order_by(ActionItem.completed_at, ActionItem.id)
    )
    return _items(session, query, limit)


def completed_by_workflow(
    session: Session, workspace_id: int, start: datetime, end: datetime
) -> list[tuple[str, int, int]]:
    """(workflow key, a version id to name it by, count) of reviews completed in the period."""
    return [
        (r[0], r[1], r[2])
        for r in session.execute(
            select(Review.workflow_key, func.max(Review.workflow_version_id), func.count())
            .where(
                Review.workspace_id == workspace_id,
                Review.completed_at >= start,
                Review.completed_at < end,
            )
            .group_by(Review.workflow_key)
            .order_by(func.count().desc(), Review.workflow_key)
        )
    ]


def latest_answers_for(
    session: Session, review_ids: Iterable[int]
) -> dict[int, dict[str, dict[str, Any]]]:
    """The newest answers of every stage of many reviews, in one query per 500 reviews."""
    ids = sorted(set(review_ids))
    out: dict[int, dict[str, dict[str, Any]]] = {i: {} for i in ids}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        newest = (
            select(
                StageSubmission.review_id,
                StageSubmission.stage_key,
                func.max(StageSubmission.revision).label("rev"),
            )
            .where(StageSubmission.review_id.in_(chunk))
            .group_by(StageSubmission.review_id, StageSubmission.stage_key)
            .subquery()
        )
        rows = session.execute(
            select(
                StageSubmission.review_id, StageSubmission.stage_key, StageSubmission.answers
            ).join(
                newest,
                (StageSubmission.review_id == newest.c.review_id)
                & (StageSubmission.stage_key == newest.c.stage_key)
                & (StageSubmission.revision == newest.c.rev),
            )
        )
        for review_id, stage_key, answers in rows:
            out[review_id][stage_key] = answers
    return out


# --- the figures: counted by the database ----------------------------------------------------


@dataclass(frozen=True)
class FigureCounts:
    """What the digest's figures count over a period, without reading the rows behind them."""

    # (workflow version id, category value, reviews): the category of each review completed in
    # the period, from its current answers; the caller names the value by the pinned version.
    categories: tuple[tuple[int, str, int], ...]
    closed_on_time: int  # done in the period on or before their due date (the meeting's zone)
    closed_with_due_date: int
    ces_total: float
    ces_count: int

    @property
    def ces_average(self) -> float | None:
        return self.ces_total / self.ces_count if self.ces_count else None


def figure_counts(
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    *,
    ces_workflow: str,
    ces_stage: str = "metadata",
    ces_field: str = "ces_score",
    category_field: str = "category",
) -> FigureCounts:
    """The digest's figures for [start, end), aggregated in SQL.

    A whole-history digest of a large workspace used to decode every completed item and the
    answers of every review of the period in Python (most of its time); the database returns a
    handful of grouped counts instead.
    """
    on_time, with_due = _on_time_counts(session, workspace_id, start, end, zone)
    total, count = _ces_scores(
        session, workspace_id, start, end, ces_workflow, ces_stage, ces_field
    )
    return FigureCounts(
        categories=_category_counts(session, workspace_id, start, end, category_field),
        closed_on_time=on_time,
        closed_with_due_date=with_due,
        ces_total=total,
        ces_count=count,
    )


def _json_type(session: Session, field: str) -> ColumnElement[Any]:
    """The JSON type of answers[field], NULL when absent: 'text', 'integer', 'real', 'true' and
    'false' on SQLite; 'string', 'number' and 'boolean' on PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.json_typeof(StageSubmission.answers[field])
    return func.json_type(StageSubmission.answers, f'$."{field}"')


def _latest(reviews: Select[Any], stage_key: str | None = None) -> Any:
    """(review_id, stage_key, rev): the current revision of each stage of `reviews` (ids)."""
    query = select(
        StageSubmission.review_id,
        StageSubmission.stage_key,
        func.max(StageSubmission.revision).label("rev"),
    ).where(StageSubmission.review_id.in_(reviews))
    if stage_key is not None:
        query = query.where(StageSubmission.stage_key == stage_key)
    return query.group_by(StageSubmission.review_id, StageSubmission.stage_key).subquery()


def _current(latest: Any) -> ColumnElement[bool]:
    return and_(
        StageSubmission.review_id == latest.c.review_id,
        StageSubmission.stage_key == latest.c.stage_key,
        StageSubmission.revision == latest.c.rev,
    )


def _category_counts(
    session: Session, workspace_id: int, start: datetime, end: datetime, field: str
) -> tuple[tuple[int, str, int], ...]:
    """Reviews completed in the period by (version, category), from their current answers.

    A review counts once, by the first of its stages (by key) whose current answers have a
    non-empty category; the category is a choice, so only text values count.
    """
    completed = select(Review.id).where(
        Review.workspace_id == workspace_id, Review.completed_at >= start, Review.completed_at < end
    )
    latest = _latest(completed)
    text_type = "string" if session.get_bind().dialect.name == "postgresql" else "text"
    value = case(
        (_json_type(session, field) == text_type, StageSubmission.answers[field].as_string())
    )
    # The stages with a category rank first. Filtering outside the window (not in a WHERE
    # beside the join) keeps PostgreSQL from parsing the answers of every submission ever made
    # before joining them to the current ones of the period.
    ranked = (
        select(
            StageSubmission.review_id,
            value.label("category"),
            func.row_number()
            .over(
                partition_by=StageSubmission.review_id,
                order_by=(case((value != "", 0), else_=1), StageSubmission.stage_key),
            )
            .label("n"),
        )
        .join(latest, _current(latest))
        .subquery()
    )
    rows = session.execute(
        select(Review.workflow_version_id, ranked.c.category, func.count())
        .join(ranked, ranked.c.review_id == Review.id)
        .where(ranked.c.n == 1, ranked.c.category != "")
        .group_by(Review.workflow_version_id, ranked.c.category)
        .order_by(Review.workflow_version_id, ranked.c.category)
    )
    return tuple((r[0], r[1], r[2]) for r in rows)


def _offsets(zone: tzinfo, start: datetime, end: datetime) -> list[tuple[datetime, timedelta]]:
    """[(from, utc offset)]: the zone's offsets over [start, end), changes found to the second.

    Sampled daily, then bisected over whole seconds (the time zone database changes offsets on
    whole seconds): a zone would have to change its offset twice within a day for a change to
    be missed.
    """

    def offset(epoch: int) -> timedelta:
        return datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset() or timedelta(0)

    first, last = math.floor(start.timestamp()), math.ceil(max(start, end).timestamp())
    pieces = [(datetime.fromtimestamp(first, UTC), offset(first))]
    at = first
    while at < last:
        step = min(at + 86_400, last)
        if offset(step) != pieces[-1][1]:
            low, high = at, step  # offset(low) is the current one, offset(high) is not
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == pieces[-1][1]:
                    low = middle
                else:
                    high = middle
            pieces.append((datetime.fromtimestamp(high, UTC), offset(high)))
        at = step
    return pieces


def _local_date(
    session: Session, instant: Any, offsets: list[tuple[datetime, timedelta]]
) -> ColumnElement[Any]:
    """SQL for the calendar date of a UTC instant in the zone whose offsets are given."""
    postgres = session.get_bind().dialect.name == "postgresql"

    def shifted(delta: timedelta) -> ColumnElement[Any]:
        seconds = int(delta.total_seconds())
        if postgres:
            return cast(
                func.timezone(literal_column("'UTC'"), instant)
                + literal_column(f"INTERVAL '{seconds} seconds'"),
                Date,
            )
        return func.date(instant, f"{seconds:+d} seconds")

    if len(offsets) == 1:
        return shifted(offsets[0][1])
    whens = [
        (instant < until, shifted(delta))
        for (_, delta), (until, _) in zip(offsets, offsets[1:], strict=False)
    ]
    return case(*whens, else_=shifted(offsets[-1][1]))


def _on_time_counts(
    session: Session, workspace_id: int, start: datetime, end: datetime, zone: tzinfo
) -> tuple[int, int]:
    """(closed on time, closed with a due date) among the items done in the period.

    On time is the owner's promise as the meeting reads it: done on or before the due date in
    the meeting's timezone, whatever the UTC date was.
    """
    local = _local_date(session, ActionItem.completed_at, _offsets(zone, start, end))
    row = session.execute(
        select(func.count(case((local <= ActionItem.due_date, 1))), func.count())
        .select_from(ActionItem)
        .join(Review)
        .where(
            Review.workspace_id == workspace_id,
            ActionItem.status == "done",
            ActionItem.completed_at >= start,
            ActionItem.completed_at < end,
            ActionItem.due_date.is_not(None),
        )
    ).one()
    return int(row[0]), int(row[1])


def _ces_scores(
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    workflow_key: str,
    stage_key: str,
    field: str,
) -> tuple[float, int]:
    """(sum, count) of the CES scores of the reviews of a workflow started in the period.

    The database groups the current answers by their value; the few distinct values are read
    as numbers here, the way they always were: text or number, blanks and non-numbers skipped.
    """
    started = select(Review.id).where(
        Review.workspace_id == workspace_id,
        Review.workflow_key == workflow_key,
        Review.created_at >= start,
        Review.created_at < end,
    )
    latest = _latest(started, stage_key)
    scores = (
        select(
            _json_type(session, field).label("kind"),
            StageSubmission.answers[field].as_string().label("raw"),
        )
        .join(latest, _current(latest))
        .subquery()
    )
    rows = session.execute(
        select(scores.c.kind, scores.c.raw, func.count()).group_by(scores.c.kind, scores.c.raw)
    )
    total, count = 0.0, 0
    for kind_, raw, n in rows:
        if kind_ in ("true", "false", "boolean"):
            raw = kind_ == "true" or raw == "true"
        elif kind_ not in ("text", "string", "integer", "real", "number"):
            continue  # missing, null, a list or an object: no score
        if raw is None or raw == "":
            continue
        try:
            score = float(raw)
        except (TypeError, ValueError):
            continue
        total += score * n
        count += n
    return total, count

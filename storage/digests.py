"""The meeting digests: one row per (workspace, meeting, channel), and the digest's queries.

The unique key is what keeps a channel to one digest per meeting: whoever posts (the scheduler
on any replica, `postmortem-bot digest`, an admin's "Post now") first inserts the row, and only
the process whose insert wins posts. Each row keeps the period it covered, so the next digest
starts exactly where this one ended.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.claims import insert_once
from storage.models import ActionItem, Base, FollowUp, Review, SlackId, StageSubmission
from storage.reviews import OPEN_ITEM_STATUSES
from storage.types import utcnow

CLAIMED, POSTED, FAILED, MISSED = "claimed", "posted", "failed", "missed"


class Digest(Base):
    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("workspace_id", "meeting_key", "channel_id",
                         name="uq_digests_workspace_id_meeting_key_channel_id"),
        Index("ix_digests_workspace_channel_covered_to", "workspace_id", "channel_id",
              "covered_to"),
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


def claim(session: Session, *, workspace_id: int, meeting_key: str, channel_id: str,
          meeting_starts_at: datetime, covered_from: datetime | None = None,
          covered_to: datetime | None = None, posted_by: str = "scheduler",
          status: str = CLAIMED, reason: str | None = None, now: datetime | None = None
          ) -> int | None:
    """Insert the digest's row; None when another process already holds this meeting."""
    return insert_once(
        session, Digest, ("workspace_id", "meeting_key", "channel_id"),
        workspace_id=workspace_id, meeting_key=meeting_key, channel_id=channel_id,
        meeting_starts_at=meeting_starts_at, status=status, covered_from=covered_from,
        covered_to=covered_to, claimed_at=now or utcnow(), posted_by=posted_by, reason=reason)


def retake(session: Session, digest: Digest, now: datetime) -> bool:
    """Take over a failed or abandoned claim; True for exactly one of several racing callers."""
    result = session.execute(update(Digest).where(
        Digest.id == digest.id, Digest.status == digest.status,
        Digest.claimed_at == digest.claimed_at,
    ).values(status=CLAIMED, claimed_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1


def find(session: Session, workspace_id: int, meeting_key: str, channel_id: str
         ) -> Digest | None:
    return session.scalar(select(Digest).where(
        Digest.workspace_id == workspace_id, Digest.meeting_key == meeting_key,
        Digest.channel_id == channel_id))


def last_covered_to(session: Session, workspace_id: int, channel_id: str) -> datetime | None:
    """Where the next digest in this channel begins: the end of the last one posted."""
    return session.scalar(select(func.max(Digest.covered_to)).where(
        Digest.workspace_id == workspace_id, Digest.channel_id == channel_id,
        Digest.status.in_((CLAIMED, POSTED))))


def last_recorded(session: Session, workspace_id: int, channel_id: str) -> Digest | None:
    """The row of the latest meeting this channel has any row for (posted, failed or missed)."""
    return session.scalar(select(Digest).where(
        Digest.workspace_id == workspace_id, Digest.channel_id == channel_id,
    ).order_by(Digest.meeting_starts_at.desc(), Digest.id.desc()).limit(1))


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


_REVIEW_COLUMNS = (Review.id, Review.title, Review.workflow_key, Review.workflow_version_id,
                   Review.owner_id, Review.permalink, Review.status, Review.created_at,
                   Review.completed_at)


def _review(row: Any, offset: int = 0) -> ReviewRow:
    return ReviewRow(*row[offset:offset + len(_REVIEW_COLUMNS)])


def _page(session: Session, query: Any, limit: int) -> tuple[list[Any], int]:
    """The first `limit` rows and how many there are in all (for "and N more")."""
    rows = list(session.execute(query.limit(limit)))
    if len(rows) < limit:
        return rows, len(rows)
    total = session.scalar(select(func.count()).select_from(
        query.order_by(None).subquery()))
    return rows, int(total or 0)


def completed_reviews(session: Session, workspace_id: int, start: datetime, end: datetime,
                      limit: int) -> tuple[list[ReviewRow], int]:
    query = select(*_REVIEW_COLUMNS).where(
        Review.workspace_id == workspace_id, Review.completed_at >= start,
        Review.completed_at < end).order_by(Review.completed_at, Review.id)
    rows, total = _page(session, query, limit)
    return [_review(r) for r in rows], total


def reviews_in_status(session: Session, workspace_id: int, status: str, limit: int
                      ) -> tuple[list[ReviewRow], int]:
    """Reviews waiting in a status now (e.g. "in_review"), longest waiting first."""
    query = select(*_REVIEW_COLUMNS).where(
        Review.workspace_id == workspace_id, Review.status == status,
        Review.current_stage.is_not(None)).order_by(Review.updated_at, Review.id)
    rows, total = _page(session, query, limit)
    return [_review(r) for r in rows], total


def flagged_for_sharing(session: Session, workspace_id: int, start: datetime, end: datetime,
                        limit: int, flag: str = "share_at_meeting"
                        ) -> tuple[list[ReviewRow], int]:
    """Reviews with a stage submitted in the period whose answers flag it for the meeting."""
    flagged = (select(StageSubmission.review_id).join(Review).where(
        Review.workspace_id == workspace_id, StageSubmission.submitted_at >= start,
        StageSubmission.submitted_at < end,
        StageSubmission.answers[flag].as_boolean().is_(True)).distinct().subquery())
    query = (select(*_REVIEW_COLUMNS).join(flagged, flagged.c.review_id == Review.id)
             .order_by(Review.id))
    rows, total = _page(session, query, limit)
    return [_review(r) for r in rows], total


def follow_ups_of_kind(session: Session, workspace_id: int, kind: str, start: datetime,
                       end: datetime, limit: int) -> tuple[list[IssueRow], int]:
    query = (select(FollowUp.title, FollowUp.detail, *_REVIEW_COLUMNS).join(Review).where(
        Review.workspace_id == workspace_id, FollowUp.kind == kind,
        FollowUp.created_at >= start, FollowUp.created_at < end)
        .order_by(FollowUp.created_at, FollowUp.id))
    rows, total = _page(session, query, limit)
    return [IssueRow(r[0], r[1] or "", _review(r, 2)) for r in rows], total


_ITEM_COLUMNS = (ActionItem.id, ActionItem.title, ActionItem.owner_id, ActionItem.due_date,
                 ActionItem.completed_at)


def _items(session: Session, query: Any, limit: int) -> tuple[list[ItemRow], int]:
    rows, total = _page(session, query, limit)
    return [ItemRow(*r[:5], review=_review(r, 5)) for r in rows], total


def open_items_due(session: Session, workspace_id: int, *, before: date,
                   on_or_after: date | None = None, limit: int
                   ) -> tuple[list[ItemRow], int]:
    """Open action items due before a date (overdue: before today), earliest due first."""
    query = select(*_ITEM_COLUMNS, *_REVIEW_COLUMNS).join(Review).where(
        Review.workspace_id == workspace_id, ActionItem.status.in_(OPEN_ITEM_STATUSES),
        ActionItem.due_date < before)
    if on_or_after is not None:
        query = query.where(ActionItem.due_date >= on_or_after)
    return _items(session, query.order_by(ActionItem.due_date, ActionItem.id), limit)


def items_completed(session: Session, workspace_id: int, start: datetime, end: datetime,
                    limit: int) -> tuple[list[ItemRow], int]:
    query = select(*_ITEM_COLUMNS, *_REVIEW_COLUMNS).join(Review).where(
        Review.workspace_id == workspace_id, ActionItem.status == "done",
        ActionItem.completed_at >= start, ActionItem.completed_at < end,
    ).order_by(ActionItem.completed_at, ActionItem.id)
    return _items(session, query, limit)


def completion_dates(session: Session, workspace_id: int, start: datetime, end: datetime
                     ) -> list[tuple[datetime, date | None]]:
    """(completed_at, due_date) of every item done in the period: "closed on time" figures."""
    return [(r[0], r[1]) for r in session.execute(
        select(ActionItem.completed_at, ActionItem.due_date).join(Review).where(
            Review.workspace_id == workspace_id, ActionItem.status == "done",
            ActionItem.completed_at >= start, ActionItem.completed_at < end))]


def completed_by_workflow(session: Session, workspace_id: int, start: datetime, end: datetime
                          ) -> list[tuple[str, int, int]]:
    """(workflow key, a version id to name it by, count) of reviews completed in the period."""
    return [(r[0], r[1], r[2]) for r in session.execute(
        select(Review.workflow_key, func.max(Review.workflow_version_id), func.count())
        .where(Review.workspace_id == workspace_id, Review.completed_at >= start,
               Review.completed_at < end)
        .group_by(Review.workflow_key).order_by(func.count().desc(), Review.workflow_key))]


def completed_ids(session: Session, workspace_id: int, start: datetime, end: datetime
                  ) -> list[tuple[int, int]]:
    """(review id, workflow version id) of every review completed in the period."""
    return [(r[0], r[1]) for r in session.execute(
        select(Review.id, Review.workflow_version_id).where(
            Review.workspace_id == workspace_id, Review.completed_at >= start,
            Review.completed_at < end))]


def started_ids(session: Session, workspace_id: int, workflow_key: str, start: datetime,
                end: datetime) -> list[int]:
    return list(session.scalars(select(Review.id).where(
        Review.workspace_id == workspace_id, Review.workflow_key == workflow_key,
        Review.created_at >= start, Review.created_at < end)))


def latest_answers_for(session: Session, review_ids: Iterable[int]
                       ) -> dict[int, dict[str, dict[str, Any]]]:
    """The newest answers of every stage of many reviews, in one query per 500 reviews."""
    ids = sorted(set(review_ids))
    out: dict[int, dict[str, dict[str, Any]]] = {i: {} for i in ids}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        newest = (select(StageSubmission.review_id, StageSubmission.stage_key,
                         func.max(StageSubmission.revision).label("rev"))
                  .where(StageSubmission.review_id.in_(chunk))
                  .group_by(StageSubmission.review_id, StageSubmission.stage_key).subquery())
        rows = session.execute(select(StageSubmission.review_id, StageSubmission.stage_key,
                                      StageSubmission.answers).join(newest, (
            StageSubmission.review_id == newest.c.review_id)
            & (StageSubmission.stage_key == newest.c.stage_key)
            & (StageSubmission.revision == newest.c.rev)))
        for review_id, stage_key, answers in rows:
            out[review_id][stage_key] = answers
    return out

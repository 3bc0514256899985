"""Async team sync: the items a review's team adds before a stage opens, and their +1 votes.

A vote is a row with a unique (item, person) pair, so "one vote per person per item" holds on
the database itself: two clicks racing each other (a double-click, two replicas) insert one row,
and the count on the thread message is always read back from the rows, never kept as a number.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.claims import insert_once
from storage.models import Base, SlackId
from storage.types import utcnow


class SyncItem(Base):
    """One item ("went well: the launch email copy") for one stage of one review."""

    __tablename__ = "team_sync_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    stage_key: Mapped[str] = mapped_column(String(40))
    column: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(SlackId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The item's message in the review's thread, once posted (its +1 button lives there).
    channel_id: Mapped[str | None] = mapped_column(SlackId)
    message_ts: Mapped[str | None] = mapped_column(String(32))


class SyncVote(Base):
    """One person's +1 on one item; the unique pair is the "one vote each" rule."""

    __tablename__ = "team_sync_votes"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id", name="uq_team_sync_votes_item_id_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("team_sync_items.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(SlackId)
    voted_at: Mapped[datetime] = mapped_column(default=utcnow)


def add_item(
    session: Session, review_id: int, stage_key: str, column: str, text: str, author_id: str
) -> SyncItem:
    item = SyncItem(
        review_id=review_id,
        stage_key=stage_key,
        column=column,
        text=text,
        author_id=author_id,
        created_at=utcnow(),
    )
    session.add(item)
    session.flush()
    return item


def get_item(session: Session, item_id: int) -> SyncItem | None:
    return session.get(SyncItem, item_id)


def items(session: Session, review_id: int, stage_key: str) -> list[tuple[SyncItem, int]]:
    """The stage's items with their vote counts, oldest first."""
    votes = (
        select(SyncVote.item_id, func.count(SyncVote.id).label("n"))
        .group_by(SyncVote.item_id)
        .subquery()
    )
    rows = session.execute(
        select(SyncItem, func.coalesce(votes.c.n, 0))
        .outerjoin(votes, votes.c.item_id == SyncItem.id)
        .where(SyncItem.review_id == review_id, SyncItem.stage_key == stage_key)
        .order_by(SyncItem.id)
    )
    return [(item, int(n)) for item, n in rows]


def vote(session: Session, item_id: int, user_id: str) -> bool:
    """Record a +1: True if it is new, False if this person had already voted for the item."""
    row = insert_once(
        session,
        SyncVote,
        ("item_id", "user_id"),
        item_id=item_id,
        user_id=user_id,
        voted_at=utcnow(),
    )
    return row is not None


def vote_count(session: Session, item_id: int) -> int:
    return int(
        session.scalar(select(func.count(SyncVote.id)).where(SyncVote.item_id == item_id)) or 0
    )


def set_message(session: Session, item_id: int, channel_id: str, ts: str) -> None:
    item = session.get(SyncItem, item_id)
    if item is not None:
        item.channel_id, item.message_ts = channel_id, ts

"""The knowledge base: one entry per review with a lessons-learned report, and full-text search.

Search runs in the database: SQLite FTS5 (an external-content table kept in sync by triggers,
porter stemming) on the embedded default, PostgreSQL full-text search (a generated tsvector with a
GIN index) on PostgreSQL. Both are created by raw SQL in migration 0004 and are invisible to the
models, so `UNMANAGED` tells Alembic's autogenerate to leave them alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from storage.models import Base
from storage.types import utcnow

TABLE = "knowledge_entries"
FTS_TABLE = "knowledge_fts"
PG_VECTOR = "search_vector"
PG_INDEX = "ix_knowledge_entries_search"
# Searchable columns, most telling first (their weights rank a title match above a body match).
SEARCHED = ("title", "lessons", "root_causes", "recommendations", "body")
FTS_WEIGHTS = (10.0, 6.0, 4.0, 4.0, 1.0)


class KnowledgeEntry(Base):
    """A review's lessons, kept searchable; rebuilt whenever the review's answers change."""

    __tablename__ = TABLE
    __table_args__ = (
        Index("ix_knowledge_entries_workspace_created", "workspace_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    review_id: Mapped[int] = mapped_column(
        ForeignKey("reviews.id", ondelete="CASCADE"), unique=True
    )
    workflow_key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    root_causes: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    # Impact, what went well and what did not, resolution: searched with a low weight.
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # ",email,black-friday,": `tag:` filters with LIKE on both databases.
    tags_text: Mapped[str] = mapped_column(Text, default=",")
    category: Mapped[str | None] = mapped_column(String(100))
    product: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(100))
    share_at_meeting: Mapped[bool] = mapped_column(Boolean, default=False)
    shared_at: Mapped[datetime | None]
    report_md: Mapped[str] = mapped_column(Text, default="")
    # The report's message in the review's thread, updated in place when the report changes.
    report_ts: Mapped[str | None] = mapped_column(String(32))
    report_hash: Mapped[str | None] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def unmanaged(type_: str, name: str | None) -> bool:
    """Search objects made by raw SQL that autogenerate must not compare (nor drop)."""
    if type_ == "table":
        return name == FTS_TABLE or bool(name and name.startswith(FTS_TABLE + "_"))
    if type_ == "column":
        return name == PG_VECTOR
    if type_ == "index":
        return name == PG_INDEX
    return False


def get_entry(session: Session, review_id: int) -> KnowledgeEntry | None:
    return session.scalar(select(KnowledgeEntry).where(KnowledgeEntry.review_id == review_id))


def upsert_entry(
    session: Session, *, workspace_id: int, review_id: int, **values: Any
) -> tuple[KnowledgeEntry, bool]:
    """Create or refresh a review's entry; True when it was created."""
    entry = get_entry(session, review_id)
    tags = list(values.get("tags") or [])
    values["tags_text"] = "," + ",".join(tags) + ","
    if entry is None:
        entry = KnowledgeEntry(workspace_id=workspace_id, review_id=review_id, **values)
        session.add(entry)
        session.flush()
        return entry, True
    changed = {k: v for k, v in values.items() if getattr(entry, k) != v}
    if changed:
        for key, value in changed.items():
            setattr(entry, key, value)
        entry.revision += 1
        session.flush()
    return entry, False


def to_share(session: Session, workspace_id: int) -> list[KnowledgeEntry]:
    """Entries flagged "share at the next meeting" and not shared yet (the digest reads this)."""
    return list(
        session.scalars(
            select(KnowledgeEntry)
            .where(
                KnowledgeEntry.workspace_id == workspace_id,
                KnowledgeEntry.share_at_meeting.is_(True),
                KnowledgeEntry.shared_at.is_(None),
            )
            .order_by(KnowledgeEntry.created_at)
        )
    )


def mark_shared(session: Session, entry_ids: Sequence[int], at: datetime | None = None) -> None:
    for entry in session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.id.in_(entry_ids))):
        entry.shared_at = at or utcnow()


@dataclass(frozen=True)
class Hit:
    entry: KnowledgeEntry
    rank: float


# PostgreSQL's `english` text search configuration leaves these out of its index and queries
# (tsearch_data/english.stop); SQLite's FTS5 keeps them and would demand them. Both searches
# drop them from the query, so "every word must match" means the same words on both databases.
STOP_WORDS = frozenset(
    (
        "i",
        "me",
        "my",
        "myself",
        "we",
        "our",
        "ours",
        "ourselves",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "he",
        "him",
        "his",
        "himself",
        "she",
        "her",
        "hers",
        "herself",
        "it",
        "its",
        "itself",
        "they",
        "them",
        "their",
        "theirs",
        "themselves",
        "what",
        "which",
        "who",
        "whom",
        "this",
        "that",
        "these",
        "those",
        "am",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "having",
        "do",
        "does",
        "did",
        "doing",
        "a",
        "an",
        "the",
        "and",
        "but",
        "if",
        "or",
        "because",
        "as",
        "until",
        "while",
        "of",
        "at",
        "by",
        "for",
        "with",
        "about",
        "against",
        "between",
        "into",
        "through",
        "during",
        "before",
        "after",
        "above",
        "below",
        "to",
        "from",
        "up",
        "down",
        "in",
        "out",
        "on",
        "off",
        "over",
        "under",
        "again",
        "further",
        "then",
        "once",
        "here",
        "there",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "only",
        "own",
        "same",
        "so",
        "than",
        "too",
        "very",
        "s",
        "t",
        "can",
        "will",
        "just",
        "don",
        "should",
        "now",
    )
)


def _words(words: Sequence[str]) -> list[str]:
    # Only word characters reach the query languages: no syntax errors, no injection, and no
    # operators ("or", "-", quotes), which one database would honour and the other not.
    cleaned = (re.sub(r"\W+", "", w.lower()) for w in words)
    return [w for w in cleaned if w and w not in STOP_WORDS][:30]


def search(
    session: Session,
    workspace_id: int,
    words: Sequence[str],
    *,
    workflow_key: str | None = None,
    tags: Sequence[str] = (),
    after: date | None = None,
    match_all: bool = True,
    exclude_review: int | None = None,
    limit: int = 5,
) -> list[Hit]:
    """Entries by relevance; every word must match unless `match_all` is False.

    Without words, the newest entries that pass the filters.
    """
    asked = bool(words)
    words = _words(words)
    if asked and not words:
        return []  # only words no search indexes ("the", "or"): nothing to look for
    query = select(KnowledgeEntry).where(KnowledgeEntry.workspace_id == workspace_id)
    if workflow_key:
        query = query.where(KnowledgeEntry.workflow_key == workflow_key)
    for tag in tags:
        query = query.where(KnowledgeEntry.tags_text.like(f"%,{tag},%"))
    if after:
        start = datetime(after.year, after.month, after.day, tzinfo=UTC)
        query = query.where(KnowledgeEntry.created_at >= start)
    if exclude_review is not None:
        query = query.where(KnowledgeEntry.review_id != exclude_review)
    if not words:
        rows = session.scalars(
            query.order_by(KnowledgeEntry.created_at.desc(), KnowledgeEntry.id.desc()).limit(limit)
        )
        return [Hit(e, 0.0) for e in rows]
    if session.get_bind().dialect.name == "postgresql":
        # One phrase query per word, as SQLite's quoted words: no word is read as an operator.
        parts = [func.phraseto_tsquery(literal_column("'english'"), w) for w in words]
        tsq: ColumnElement[Any] = parts[0]
        for part in parts[1:]:
            tsq = tsq.op("&&" if match_all else "||")(part)
        vector: ColumnClause[Any] = literal_column(f"{TABLE}.{PG_VECTOR}")
        rank = func.ts_rank(vector, tsq).label("rank")
        ranked = session.execute(
            query.add_columns(rank)
            .where(vector.op("@@")(tsq))
            .order_by(rank.desc(), KnowledgeEntry.id.desc())
            .limit(limit)
        ).all()
        return [Hit(e, float(r)) for e, r in ranked]
    joiner = " AND " if match_all else " OR "
    match = joiner.join(f'"{w}"' for w in words)
    weights = ", ".join(str(w) for w in FTS_WEIGHTS)
    # bm25 is lower for better matches; the negation makes the rank "higher is better".
    fts = (
        select(
            literal_column("rowid").label("rid"),
            literal_column(f"-bm25({FTS_TABLE}, {weights})").label("rank"),
        )
        .select_from(text(FTS_TABLE))
        .where(text(f"{FTS_TABLE} MATCH :match").bindparams(match=match))
        .subquery("fts")
    )
    with_rank = (
        query.join(fts, fts.c.rid == KnowledgeEntry.id)
        .add_columns(fts.c.rank)
        .order_by(fts.c.rank.desc(), KnowledgeEntry.id.desc())
        .limit(limit)
    )
    return [Hit(e, float(r)) for e, r in session.execute(with_rank).all()]


def similar(
    session: Session,
    workspace_id: int,
    words: Sequence[str],
    *,
    exclude_review: int | None = None,
    limit: int = 3,
) -> list[Hit]:
    """Entries sharing any of the words, best first: the lessons shown when a review starts.

    The same entries, ranks and order as `search(..., match_all=False)`. On PostgreSQL the
    query differs, because a review's title yields common words that match most entries, and
    `search` then ranked slowly (over 300 ms for 100,000 entries):
    - the tsquery is computed once, in a subquery: the bot's pooled connections prepare a
      query they repeat, and in PostgreSQL's generic plan for a prepared statement
      `websearch_to_tsquery(..., $1)` was parsed again for every matching row, twice (the
      match and `ts_rank`);
    - with the tsquery unknown when planning, the planner reads the matches from the GIN index
      instead of scanning the table and testing `@@` on every entry;
    - only (id, rank) are ranked; the few winning entries are read afterwards.
    """
    words = _words(words)
    if not words or session.get_bind().dialect.name != "postgresql":
        return search(
            session,
            workspace_id,
            words,
            match_all=False,
            exclude_review=exclude_review,
            limit=limit,
        )
    tsq = select(
        func.websearch_to_tsquery(literal_column("'english'"), " or ".join(words))
    ).scalar_subquery()
    vector: ColumnClause[Any] = literal_column(f"{TABLE}.{PG_VECTOR}")
    rank = func.ts_rank(vector, tsq).label("rank")
    ranked = select(KnowledgeEntry.id, rank).where(
        KnowledgeEntry.workspace_id == workspace_id, vector.op("@@")(tsq)
    )
    if exclude_review is not None:
        ranked = ranked.where(KnowledgeEntry.review_id != exclude_review)
    best = ranked.order_by(rank.desc(), KnowledgeEntry.id.desc()).limit(limit).subquery()
    rows = session.execute(
        select(KnowledgeEntry, best.c.rank)
        .join(best, best.c.id == KnowledgeEntry.id)
        .order_by(best.c.rank.desc(), KnowledgeEntry.id.desc())
    ).all()
    return [Hit(e, float(r)) for e, r in rows]


def snippet(entry: KnowledgeEntry, words: Sequence[str], width: int = 180) -> str:
    """A short excerpt around the first query word found, lessons first."""
    stems = [w[:5] for w in _words(words)]
    for value in (
        entry.lessons,
        entry.recommendations,
        entry.root_causes,
        entry.summary,
        entry.body,
    ):
        flat = " ".join((value or "").split())
        if not flat:
            continue
        lower = flat.lower()
        found = [i for i in (lower.find(s) for s in stems) if i >= 0]
        if found or not stems:
            start = max(0, min(found) - width // 3) if found else 0
            piece = flat[start : start + width]
            return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")
    return " ".join((entry.lessons or entry.summary or "").split())[:width]

"""The lessons suggested when a review starts: a loose search, fast on a large knowledge base."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert
from sqlalchemy.orm import Session

from storage import knowledge as kb
from storage import reviews as store
from storage.models import Review

# (title, lessons, root causes)
ENTRIES = [
    (
        "Refund took three weeks for a reseller",
        "Refunds to resellers need the checklist.",
        "The refund instructions were split across two articles.",
    ),
    (
        "Black Friday email sent twice",
        "Schedule sends from one calendar.",
        "Two tools could schedule the same campaign.",
    ),
    (
        "Spring sale stock ran out",
        "Check stock levels with the warehouse.",
        "Forecast ignored last year's sell-through.",
    ),
    (
        "Courier lost parcels in Perth",
        "Track parcels when the courier reports delays.",
        "Offer a refund or replacement early.",
    ),
]


def _entries(session: Session, rows: list[tuple[str, str, str]]) -> tuple[int, list[int]]:
    ws = store.workspace(session, "T0TEST")
    version = store.pin_workflow(session, "support_postmortem", 1, "x", {})
    reviews = []
    for i, (title, lessons, causes) in enumerate(rows):
        review = store.create_review(
            session,
            ws,
            version,
            store.NewReview(
                title=title, channel_id="C1", owner_id="U1", started_by="U1", first_stage="a"
            ),
        )
        kb.upsert_entry(
            session,
            workspace_id=ws.id,
            review_id=review.id,
            workflow_key="support_postmortem",
            title=title,
            lessons=lessons,
            root_causes=causes,
            created_at=datetime(2026, 1 + i, 1, tzinfo=UTC),
        )
        reviews.append(review.id)
    session.commit()
    return ws.id, reviews


def _ranked(hits: list[kb.Hit]) -> list[tuple[str, float]]:
    return [(h.entry.title, h.rank) for h in hits]


def test_similar_lessons_are_the_best_matches_of_any_word(session: Session) -> None:
    ws, reviews = _entries(session, ENTRIES)
    for words in (
        ["refund", "stock"],
        ["black", "friday", "email", "refunds"],
        ["warranty"],
        ["courier", "parcels", "refund"],
    ):
        for exclude in (None, reviews[0]):
            similar = kb.similar(session, ws, words, exclude_review=exclude, limit=3)
            assert _ranked(similar) == _ranked(
                kb.search(session, ws, words, match_all=False, exclude_review=exclude, limit=3)
            ), words
    hits = kb.similar(session, ws, ["refund", "stock"], limit=3)
    assert {h.entry.title for h in hits} == {
        "Refund took three weeks for a reseller",
        "Spring sale stock ran out",
        "Courier lost parcels in Perth",
    }
    assert [h.rank for h in hits] == sorted((h.rank for h in hits), reverse=True)
    assert len(kb.similar(session, ws, ["refund", "stock"], limit=2)) == 2
    assert "Refund took three weeks for a reseller" not in [
        h.entry.title for h in kb.similar(session, ws, ["refund"], exclude_review=reviews[0])
    ]
    assert kb.similar(session, ws + 1, ["refund"]) == []  # another workspace's lessons


def test_similar_lessons_read_the_index_and_parse_the_words_once(engine: Engine) -> None:
    """PostgreSQL: a title's common words match most entries; the GIN index finds them.

    The tsquery is an InitPlan, computed once per execution: in the generic plan PostgreSQL
    uses for a statement the driver has prepared, an inline websearch_to_tsquery($1) was parsed
    again for every matching row.
    """
    if engine.dialect.name != "postgresql":
        pytest.skip("the GIN index and generic plans are PostgreSQL's")
    with Session(engine) as session:
        ws, reviews = _entries(session, ENTRIES)
        review = session.get(Review, reviews[0])
        assert review is not None
        ids = (
            session.execute(
                insert(Review).returning(Review.id),
                [
                    {
                        "workspace_id": ws,
                        "workflow_version_id": review.workflow_version_id,
                        "workflow_key": "support_postmortem",
                        "title": f"r{i}",
                        "status": "open",
                        "channel_id": "C1",
                        "owner_id": "U1",
                        "started_by": "U1",
                        "trigger": "manual",
                    }
                    for i in range(3000)
                ],
            )
            .scalars()
            .all()
        )
        # Entries the size of real ones (a kilobyte of text), nine in ten about refunds.
        session.execute(
            insert(kb.KnowledgeEntry),
            [
                {
                    "workspace_id": ws,
                    "review_id": rid,
                    "workflow_key": "support_postmortem",
                    "title": f"Parcel {i}",
                    "lessons": "Refund the customer." if i % 10 else "None.",
                    "body": f"What happened with parcel {i} and what we changed. " * 16,
                    "tags": [],
                    "tags_text": ",",
                    "share_at_meeting": False,
                    "revision": 1,
                }
                for i, rid in enumerate(ids)
            ],
        )
        session.commit()
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE knowledge_entries")

    seen: list[tuple[str, Any]] = []

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            hits = kb.similar(session, ws, ["refund", "warranty"], limit=3)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert hits[0].entry.title == "Refund took three weeks for a reseller"
    statement, parameters = seen[-1]
    with engine.connect() as conn:
        plan = "\n".join(
            r[0] for r in conn.exec_driver_sql(f"EXPLAIN (VERBOSE) {statement}", parameters)
        )
    assert "Bitmap Index Scan on ix_knowledge_entries_search" in plan, plan
    assert "Seq Scan on public.knowledge_entries" not in plan, plan
    # Ranked by the InitPlan's result: no tsquery (constant or to parse) in the sort key.
    assert "InitPlan" in plan, plan
    sort_key = next(line for line in plan.splitlines() if "Sort Key:" in line)
    assert "ts_rank(" in sort_key and "tsquery" not in sort_key, plan

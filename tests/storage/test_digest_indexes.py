"""The digest reads the action items it reports through indexes, not by scanning them all.

A workspace keeps every action item ever recorded; the digest shows the few overdue, due soon
or done in the last two weeks. Each query the digest makes on action_items is explained here
on both databases: SQLite as a deployment runs it (never ANALYZEd), PostgreSQL after ANALYZE
(what autovacuum does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, insert, text
from sqlalchemy.orm import Session

from storage import digests as store
from storage.models import ActionItem, Review, WorkflowVersion

NOW = datetime(2026, 12, 2, tzinfo=UTC)
TODAY = NOW.date()
START = NOW - timedelta(weeks=2)


def _seed(engine: Engine) -> int:
    """2,000 reviews with 10 items each, done years ago; a handful open or done lately."""
    with engine.begin() as conn:
        ws = conn.execute(
            text(
                "INSERT INTO workspaces (team_id, name, settings, created_at) "
                "VALUES ('T1', '', '{}', CURRENT_TIMESTAMP) RETURNING id"
            )
        ).scalar()
        wv = conn.execute(
            insert(WorkflowVersion)
            .values(key="k", version=1, digest="d", definition={}, created_at=NOW)
            .returning(WorkflowVersion.id)
        ).scalar()
        old = NOW - timedelta(days=1000)
        reviews = (
            conn.execute(
                insert(Review).returning(Review.id),
                [
                    {
                        "workspace_id": ws,
                        "workflow_version_id": wv,
                        "workflow_key": "k",
                        "title": f"review {i}",
                        "status": "closed",
                        "channel_id": "C",
                        "owner_id": "U",
                        "started_by": "U",
                        "trigger": "manual",
                        "created_at": old,
                        "updated_at": old,
                    }
                    for i in range(2000)
                ],
            )
            .scalars()
            .all()
        )
        items = []
        for n, review in enumerate(reviews):
            for k in range(10):
                i = n * 10 + k
                done_at = old + timedelta(hours=i % 5000)
                item = {
                    "review_id": review,
                    "title": f"item {i}",
                    "owner_id": "U",
                    "status": "done",
                    "completed_at": done_at,
                    "due_date": (done_at + timedelta(days=3)).date(),
                    "created_at": old,
                    "updated_at": old,
                    "assigned_at": old,
                }
                early = i % 4000 < 2000  # half of the recent ones
                if i % 2000 == 0:  # 10 done three days ago, 5 of them on time
                    item.update(
                        completed_at=NOW - timedelta(days=3),
                        due_date=TODAY + (timedelta(days=1) if early else -timedelta(days=10)),
                    )
                elif i % 2000 == 1000:  # 10 open: 5 overdue, 5 due tomorrow
                    item.update(
                        status="open",
                        completed_at=None,
                        due_date=TODAY + (-timedelta(days=1) if early else timedelta(days=1)),
                    )
                items.append(item)
        conn.execute(insert(ActionItem), items)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    return ws


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL (and parameters) the storage functions send while inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(r[-1]) for r in rows)
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(r[0] for r in rows)


def _item_plans(engine: Engine, call: Callable[[Session], object]) -> list[str]:
    with Session(engine) as session, _statements(engine) as seen:
        call(session)
    return [_plan(engine, s, p) for s, p in seen if "action_items" in s]


def test_the_digest_reads_action_items_through_the_status_indexes(engine: Engine) -> None:
    ws = _seed(engine)
    sydney = ZoneInfo("Australia/Sydney")
    calls: dict[str, tuple[str, Callable[[Session], object]]] = {
        "overdue": (
            "ix_action_items_status_due_date",
            lambda s: store.open_items_due(s, ws, before=TODAY, limit=3),
        ),
        "due soon": (
            "ix_action_items_status_due_date",
            lambda s: store.open_items_due(
                s, ws, before=TODAY + timedelta(days=15), on_or_after=TODAY, limit=3
            ),
        ),
        "done": (
            "ix_action_items_status_completed_at",
            lambda s: store.items_completed(s, ws, START, NOW, 3),
        ),
        "closed on time": (
            "ix_action_items_status_completed_at",
            lambda s: store.figure_counts(s, ws, START, NOW, sydney, ces_workflow="k"),
        ),
    }
    for name, (index, call) in calls.items():
        plans = _item_plans(engine, call)
        # the lists read a full page, so their totals are counted by a second query
        assert len(plans) == (1 if name == "closed on time" else 2), (name, plans)
        for plan in plans:
            assert index in plan, (name, plan)
            assert "SCAN action_items" not in plan, (name, plan)
            assert "Seq Scan on action_items" not in plan, (name, plan)

    with Session(engine) as session:  # and they read the right rows
        overdue, n_overdue = store.open_items_due(session, ws, before=TODAY, limit=3)
        soon, n_soon = store.open_items_due(
            session, ws, before=TODAY + timedelta(days=15), on_or_after=TODAY, limit=30
        )
        done, n_done = store.items_completed(session, ws, START, NOW, 3)
        counts = store.figure_counts(session, ws, START, NOW, sydney, ces_workflow="k")
    assert (len(overdue), n_overdue, len(soon), n_soon) == (3, 5, 5, 5)
    assert [r.due_date for r in overdue] == [date(2026, 12, 1)] * 3
    assert {r.due_date for r in soon} == {date(2026, 12, 3)}
    assert (len(done), n_done) == (3, 10)
    assert (counts.closed_on_time, counts.closed_with_due_date) == (5, 10)

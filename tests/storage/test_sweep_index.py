"""The reminder sweep reads only the items with a nudge due: an index serves its query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, text

from storage import reviews as store
from storage.models import ActionItem, Review, WorkflowVersion

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def due_query():
    return select(ActionItem.id).where(
        ActionItem.next_nudge_at <= NOW, ActionItem.status.in_(store.OPEN_ITEM_STATUSES)
    )


def test_the_due_query_uses_the_next_nudge_index(engine: Engine) -> None:
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
        review = conn.execute(
            insert(Review)
            .values(
                workspace_id=ws,
                workflow_version_id=wv,
                workflow_key="k",
                title="t",
                status="open",
                channel_id="C",
                owner_id="U",
                started_by="U",
                trigger="manual",
                created_at=NOW,
                updated_at=NOW,
            )
            .returning(Review.id)
        ).scalar()
        # 20,000 items of which 10 are due: a scan would read them all.
        conn.execute(
            insert(ActionItem),
            [
                {
                    "review_id": review,
                    "title": f"item {i}",
                    "owner_id": "U",
                    "status": "open",
                    "created_at": NOW,
                    "updated_at": NOW,
                    "assigned_at": NOW,
                    "next_nudge_at": NOW + timedelta(days=1 + i)
                    if i >= 10
                    else NOW - timedelta(hours=1),
                }
                for i in range(20_000)
            ],
        )
    with engine.begin() as conn:
        compiled = due_query().compile(engine, compile_kwargs={"literal_binds": True})
        if engine.dialect.name == "sqlite":
            conn.execute(text("ANALYZE"))
            plan = " ".join(
                str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
            assert "USING INDEX ix_action_items_next_nudge_at" in plan, plan
        else:
            conn.execute(text("ANALYZE action_items"))
            plan = " ".join(
                r[0] for r in conn.execute(text(f"EXPLAIN (ANALYZE, FORMAT TEXT) {compiled}"))
            )
            assert "ix_action_items_next_nudge_at" in plan, plan
            assert "Rows Removed by Filter: 0" in plan or "Rows Removed" not in plan, plan
        assert len(conn.execute(due_query()).all()) == 10

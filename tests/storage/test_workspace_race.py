"""Two processes meeting a team (or a workflow definition) for the first time create one row.

On a fresh PostgreSQL, two listeners creating the same workspace at once used to fail with
UniqueViolation uq_workspaces_team_id: both looked, found nothing, and inserted. The pinned
workflow definition had the same race (uq_workflow_versions_key_digest).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from storage import reviews as store
from storage.db import session_factory
from storage.models import WorkflowVersion, Workspace


def _race(engine: Engine, create: Callable[[Session], int]) -> tuple[int, dict[str, Any]]:
    """`create` in two sessions: the second looks while the first's row is not committed yet.

    Returns the first session's id and the second's outcome ({"id": …} or {"error": …}).
    """
    factory = session_factory(engine)
    first, second = factory(), factory()
    outcome: dict[str, Any] = {}
    second_writes = threading.Event()

    def run() -> None:
        try:
            outcome["id"] = create(second)
            second.commit()
        except Exception as exc:  # noqa: BLE001 - the test reports it
            outcome["error"] = exc
            second.rollback()

    worker = threading.Thread(target=run)

    def watch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The second session is about to write (PostgreSQL) or to wait for the write lock
        # (SQLite's BEGIN IMMEDIATE): only now does the first one commit, so the second has
        # looked for the row while it was not there yet.
        if threading.current_thread() is worker and statement.lstrip().upper().startswith(
            ("INSERT", "BEGIN")
        ):
            second_writes.set()

    def checkout(*_: Any) -> None:  # SQLite: about to queue for this process's turn to write
        if threading.current_thread() is worker:
            second_writes.set()

    sqlite = engine.dialect.name == "sqlite"
    event.listen(engine, "before_cursor_execute", watch)
    if sqlite:
        event.listen(engine.pool, "checkout", checkout)
    try:
        created = create(first)  # inserted, not yet committed
        worker.start()
        assert second_writes.wait(60), "the second session never tried to write"
        first.commit()
        worker.join(60)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
        if sqlite:
            event.remove(engine.pool, "checkout", checkout)
        first.close()
        second.close()
    return created, outcome


def test_creating_the_same_workspace_at_once_gives_both_the_one_row(engine: Engine) -> None:
    created, outcome = _race(engine, lambda s: store.workspace(s, "T0RACE").id)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["id"] == created
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Workspace)) == 1


def test_pinning_the_same_workflow_at_once_gives_both_the_one_row(engine: Engine) -> None:
    """Replicas starting the first two reviews of a definition at once (found by the chaos
    test: the second start answered "Saving failed" with UniqueViolation)."""
    created, outcome = _race(
        engine,
        lambda s: (
            store.pin_workflow(
                s, "campaign_postmortem", 1, "0123456789abcdef", {"key": "campaign_postmortem"}
            ).id
        ),
    )
    assert "error" not in outcome, outcome.get("error")
    assert outcome["id"] == created
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(WorkflowVersion)) == 1

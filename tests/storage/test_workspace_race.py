"""Two processes meeting a team for the first time create one workspace row, on both databases.

On a fresh PostgreSQL, two listeners creating the same workspace at once used to fail with
UniqueViolation uq_workspaces_team_id: both looked, found nothing, and inserted.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, event, func, select

from storage import reviews as store
from storage.db import session_factory
from storage.models import Workspace


def test_creating_the_same_workspace_at_once_gives_both_the_one_row(engine: Engine) -> None:
    factory = session_factory(engine)
    first, second = factory(), factory()
    outcome: dict[str, Any] = {}
    second_writes = threading.Event()

    def run() -> None:
        try:
            outcome["id"] = store.workspace(second, "T0RACE").id
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
                ("INSERT", "BEGIN")):
            second_writes.set()

    event.listen(engine, "before_cursor_execute", watch)
    try:
        created = store.workspace(first, "T0RACE")  # inserted, not yet committed
        worker.start()
        assert second_writes.wait(60), "the second session never tried to write"
        first.commit()
        worker.join(60)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
        first.close()
        second.close()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["id"] == created.id
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Workspace)) == 1

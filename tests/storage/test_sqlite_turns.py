"""SQLite writers of one process take turns on a lock of their own (storage/db.py), instead of
SQLite's busy wait, whose sleeps grow to 100 ms and starved a waiting writer under load (the
figures are in bench/ack_latency.py). A turn that was not given back would stop every writer of
the process, so here: it is given back however a transaction ends."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, text

from storage import db
from storage.db import session_factory, transaction


def _write_from_another_thread(engine: Engine) -> bool:
    done = threading.Event()

    def write() -> None:
        with transaction(session_factory(engine)) as session:
            session.execute(text("DELETE FROM alembic_version WHERE 0 = 1"))
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done.wait(10)


def test_every_way_a_transaction_ends_gives_the_turn_back(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL locks rows, not the database")
    sessions = session_factory(engine)
    with pytest.raises(RuntimeError), transaction(sessions) as session:  # rolled back
        session.execute(text("SELECT 1"))
        raise RuntimeError("a listener failed mid-transaction")
    assert _write_from_another_thread(engine)
    with sessions() as session:  # read, never committed: the pool resets it on return
        session.execute(text("SELECT 1"))
    assert _write_from_another_thread(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        conn.commit()
    assert _write_from_another_thread(engine)
    raw = engine.raw_connection()
    raw.close()
    assert not db._write_lock(str(engine.url.database)).locked()

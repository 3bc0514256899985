"""A PostgreSQL connection that died while resting in the pool (the server restarted, a proxy
dropped it) is replaced on its way out: the next request works, nobody sees an error."""

from __future__ import annotations

import time

import psycopg
import pytest
from conftest import PG_ADMIN_URL
from sqlalchemy import text

from storage import db


def test_a_connection_killed_while_it_rested_is_replaced_unnoticed(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "IDLE_PING", 0.05)
    engine = db.make_engine(pg_url)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        time.sleep(0.2)  # it rests in the pool, dead

        with engine.begin() as conn:
            again = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert again != first
    finally:
        engine.dispose()

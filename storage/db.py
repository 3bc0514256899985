"""Engines, sessions and migrations for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///postmortem.db"
MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseURLError(ValueError):
    pass


class ReadOnlyDatabase(Exception):
    pass


def normalise_url(url: str) -> str:
    """Accept the URLs hosting providers hand out (`postgres://`) and pick the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
        raise DatabaseURLError(f"DATABASE_URL is not a database URL: {exc}") from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseURLError(
            f"DATABASE_URL uses {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://"
        )
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the bot read while the CLI's sweep writes; foreign keys are off by default in SQLite.
    # The driver's own transaction handling is switched off so BEGIN IMMEDIATE can be issued.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


SQLITE_WAIT = 30.0  # seconds a writer waits for the database, in this process or another

_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def _write_lock(database: str) -> threading.Lock:
    """This process's turn to write to one SQLite file (see `_sqlite_begin`)."""
    with _write_locks_guard:
        return _write_locks.setdefault(database, threading.Lock())


class _SQLiteConnection(sqlite3.Connection):
    """A sqlite3 connection that gives this process's write turn back when its transaction
    ends, however it ends (commit, rollback, the pool's reset, close)."""

    write_turn: threading.Lock | None = None

    def _give_back(self) -> None:
        turn, self.write_turn = self.write_turn, None
        if turn is not None:
            turn.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()


READ_ONLY = "postmortem_read_only"  # a connection execution option: see `reading`


def _sqlite_begin(conn: Any) -> None:
    """Take the write lock at the start, so two writers queue instead of failing mid-transaction.

    A `reading` transaction takes no lock: it begins a plain (deferred) transaction, a snapshot
    that WAL lets it read while a writer writes.

    Threads of one process first queue for their turn on a lock of their own: SQLite's busy wait
    polls with sleeps growing to 100 ms, so under load a waiting writer lost to newcomers again
    and again, and a form's ack waited hundreds of milliseconds (bench/ack_latency.py). Other
    processes (the CLI's sweep) still meet SQLite's own wait.
    """
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
        return
    raw = conn.connection.dbapi_connection
    turn = _write_lock(str(conn.engine.url.database or ""))
    if not turn.acquire(timeout=SQLITE_WAIT):
        raise sqlite3.OperationalError("database is locked (no turn to write in 30 s)")
    raw.write_turn = turn
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        raw._give_back()
        raise


def make_engine(url: str, **kwargs: Any) -> Engine:
    """`url` is Settings.database_url (bot.config reads DATABASE_URL; storage reads no settings)."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": SQLITE_WAIT,
                "factory": _SQLiteConnection,
            },
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, **kwargs)
    event.listen(engine, "checkin", _idle_from)
    event.listen(engine, "checkout", partial(_ping_if_idle, engine.dialect))
    return engine


IDLE_PING = 1.0
"""Seconds a pooled PostgreSQL connection may rest before it is pinged on its way out."""


def _idle_from(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that rested IDLE_PING seconds or more before handing it out; a dead one
    (the server restarted, a proxy dropped it) makes the pool connect afresh.

    `pool_pre_ping` pinged on every checkout: one more round trip in each transaction, which a
    form's ack waits for, most of all in a burst, when connections go straight back out. One
    used a moment ago was alive a moment ago."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < IDLE_PING:
        return  # just connected, or just used
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as exc:
        if dialect.is_disconnect(exc, dbapi_connection, None):
            raise DisconnectionError(str(exc)) from exc  # the pool retries with a new one
        raise


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return _refusing_writes_when_reading(sessionmaker(engine, expire_on_commit=False))


def team_session_factory(engine: Engine, team_id: str) -> sessionmaker[Session]:
    """Sessions that see only one Slack team's rows (storage/tenancy.py explains how)."""
    from storage import tenancy

    return tenancy.scope(
        _refusing_writes_when_reading(
            sessionmaker(engine, expire_on_commit=False, info={tenancy.TEAM_KEY: team_id})
        )
    )


class ReadOnlySession(Exception):
    """A change inside `reading`: on SQLite it would write without the write turn."""


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise ReadOnlySession("a change inside reading(): use transaction() to change rows")


def _refusing_writes_when_reading(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    event.listen(factory, "before_flush", _refuse_flush)
    return factory


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that only reads: rendering a message, answering a lookup.

    On SQLite it does not queue for the write turn that `transaction` takes at its start: a
    background render (the delivery worker's status message, 10 ms or more of Python) held
    that turn while the forms submitted meanwhile waited for it to ack. Flushing a change
    inside raises `ReadOnlySession`; nothing is committed.
    """
    with factory() as session:
        session.info[READ_ONLY] = True
        session.connection(execution_options={READ_ONLY: True})  # before the first statement
        try:
            yield session
        finally:
            session.rollback()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    command.upgrade(alembic_config(engine), revision)


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def head_revisions(engine: Engine) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def check_writable(engine: Engine) -> None:
    """Raise unless the database takes writes; nothing is changed.

    A SQLite file the process may not write is opened read-only without complaint and answers
    every read (even BEGIN IMMEDIATE, in WAL mode), so only a write statement shows it: a DELETE
    that matches no row, rolled back. PostgreSQL says so itself (a standby, or a database set
    read-only), without the lock a write would take.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            with conn.begin() as trans:
                conn.execute(text("DELETE FROM alembic_version WHERE 0 = 1"))
                trans.rollback()
        elif conn.execute(text("SHOW transaction_read_only")).scalar() == "on":
            raise ReadOnlyDatabase("the database is read-only")

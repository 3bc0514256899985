"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL gets a scratch database per run. In CI (CI=true) an unreachable PostgreSQL fails the
run instead of skipping, so a green CI always means both databases were tested.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

# The listener unit tests' fixtures (SQLite only): unit_engine, client, rt, ack, respond, hooks.
from helpers.slack_unit import (  # noqa: F401
    _migrated_sqlite,
    ack,
    client,
    hooks,
    respond,
    rt,
    unit_engine,
)
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from storage.db import make_engine, session_factory, upgrade
from storage.schema import metadata

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    name = f"pmbot_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    yield url.render_as_string(hide_password=False)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def migrated_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    yield migrated_engine
    with migrated_engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """PostgreSQL alone, migrated (for what only PostgreSQL does), emptied after the test."""
    engine = make_engine(pg_url)
    upgrade(engine)
    yield engine
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as s:
        yield s

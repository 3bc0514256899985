"""Claim-before-send: the one "insert once" every exactly-once sender uses.

A sender (nudges, digests, support reminders, safety alerts) inserts the identity row of what it
is about to send before sending it. The unique constraint decides: exactly one of several racing
processes gets the row's id back, the others get None and send nothing. Both dialects spell this
`INSERT … ON CONFLICT DO NOTHING RETURNING id`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import CursorResult, Executable, Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Base

T = TypeVar("T", bound=Any)


def dialect_insert(session: Session) -> Any:
    """The dialect's own `insert` (the one with `on_conflict_do_nothing`)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def insert_once(
    session: Session, model: type[Base], unique: Sequence[str], **values: Any
) -> int | None:
    """Insert the row unless one with the same `unique` columns exists: its id, or None."""
    stmt = (
        dialect_insert(session)(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(model.id)  # type: ignore[attr-defined]
    )
    result: int | None = session.execute(stmt).scalar()
    return result


def updated_rows(session: Session, stmt: Executable) -> int:
    """How many rows an UPDATE changed: a conditional UPDATE is a claim too, and only the caller
    that sees 1 acts. `Session.execute` is typed as returning a plain `Result`; for an UPDATE
    without RETURNING it is always a `CursorResult`, the one that carries the count."""
    result = session.execute(stmt)
    assert isinstance(result, CursorResult)  # an UPDATE/DELETE without RETURNING, see above
    return result.rowcount


def skip_locked(query: Select[T], session: Session) -> Select[T]:
    """Rows another process has locked are skipped, not waited for (PostgreSQL replicas share
    the work); SQLite's single writer needs no row locks."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query

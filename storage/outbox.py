"""The transactional outbox: what a change promises to tell Slack (or a tracker), kept durably.

A listener records each side effect of a change in the same transaction as the change itself, so
a crash, a Slack outage or a slow call after the commit can delay an effect but never lose it.
Workers (`serve`'s delivery thread, `postmortem-bot worker`) claim due effects, run them, and
record the outcome; each effect is retried on its own with backoff until it succeeds or fails for
good.

Claims are leases: a claimed effect carries `lease_until`, which the worker renews while the
handler runs (`renew`); a worker that dies stops renewing, and the effect is taken again once the
lease passes, within `LEASE` (the effect's handler recognises work already done). A lease long
enough for the slowest handler would hold a dead worker's effects, and every later effect of
their groups, for that long. Effects
that share a `group` run in the order they were recorded: a later one waits while an earlier one
is still pending.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Index, String, Table, Text, and_, func, insert, or_, select, update
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from storage import tenancy
from storage.claims import skip_locked, updated_rows
from storage.models import Base
from storage.types import utcnow

log = logging.getLogger(__name__)

PENDING, DONE, FAILED = "pending", "done", "failed"
LEASE = timedelta(seconds=30)
"""How long a claim holds without renewal: a killed worker's effects are retried after this."""


class Effect(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due_at", "status", "due_at"),
        Index("ix_outbox_group_key_status_id", "group_key", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]]
    group_key: Mapped[str | None] = mapped_column(String(80))
    # The Slack team it is for (None: recorded in single-workspace mode): delivered with that
    # workspace's token, and dropped once the workspace uninstalls the app.
    team_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


@dataclass(frozen=True)
class Claimed:
    """An effect a worker holds until `lease_until` (a plain value: no session needed)."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    team_id: str | None = None


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    group: str | None = None,
    now: datetime | None = None,
) -> Effect:
    """Record an effect in the caller's transaction; it is due at once.

    A session scoped to one team (storage/tenancy.py) stamps the effect with that team, so the
    worker delivers it with that workspace's token.
    """
    effect = Effect(
        kind=kind,
        payload=payload,
        group_key=group,
        team_id=tenancy.team_of(session),
        due_at=now or utcnow(),
    )
    session.add(effect)
    return effect


def enqueue_many(
    session: Session, effects: Iterable[tuple[str, dict[str, Any], str | None]]
) -> int:
    """Record several effects, `(kind, payload, group)` each, in one INSERT; how many.

    What a change promises is recorded while its transaction holds the database's write lock
    (SQLite) and the Slack ack waits: one multi-row statement instead of an ORM object per
    effect keeps that short. Rows are inserted in the order given, so their ids (and with them
    the delivery order within a group) follow it.
    """
    now = utcnow()
    team = tenancy.team_of(session)
    rows = [
        {
            "kind": kind,
            "payload": payload,
            "group_key": group,
            "team_id": team,
            "status": PENDING,
            "attempts": 0,
            "due_at": now,
            "created_at": now,
        }
        for kind, payload, group in effects
    ]
    if rows:  # the table's insert, on the session's connection (in its transaction): the
        # ORM's would split the rows by which values are None, and add its statement handling
        session.connection().execute(insert(cast(Table, Effect.__table__)), rows)
    return len(rows)


def claim_due(
    session: Session, now: datetime, *, limit: int = 20, lease: timedelta | None = None
) -> list[Claimed]:
    """Take up to `limit` due effects whose group has nothing earlier pending."""
    earlier = aliased(Effect)
    blocked = (
        select(earlier.id)
        .where(
            earlier.group_key == Effect.group_key, earlier.status == PENDING, earlier.id < Effect.id
        )
        .exists()
    )
    query = (
        select(Effect.id, Effect.kind, Effect.payload, Effect.attempts, Effect.team_id)
        .where(
            Effect.status == PENDING,
            Effect.due_at <= now,
            (Effect.lease_until.is_(None)) | (Effect.lease_until < now),
            (Effect.group_key.is_(None)) | ~blocked,
        )
        .order_by(Effect.id)
        .limit(limit)
    )
    claimed = [
        Claimed(row.id, row.kind, dict(row.payload), row.attempts + 1, row.team_id)
        for row in session.execute(skip_locked(query, session))
    ]
    if claimed:  # one statement for the batch: the delivery thread's work competes with acks
        session.execute(
            update(Effect)
            .where(Effect.id.in_([c.id for c in claimed]))
            .values(attempts=Effect.attempts + 1, lease_until=now + (lease or LEASE))
            .execution_options(synchronize_session=False)
        )
    return claimed


def renew(session: Session, claims: Iterable[Claimed], until: datetime) -> None:
    """Extend these claims while their handlers run: only effects still pending and still held
    by this claim (a worker that lost its lease to another does not take it back)."""
    mine = [and_(Effect.id == c.id, Effect.attempts == c.attempt) for c in claims]
    if mine:
        session.execute(
            update(Effect)
            .where(
                or_(*mine),
                Effect.status == PENDING,
                Effect.lease_until.is_not(None),
            )
            .values(lease_until=until)
        )


def release(session: Session, claims: Iterable[Claimed]) -> None:
    """Give back claims whose handlers never started: due again at once for any worker, and the
    attempt they counted not counted (only effects still held by these very claims)."""
    mine = [and_(Effect.id == c.id, Effect.attempts == c.attempt) for c in claims]
    if mine:
        session.execute(
            update(Effect)
            .where(or_(*mine), Effect.status == PENDING)
            .values(lease_until=None, attempts=Effect.attempts - 1)
        )


def finish(session: Session, *effect_ids: int, now: datetime | None = None) -> None:
    """Delivered: these effects are done (several in one statement, as a worker's pass
    finishes them together)."""
    session.execute(
        update(Effect)
        .where(Effect.id.in_(effect_ids))
        .values(status=DONE, lease_until=None, finished_at=now or utcnow(), last_error=None)
        .execution_options(synchronize_session=False)  # nothing in the session to keep in step
    )


def retry_at(session: Session, effect_id: int, when: datetime, error: str) -> None:
    """Back to pending, due again at `when` (the group keeps waiting for it)."""
    session.execute(
        update(Effect)
        .where(Effect.id == effect_id)
        .values(due_at=when, lease_until=None, last_error=error[:2000])
    )


def fail(session: Session, effect_id: int, error: str, now: datetime | None = None) -> None:
    """Failed for good: no more tries (an operator can retry it from the CLI)."""
    session.execute(
        update(Effect)
        .where(Effect.id == effect_id)
        .values(
            status=FAILED, lease_until=None, finished_at=now or utcnow(), last_error=error[:2000]
        )
    )


def retry_failed(
    session: Session, ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Failed effects back to pending (all of them, or those named); how many."""
    stmt = update(Effect).where(Effect.status == FAILED)
    if ids is not None:
        stmt = stmt.where(Effect.id.in_(list(ids)))
    return updated_rows(
        session,
        stmt.values(
            status=PENDING, due_at=now or utcnow(), attempts=0, finished_at=None, lease_until=None
        ),
    )


@dataclass(frozen=True)
class Backlog:
    pending: int
    retrying: int
    failed: int
    oldest_pending_at: datetime | None


def backlog(session: Session) -> Backlog:
    """What an operator watches: queue depth, retries, failures and the oldest pending effect."""
    rows: dict[str, int] = {
        status: count
        for status, count in session.execute(
            select(Effect.status, func.count())
            .where(Effect.status.in_((PENDING, FAILED)))  # indexed; done rows are most rows
            .group_by(Effect.status)
        )
    }
    retrying = (
        session.scalar(select(func.count()).where(Effect.status == PENDING, Effect.attempts > 0))
        or 0
    )
    oldest = session.scalar(select(func.min(Effect.created_at)).where(Effect.status == PENDING))
    return Backlog(
        pending=rows.get(PENDING, 0) - retrying,
        retrying=retrying,
        failed=rows.get(FAILED, 0),
        oldest_pending_at=oldest,
    )


def unfinished(session: Session, *, failed_only: bool = False, limit: int = 50) -> list[Effect]:
    """Pending and failed effects, oldest first, for `postmortem-bot outbox`."""
    statuses = [FAILED] if failed_only else [PENDING, FAILED]
    return list(
        session.scalars(
            select(Effect).where(Effect.status.in_(statuses)).order_by(Effect.id).limit(limit)
        )
    )


def fail_for_team(session: Session, team_id: str, error: str, now: datetime | None = None) -> int:
    """Fail every pending effect of a workspace that left (uninstalled): none is delivered."""
    return updated_rows(
        session,
        update(Effect)
        .where(Effect.team_id == team_id, Effect.status == PENDING)
        .values(status=FAILED, last_error=error, finished_at=now or utcnow(), lease_until=None)
        .execution_options(synchronize_session=False),
    )


NOTIFY_CHANNEL = "postmortem_outbox"
"""PostgreSQL's NOTIFY channel for committed effects (the trigger of migration 0023)."""
RELISTEN = 5.0  # seconds between attempts to listen again after the connection was lost


def listen(
    engine: Engine, woken: Callable[[], None], stop: threading.Event, *, every: float = 1.0
) -> None:
    """Call `woken` whenever any process commits effects, until `stop` is set (PostgreSQL).

    Workers in other processes than the one that saved a change would otherwise find its
    effects only at their next poll. The listening connection is the worker's own, outside
    the pool; if it is lost (the server restarted) it is opened again, and `woken` is called
    then too, for what was committed while nobody listened. `every`: seconds between checks
    of `stop`.
    """
    import psycopg

    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                woken()
                while not stop.is_set():
                    for _ in conn.notifies(timeout=every):
                        woken()
        except psycopg.Error as exc:
            if stop.is_set():
                return
            log.warning(
                "outbox: not listening for new effects (%s); polling until it is back",
                type(exc).__name__,
            )
            stop.wait(RELISTEN)

"""On PostgreSQL a worker hears of effects committed by other processes at once (NOTIFY).

`serve` answers requests in processes of their own there and delivers in another, so the
in-process wake-up a listener gives (`rt.delivery_due`) never reaches the worker: without the
trigger of migration 0023 and `storage.outbox.listen`, a status message would wait for the
worker's next poll.
"""

from __future__ import annotations

import threading
import time

from alembic import command
from helpers.slack_unit import fake_client, make_runtime
from sqlalchemy import Engine

from bot.delivery import worker
from bot.runtime import Runtime
from storage import outbox
from storage.db import alembic_config, make_engine, session_factory, transaction, upgrade
from storage.outbox import Claimed


def committed_elsewhere(engine: Engine, *, commit: bool = True) -> None:
    """An effect recorded by another process's transaction (its own engine and pool)."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with session_factory(other)() as session:
            outbox.enqueue(session, "test.post", {"n": 1})
            if commit:
                session.commit()
            else:
                session.rollback()
    finally:
        other.dispose()


def listening(engine: Engine) -> tuple[threading.Event, threading.Event]:
    woken, stop = threading.Event(), threading.Event()
    threading.Thread(target=outbox.listen, args=(engine, woken.set, stop), daemon=True).start()
    assert woken.wait(10), "listen never connected"  # it calls once on (re)connecting
    woken.clear()
    return woken, stop


def test_a_commit_in_another_process_wakes_the_listener_and_a_rollback_does_not(
    pg_engine: Engine,
) -> None:
    woken, stop = listening(pg_engine)
    try:
        committed_elsewhere(pg_engine, commit=False)
        assert not woken.wait(1.5)
        committed_elsewhere(pg_engine)
        assert woken.wait(5)
    finally:
        stop.set()


def test_without_the_trigger_nothing_is_heard(pg_engine: Engine) -> None:
    """The wake-up is the migration's trigger (its downgrade takes it away)."""
    command.downgrade(alembic_config(pg_engine), "0022_stage_assignments")
    try:
        woken, stop = listening(pg_engine)
        committed_elsewhere(pg_engine)
        assert not woken.wait(1.5)
        stop.set()
    finally:
        upgrade(pg_engine)


def test_the_worker_delivers_another_process_s_effect_long_before_its_poll(
    pg_engine: Engine,
) -> None:
    rt: Runtime = make_runtime(pg_engine, fake_client())
    delivered = threading.Event()

    def post(_rt: Runtime, _effect: Claimed) -> None:
        delivered.set()

    stop = threading.Event()
    loop = threading.Thread(
        target=worker.run, args=(rt, {"test.post": post}, stop), kwargs={"poll": 60}, daemon=True
    )
    loop.start()
    try:
        time.sleep(1.0)  # the first pass found nothing; the loop now waits up to a minute
        started = time.monotonic()
        committed_elsewhere(pg_engine)
        assert delivered.wait(10), "the effect waited for the worker's poll"
        assert time.monotonic() - started < 3
        with transaction(rt.sessions) as session:
            assert outbox.backlog(session).pending == 0
    finally:
        stop.set()
        rt.delivery_due.set()
        loop.join(10)

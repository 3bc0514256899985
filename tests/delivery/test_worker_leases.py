"""Leases in the delivery loop: renewed while a handler runs, so a short lease is safe.

The lease is short so that a killed worker's effects (and the later effects of their groups) are
retried within seconds; a live worker renews it, so a slow Slack call is never delivered twice.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.delivery import service, worker
from bot.delivery.service import deliver_due
from bot.slack.pacing import Foreground
from storage import outbox
from storage.db import session_factory, transaction
from storage.types import utcnow


def test_a_handler_slower_than_the_lease_keeps_its_effect_until_it_is_done(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "LEASE", timedelta(seconds=0.6))
    sessions = session_factory(engine)
    rt: Any = SimpleNamespace(
        sessions=sessions,  # no Slack here: no pacing needed
        sender=SimpleNamespace(lane=lambda _: contextlib.nullcontext(), foreground=Foreground()),
    )
    rt.paced = lambda: rt
    with transaction(sessions) as session:
        outbox.enqueue(session, "slow", {}, now=utcnow() - timedelta(seconds=1))
    started, attempts = threading.Event(), []

    def slow(_rt: Any, effect: outbox.Claimed) -> None:  # Slack answering after 2 s
        attempts.append(effect.attempt)
        started.set()
        time.sleep(2)

    first = threading.Thread(target=deliver_due, args=(rt, {"slow": slow}))
    first.start()
    assert started.wait(10)
    time.sleep(1.2)  # twice the lease: without renewal another worker would take it now
    with transaction(sessions) as session:
        taken_by_another = outbox.claim_due(session, utcnow())
    first.join(10)
    assert taken_by_another == []
    assert attempts == [1]
    with transaction(sessions) as session:
        assert outbox.backlog(session).pending == 0  # delivered once, and finished
    assert service.renew_every() < outbox.LEASE


def test_a_burst_of_commits_is_delivered_in_one_pass_after_it_settles(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Woken by a form's commit, the worker first lets the rest of the burst commit (each
    commit wakes it again, until none comes for `quiet`), then takes all their effects in one
    pass: it does not claim and deliver between the acks still in flight (bench/ack_latency.py).
    """
    sessions = session_factory(engine)
    rt: Any = SimpleNamespace(
        engine=engine,  # (on PostgreSQL the loop also listens for other processes' commits)
        sessions=sessions,
        sender=SimpleNamespace(lane=lambda _: contextlib.nullcontext(), foreground=Foreground()),
        delivery_due=threading.Event(),
    )
    rt.paced = lambda: rt
    delivered: list[int] = []
    passes: list[int] = []
    real_pass = worker.deliver_due
    first_pass = threading.Event()

    def counted(*args: Any, **kwargs: Any) -> service.DeliveryResult:
        result = real_pass(*args, **kwargs)
        if result:
            passes.append(result.done)
        first_pass.set()
        return result

    monkeypatch.setattr(worker, "deliver_due", counted)
    stop = threading.Event()
    loop = threading.Thread(
        target=worker.run,
        args=(rt, {"post": lambda _rt, e: delivered.append(e.payload["n"])}, stop),
        kwargs={"poll": 30.0, "settle": 3.0, "quiet": 0.5},
    )
    loop.start()
    try:
        assert first_pass.wait(10)  # the worker's pass at start-up found nothing; it sleeps
        for n in range(3):  # three submissions committing a moment apart
            with transaction(sessions) as session:
                outbox.enqueue(session, "post", {"n": n}, now=utcnow() - timedelta(seconds=1))
            rt.delivery_due.set()
            time.sleep(0.1)
        deadline = time.monotonic() + 10
        while len(delivered) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        rt.delivery_due.set()
        loop.join(10)
    assert sorted(delivered) == [0, 1, 2]
    assert passes == [3]  # one pass, after the burst

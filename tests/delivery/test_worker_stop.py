"""A worker told to stop (SIGTERM) stops within one round of Slack calls, not after its backlog."""

from __future__ import annotations

import threading
import time

from bot.delivery.service import deliver_due
from bot.runtime import Runtime
from storage import outbox
from storage.db import transaction
from storage.outbox import Claimed
from storage.types import utcnow


def test_a_stopping_pass_finishes_what_runs_and_hands_the_rest_back_at_once(rt: Runtime) -> None:
    started = threading.Semaphore(0)
    go, stop = threading.Event(), threading.Event()

    def post(runtime: Runtime, effect: Claimed) -> None:
        started.release()
        go.wait(10)  # Slack taking its time
        if stop.is_set():
            time.sleep(0.2)  # one that slipped in as the pass stopped: still finished

    with transaction(rt.sessions) as session:
        for n in range(12):
            outbox.enqueue(session, "test.post", {"n": n})
    results = []
    pass_ = threading.Thread(
        target=lambda: results.append(
            deliver_due(rt, {"test.post": post}, concurrency=2, stop=stop)
        )
    )
    pass_.start()
    assert started.acquire(timeout=10) and started.acquire(timeout=10)  # two calls in flight
    stop.set()
    go.set()
    pass_.join(10)
    assert not pass_.is_alive(), "the pass went on delivering after it was told to stop"
    [result] = results
    assert 2 <= result.done < 12 and result.retried == result.failed == 0

    # What it had claimed but not started is due again now, for any worker, as never tried.
    with transaction(rt.sessions) as session:
        again = outbox.claim_due(session, utcnow())
    assert len(again) == 12 - result.done
    assert {c.attempt for c in again} == {1}

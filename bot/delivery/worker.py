"""The delivery loop: the background of `serve` and the whole of `postmortem-bot worker`.

It sleeps until the runtime's `delivery_due` event is set (a listener in this process just
committed effects, or, on PostgreSQL, any process did: `storage.outbox.listen`) or the poll
interval passes (retries coming due), then delivers what is due. On PostgreSQL any number of
these loops, in `serve`'s background processes and in workers, share the outbox (SKIP LOCKED);
on SQLite the one `serve` process runs it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from sqlalchemy.exc import SQLAlchemyError

from bot.delivery.service import deliver_due
from bot.features import EffectHandler
from bot.runtime import Runtime
from storage import outbox

log = logging.getLogger(__name__)


# A woken worker waits until commits have stopped for QUIET seconds (at most SETTLE) before it
# claims: a burst of form submissions commits effects one after another, and the worker claiming
# (rendering, writing) between them competed with the acks still in flight for the process's
# interpreter and SQLite's write lock. Waiting lets the burst's acks go first and one pass take
# all their effects; a lone commit's status message appears QUIET later (bench/ack_latency.py).
SETTLE = 0.1
QUIET = 0.015
# A worker in a process of its own (`postmortem-bot worker`, `serve`'s background process on
# PostgreSQL) cannot see the requests still being answered elsewhere, and on the same machine
# its work takes a CPU from them: it waits for a longer lull. Still far below what anyone
# notices of a status message that Slack itself takes a few hundred milliseconds to show.
SETTLE_APART = 0.3
QUIET_APART = 0.05


def _settle(due: threading.Event, stop: threading.Event, quiet: float, most: float) -> None:
    """Return once no commit has woken the worker for `quiet` seconds, or `most` have passed."""
    deadline = time.monotonic() + most
    while not stop.is_set():
        due.clear()
        left = deadline - time.monotonic()
        if left <= 0 or not due.wait(min(quiet, left)):
            return


def run(
    rt: Runtime,
    handlers: Mapping[str, EffectHandler],
    stop: threading.Event,
    *,
    poll: float = 1.0,
    settle: float = SETTLE,
    quiet: float = QUIET,
) -> None:
    """Deliver until `stop` is set; a failing pass is logged and the next one tries again.

    On PostgreSQL a thread listens for effects committed by other processes (the requests
    `serve` answers in processes of their own, replicas), so they are delivered at once rather
    than at the next poll; the poll remains for retries coming due."""
    if rt.engine.dialect.name == "postgresql":
        threading.Thread(
            target=outbox.listen,
            args=(rt.engine, rt.delivery_due.set, stop),
            daemon=True,
            name="outbox-listen",
        ).start()
    while not stop.is_set():
        if rt.delivery_due.is_set() and settle:
            _settle(rt.delivery_due, stop, quiet, settle)  # woken by a commit: let its burst end
        rt.delivery_due.clear()
        try:
            result = deliver_due(rt, handlers, stop=stop)
            if result:
                log.info("outbox: %s", result)
        except (SQLAlchemyError, OSError) as exc:  # the database away: the next pass retries
            if stop.is_set():
                return
            log.warning(
                "outbox delivery pass failed: %s: %s",
                type(exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "",
            )
        except Exception:
            if stop.is_set():
                return
            log.exception("outbox delivery pass failed")
        rt.delivery_due.wait(poll)


class DeliveryThread:
    """`run` on a daemon thread, with a stop that waits for the current pass."""

    def __init__(
        self, rt: Runtime, handlers: Mapping[str, EffectHandler], *, poll: float = 1.0
    ) -> None:
        self._stop = threading.Event()
        self._rt = rt
        self._thread = threading.Thread(
            target=run,
            args=(rt, handlers, self._stop),
            kwargs={"poll": poll},
            daemon=True,
            name="delivery",
        )

    def start(self) -> DeliveryThread:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._rt.delivery_due.set()
        self._thread.join(timeout)

"""Background jobs inside `serve`: each feature registers its job here, APScheduler runs them.

Jobs read what is due from the database, so a restart loses nothing, and every job runs one at a
time (max_instances=1, coalesce) however late the previous run finishes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[Runtime], object]
    seconds: int


JOBS: dict[str, Job] = {}


def job(job_id: str, seconds: int) -> Callable[[Callable[[Runtime], object]],
                                               Callable[[Runtime], object]]:
    """Register a function of the Runtime to run every `seconds` inside `serve`."""
    def add(func: Callable[[Runtime], object]) -> Callable[[Runtime], object]:
        JOBS[job_id] = Job(job_id, func, seconds)
        return func
    return add


def _run(j: Job, rt: Runtime) -> None:
    try:
        j.func(rt)
    except Exception:  # a failing run is logged; the next run tries again
        log.exception("scheduled job %s failed", j.id)


def start(rt: Runtime, jobs: dict[str, Job] | None = None) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=UTC)
    for j in (jobs if jobs is not None else JOBS).values():
        scheduler.add_job(_run, "interval", seconds=j.seconds, args=[j, rt], id=j.id,
                          max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
    scheduler.start()
    return scheduler

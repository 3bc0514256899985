"""Background jobs inside `serve`: APScheduler runs the jobs bot/app.py collects from features.

Jobs read what is due from the database, so a restart loses nothing, and every job runs one at a
time (max_instances=1, coalesce) however late the previous run finishes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.features import Job
from bot.observability import logs
from bot.runtime import Runtime

log = logging.getLogger(__name__)


def _run(j: Job, rt: Runtime) -> None:
    """One run of a job for every workspace served (with many installed, each with its own
    token and rows; a workspace that uninstalled is no longer visited). Each workspace's run
    logs with its team id, as a request does."""
    for team_rt in rt.each_team():
        with logs.request_scope(team=team_rt.team):
            try:
                j.func(team_rt)
            except Exception:  # a failing run is logged; the next run tries again
                log.exception("scheduled job %s failed (workspace %s)", j.id, team_rt.team)


def start(rt: Runtime, jobs: Iterable[Job]) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=UTC)
    for j in jobs:
        scheduler.add_job(
            _run,
            "interval",
            seconds=j.seconds,
            args=[j, rt],
            id=j.id,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
    scheduler.start()
    return scheduler

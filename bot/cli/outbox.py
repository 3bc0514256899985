"""`postmortem-bot worker` and `postmortem-bot outbox`: delivering and inspecting side effects.

`worker` runs the outbox delivery loop in the foreground (next to `serve` replicas on
PostgreSQL; `serve` runs one itself). `outbox` shows what is pending, retrying or failed, with
the last error, and puts failed effects back in the queue.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from datetime import datetime

import click

from bot import background, scheduler
from bot.app import effect_handlers
from bot.app import jobs as app_jobs
from bot.cli.common import (
    CliError,
    SettingsError,
    log_progress,
    now_option,
    parse_now,
    runtime,
)
from bot.delivery import worker as delivery
from bot.delivery.service import deliver_due
from storage import outbox as store
from storage.db import transaction
from storage.types import utcnow


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, print the result, exit.")
@click.option(
    "--metrics-port",
    type=int,
    envvar="PORT",
    help="Serve /healthz and /metrics on this port (PORT): this worker's Slack calls and the "
    "outbox figures, which a `serve` replica's /metrics does not count.",
)
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - a server's job
@click.option(
    "--jobs",
    is_flag=True,
    help="Also run the scheduled jobs (reminders, digests, sweeps), as the background process "
    "`serve` starts on PostgreSQL does.",
)
@click.option("--exit-with", type=int, hidden=True, help="Stop once this process is gone.")
@now_option
def worker(
    once: bool,
    metrics_port: int | None,
    host: str,
    jobs: bool,
    exit_with: int | None,
    now_text: str | None,
) -> None:
    """Deliver the outbox's side effects until stopped (SIGTERM or Ctrl+C)."""
    from bot.config import ConfigError
    from bot.server import check_address, serve_probes

    if metrics_port is not None and not once:
        try:  # before anything starts: a port in use is one line, exit 2
            check_address(host, metrics_port)
        except ConfigError as exc:
            raise SettingsError(str(exc).replace("--port", "--metrics-port")) from None
    if exit_with is not None:  # `serve`'s background process: the requests' CPUs come first
        os.nice(background.NICE)
    rt = runtime()
    handlers = effect_handlers()
    if once:
        click.echo(str(deliver_due(rt, handlers, parse_now(now_text))))
        return
    log_progress()
    if metrics_port is not None:
        serve_probes(rt, host, metrics_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if exit_with is not None:
        background.exit_with(exit_with, stop)
    scheduled = scheduler.start(rt, app_jobs()) if jobs else None
    click.echo(
        "delivering the outbox"
        + (" and running the scheduled jobs" if jobs else "")
        + " (Ctrl+C stops)"
    )
    try:
        with contextlib.suppress(KeyboardInterrupt):
            delivery.run(
                rt, handlers, stop, settle=delivery.SETTLE_APART, quiet=delivery.QUIET_APART
            )
    finally:
        if scheduled is not None:
            scheduled.shutdown(wait=False)


def _age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "-"
    seconds = int((now - then).total_seconds())
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds}s"


@click.group("outbox", invoke_without_command=True)
@click.option("--failed", "failed_only", is_flag=True, help="Only effects that failed for good.")
@click.pass_context
def outbox(ctx: click.Context, failed_only: bool) -> None:
    """Side effects not yet delivered: pending, retrying and failed, with their last error."""
    if ctx.invoked_subcommand is not None:
        return
    rt = runtime()
    now = utcnow()
    with transaction(rt.sessions) as session:
        backlog = store.backlog(session)
        rows = store.unfinished(session, failed_only=failed_only)
        lines = [
            (
                e.id,
                e.kind,
                "failed" if e.status == store.FAILED else ("retrying" if e.attempts else "pending"),
                e.attempts,
                _age(e.created_at, now),
                e.last_error or "",
            )
            for e in rows
        ]
    click.echo(
        f"pending {backlog.pending}, retrying {backlog.retrying}, failed "
        f"{backlog.failed}; oldest pending {_age(backlog.oldest_pending_at, now)}"
    )
    for effect_id, kind, state, attempts, age, error in lines:
        click.echo(
            f"{effect_id:>8}  {kind:<24} {state:<8} tries {attempts:<3} age {age:<8} {error}"
        )


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every failed effect.")
def retry(ids: tuple[int, ...], all_failed: bool) -> None:
    """Put failed effects back in the queue (by id, or all of them)."""
    if not ids and not all_failed:
        raise CliError("name the effects to retry, or use --all-failed")
    rt = runtime()
    with transaction(rt.sessions) as session:
        count = store.retry_failed(session, None if all_failed else ids)
    click.echo(f"queued {count} failed effect(s) again")

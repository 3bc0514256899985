"""`postmortem-bot sandbox`: try the bot in the browser, no Slack workspace needed."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
from pathlib import Path

import click


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops it as cleanly as Ctrl+C (the temporary file goes)


@click.command("sandbox")
@click.option(
    "--port", type=int, default=3000, show_default=True, help="Port of the page on 127.0.0.1."
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file to keep (default: a fresh one, removed on exit; the fake "
    "Slack's messages live in memory, so a kept file suits one session).",
)
@click.option("--no-scheduler", is_flag=True, help="Do not run the background jobs.")
def sandbox(port: int, db_path: Path | None, no_scheduler: bool) -> None:
    """Run the real bot against a local stand-in for Slack and open it in the browser."""
    from bot import scheduler
    from bot.app import jobs as feature_jobs
    from bot.config import ConfigError
    from sandbox.server import running
    from storage import db

    # Only the bot's own settings come from the environment; Slack is the local stand-in, and
    # the meeting digest goes to its #reviews unless told otherwise.
    os.environ.setdefault("POSTMORTEM_DIGEST_CHANNEL", "C0REVIEWS")
    env = {k: v for k, v in os.environ.items() if k.startswith("POSTMORTEM_")}
    with (
        tempfile.TemporaryDirectory(prefix="postmortem-sandbox-") as folder,
        contextlib.ExitStack() as stack,
    ):
        path = db_path or Path(folder) / "sandbox.db"
        engine = db.make_engine(f"sqlite:///{path}")
        stack.callback(engine.dispose)
        db.upgrade(engine)
        try:
            page = stack.enter_context(running(engine, port=port, env=env))
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; try --port"
            ) from None
        if not no_scheduler:
            jobs = scheduler.start(page.sandbox.bot.rt, feature_jobs())
            stack.callback(jobs.shutdown, wait=False)
        signal.signal(signal.SIGTERM, _interrupt)
        click.echo(f"postmortem-bot sandbox: open {page.url}  (database {path}; Ctrl+C stops)")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            click.echo("stopping")

"""`postmortem-bot trackers sync`: one reconcile pass, for cron or a bot without webhooks."""

from __future__ import annotations

import click

from bot.cli.common import CliError, now_option, parse_now, runtime


@click.group("trackers")
def trackers() -> None:
    """The team's tracker (POSTMORTEM_TRACKER): tasks for action items, kept in step."""


@trackers.command("sync")
@now_option
def sync(now_text: str | None) -> None:
    """File missing tasks and read every linked task back once; print what happened."""
    from bot.trackers.service import sync as run_sync

    rt = runtime()
    if rt.settings.tracker is None:
        raise CliError("no tracker is configured: set POSTMORTEM_TRACKER (README: "
                       "\"Action items in your tracker\")")
    click.echo(str(run_sync(rt, parse_now(now_text))))

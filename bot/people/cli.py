"""`postmortem-bot stage-nudges`: one sweep of the stage nudges, for cron or a test clock."""

from __future__ import annotations

import click

from bot.cli.common import now_option, parse_now, runtime


@click.command("stage-nudges")
@now_option
def stage_nudges(now_text: str | None) -> None:
    """Nudge assignees of stages waiting too long (then their owners), once; print the counts."""
    from bot.people.service import sweep

    now = parse_now(now_text)
    for rt in runtime().each_team():  # each installed workspace with its own token
        click.echo(str(sweep(rt, now)))

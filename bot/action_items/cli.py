"""`postmortem-bot remind`: one reminder sweep, for cron or a test clock."""

from __future__ import annotations

import click

from bot.cli.common import now_option, parse_now, runtime


@click.command("remind")
@now_option
def remind(now_text: str | None) -> None:
    """Send the action-item reminders that are due now, once; print what happened."""
    from bot.action_items.nudges import sweep

    now = parse_now(now_text)
    for rt in runtime().each_team():  # each installed workspace with its own token
        click.echo(str(sweep(rt, now)))

"""`postmortem-bot surveys remind`: one reminder sweep, for cron or as of a given time."""

from __future__ import annotations

import click

from bot.cli.common import now_option, parse_now, runtime


@click.group("surveys")
def surveys() -> None:
    """Feedback surveys sent to a review's participants."""


@surveys.command("remind")
@now_option
def remind(now_text: str | None) -> None:
    """Record the one reminder for each participant who has not answered, on the morning of a
    survey's last day (delivered by `serve` or `postmortem-bot worker`)."""
    from bot.surveys.service import sweep

    click.echo(str(sweep(runtime(), parse_now(now_text))))

"""`postmortem-bot tickets ...`: what the helpdesk webhook has recorded, for operators and cron."""

from __future__ import annotations

import click

from bot.cli.common import now_option, parse_now, runtime


@click.group("tickets")
def tickets() -> None:
    """Helpdesk tickets recorded by the webhook (POST /hooks/tickets)."""


@tickets.command("stale")
@now_option
def stale(now_text: str | None) -> None:
    """Suggest a post-mortem, once, to the owner of every ticket open more than 14 days."""
    from bot.tickets.service import suggest_stale

    now = parse_now(now_text)
    count = sum(suggest_stale(rt, now) for rt in runtime().each_team())
    click.echo(f"suggested a post-mortem for {count} stale ticket(s)")


@tickets.command("remind")
@now_option
def remind(now_text: str | None) -> None:
    """Send due support reminders (In Progress too long; In Review for admins), once."""
    from bot.tickets.support import sweep

    now = parse_now(now_text)
    for rt in runtime().each_team():  # each installed workspace with its own token
        click.echo(str(sweep(rt, now)))

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
        raise CliError(
            "no tracker is configured: set POSTMORTEM_TRACKER (README: "
            '"Action items in your tracker")'
        )
    click.echo(str(run_sync(rt, parse_now(now_text))))


@trackers.command("github-login")
@click.argument("slack_user")
@click.argument("login", required=False)
@click.option("--remove", is_flag=True, help="Forget the user's login.")
def github_login(slack_user: str, login: str | None, remove: bool) -> None:
    """Assign SLACK_USER's action items to GitHub LOGIN (GitHub looks nobody up by e-mail)."""
    import re

    from bot.trackers.service import SETTINGS_KEY
    from storage import reviews as store
    from storage.db import transaction

    if not re.fullmatch(r"[UW][A-Z0-9]{2,}", slack_user):
        raise CliError(f"{slack_user!r} is not a Slack user id (U…)")
    if not remove and not (login and re.fullmatch(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}", login)):
        raise CliError("give the user's GitHub login (or --remove)")
    rt = runtime()
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, rt.team_id())
        saved = dict((ws.settings or {}).get(SETTINGS_KEY) or {})
        logins = dict(saved.get("github_logins") or {})
        if remove:
            logins.pop(slack_user, None)
        else:
            logins[slack_user] = login
        ws.settings = {**(ws.settings or {}), SETTINGS_KEY: {**saved, "github_logins": logins}}
    click.echo(f"{slack_user}: {'no GitHub login' if remove else login}")

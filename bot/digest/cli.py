"""`postmortem-bot digest`: post the next meeting's digest now, print it, or print the schedule."""

from __future__ import annotations

import click

from bot.cli.common import now_option, parse_now


@click.command("digest")
@click.option("--dry-run", is_flag=True, help="Print the digest (Slack mrkdwn) instead of posting.")
@click.option(
    "--schedule",
    "show_schedule",
    is_flag=True,
    help="Print the next five meetings and when their digests are posted.",
)
@now_option
def digest(dry_run: bool, show_schedule: bool, now_text: str | None) -> None:
    """Post the next post-mortem meeting's digest now (once per meeting and channel)."""
    from bot.cli.common import CliError, runtime
    from bot.digest import service as feature
    from bot.digest.views import as_mrkdwn, when
    from bot.runtime import NoTeamChosen
    from storage.db import transaction
    from storage.types import utcnow
    from workflows.meetings import format_schedule, upcoming

    now = parse_now(now_text) or utcnow()
    rt = runtime()  # in OAuth mode, the workspace POSTMORTEM_TEAM_ID names
    settings = rt.settings
    try:
        team = rt.team_id()
    except NoTeamChosen:
        raise  # the CLI says which setting, and the installed teams
    except Exception as exc:  # noqa: BLE001 - Slack unreachable or token refused: one line
        raise CliError(
            f"could not reach Slack at {settings.api_url}: {str(exc).splitlines()[0]}"
        ) from None
    if show_schedule:
        with transaction(rt.sessions) as session:
            _, current = feature.load_settings(session, team, rt, now)
        schedule = current.schedule(settings.state)
        where = f"#{current.channel}" if current.channel else "no channel set"
        click.echo(f"{current.describe()}; digest channel: {where}")
        for line in format_schedule(upcoming(schedule, now, 5)):
            click.echo(f"  {line}")
        return
    if dry_run:
        found = feature.preview(rt, team, now)
        if found.message is None:
            raise CliError("no meeting is scheduled in the next year (all are skipped)")
        click.echo(as_mrkdwn(found.message), nl=False)
        return
    result = feature.post(rt, team, now=now, by="cli")
    held = when(result.meeting.starts_at) if result.meeting else ""  # set for posted, already
    if result.status == "posted":
        click.echo(
            f"posted the digest for the meeting on {held} to {result.channel} (ts {result.ts})"
        )
    elif result.status == "already":
        click.echo(
            f"the digest for the meeting on {held} is already "
            f"in {result.channel} ({result.detail}): nothing posted"
        )
    elif result.status == "no_channel":
        raise CliError(
            "no digest channel is set: set POSTMORTEM_DIGEST_CHANNEL before the "
            "first start, or use `/postmortem digest` → Change schedule"
        )
    else:
        raise CliError(f"digest not posted: {result.detail}")

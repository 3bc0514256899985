"""`postmortem-bot workspace export|delete T…`: one workspace's data, for a customer's request."""

from __future__ import annotations

import json
import re
from typing import IO

import click

from bot.cli.common import CliError, database_engine

TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,}$")


def _team(team_id: str) -> str:
    if not TEAM_ID.match(team_id):
        raise CliError(f"{team_id!r} is not a Slack workspace id (T…)")
    return team_id


@click.group("workspace")
def workspace() -> None:
    """One workspace's data: export it as JSON, or delete it."""


@workspace.command("export")
@click.argument("team_id")
@click.option("--output", "-o", type=click.File("w"), default="-", help="File (default: stdout).")
def export(team_id: str, output: IO[str]) -> None:
    """Write everything stored for TEAM_ID as JSON (tokens left out)."""
    from storage import workspace_data

    engine = database_engine()
    if not workspace_data.exists(engine, _team(team_id)):
        raise CliError(f"nothing is stored for workspace {team_id}")
    json.dump(workspace_data.export(engine, team_id), output, indent=2, sort_keys=True)
    output.write("\n")


@workspace.command("delete")
@click.argument("team_id")
@click.option("--yes", is_flag=True, help="Really delete (nothing is deleted without it).")
def delete(team_id: str, yes: bool) -> None:
    """Delete everything stored for TEAM_ID: reviews, items, digests, its installation."""
    from storage import workspace_data

    engine = database_engine()
    if not workspace_data.exists(engine, _team(team_id)):
        raise CliError(f"nothing is stored for workspace {team_id}")
    if not yes:
        raise CliError(
            f"this deletes every review, action item and setting of {team_id} for good; "
            "export it first, then run again with --yes"
        )
    workspace_data.delete_all(engine, team_id)
    click.echo(f"deleted everything stored for workspace {team_id}")


@workspace.command("webhook-token")
@click.argument("team_id")
def webhook_token(team_id: str) -> None:
    """Make TEAM_ID's own helpdesk webhook token (POST /hooks/<helpdesk>), shown once.

    With many workspaces installed, the token says whose tickets a delivery holds; a new one
    replaces the old.
    """
    import secrets

    from storage import workspace_data

    engine = database_engine()
    if not workspace_data.exists(engine, _team(team_id)):
        raise CliError(f"nothing is stored for workspace {team_id}: install the app there first")
    token = secrets.token_urlsafe(32)
    workspace_data.set_webhook_token(engine, team_id, token)
    click.echo(token)

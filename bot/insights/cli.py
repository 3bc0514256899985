"""`postmortem-bot insights`: the same figures for people who want them in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click

from bot.cli.common import CliError, SettingsError, database_engine, now_option, parse_now


@click.command("insights")
@click.option(
    "--since",
    "since",
    default="",
    metavar="PERIOD",
    help="A date (2026-01-01) or a period: 6m, 12w, 90d, 2026, 2026-03, all. "
    "Default: this month and the five before.",
)
@click.option(
    "--format", "fmt", type=click.Choice(("png", "csv", "json")), default="json", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output (required for png).",
)
@click.option(
    "--team",
    metavar="TEAM_ID",
    help="The Slack team, when the database holds more than one workspace.",
)
@now_option
def insights_command(
    since: str, fmt: str, output: Path | None, team: str | None, now_text: str | None
) -> None:
    """Write the insights' figures as JSON, CSV (one figure a row) or a PNG chart."""
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError

    from bot.config import ConfigError, timezone_name, workflows_dir
    from bot.insights import charts, service
    from storage.db import session_factory, transaction
    from storage.models import Workspace
    from storage.types import utcnow
    from workflows.insights import CSV_COLUMNS, PeriodError, as_json, as_rows
    from workflows.loader import Registry

    if fmt == "png" and output is None:
        raise CliError("--format png needs --output FILE (a picture is not for a terminal)")
    now = parse_now(now_text) or utcnow()
    try:
        fallback_zone, folder = timezone_name(), workflows_dir()
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    registry = Registry.load(folder)
    engine = database_engine()
    try:
        with transaction(session_factory(engine)) as session:
            query = select(Workspace).order_by(Workspace.id)
            if team:
                query = query.where(Workspace.team_id == team)
            found = list(session.scalars(query))
            if not found:
                raise CliError(
                    f"no workspace {team} in the database"
                    if team
                    else "the database has no workspace yet"
                )
            if len(found) > 1:
                teams = ", ".join(w.team_id for w in found)
                raise CliError(
                    f"the database holds several workspaces ({teams}): choose one with --team"
                )
            ws = found[0]
            zone = service.zone_of(ws, fallback_zone)
            try:
                period = service.period_for(session, ws.id, since, now.astimezone(zone).date())
            except PeriodError as exc:
                raise CliError(f"--since: {exc}") from None
            ins = service.collect(session, ws, period, zone, now, service.definitions(registry))
    except OperationalError as exc:
        raise CliError(f"could not read the database: {str(exc).splitlines()[0]}") from None
    if fmt == "png":
        assert output is not None
        output.write_bytes(charts.overview_png(ins))
        click.echo(f"wrote the insights chart for {ins.period.label} to {output}")
        return
    if fmt == "json":
        text = json.dumps(as_json(ins), indent=2) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(as_rows(ins))
        text = buffer.getvalue()
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote the insights for {ins.period.label} as {fmt} to {output}")
    else:
        click.echo(text, nl=False)

"""`postmortem-bot safety`: the product safety register for operators (CSV export)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import team_runtime


@click.group("safety")
def safety_group() -> None:
    """The product safety incident register (ACL s131)."""


@safety_group.command("export")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def safety_export(output: Path | None) -> None:
    """Write the register as CSV."""
    from bot.safety.service import export_csv

    text = export_csv(team_runtime())
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {text.count(chr(10)) - 1} incident(s) to {output}")
    else:
        click.echo(text, nl=False)

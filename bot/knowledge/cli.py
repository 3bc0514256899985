"""`postmortem-bot export`: a review's complete record as Markdown, HTML or JSON."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.exc import OperationalError

from bot.cli.common import CliError, database_engine
from bot.knowledge.export import EXPORT_FORMATS, ExportError, export_review
from storage.db import session_factory, transaction


@click.command("export")
@click.argument("review_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="markdown", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def export_command(review_id: int, fmt: str, output: Path | None) -> None:
    """Export a review's complete record: answers, decisions, action items, audit trail."""
    engine = database_engine()
    try:
        with transaction(session_factory(engine)) as session:
            text = export_review(session, review_id, fmt)
    except ExportError as exc:
        raise CliError(str(exc)) from None
    except OperationalError as exc:
        raise CliError(f"could not read the database: {str(exc).splitlines()[0]}") from None
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote review {review_id} as {fmt} to {output}")
    else:
        click.echo(text, nl=False)

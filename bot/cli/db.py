"""`postmortem-bot db`: schema migrations (Alembic) for operators."""

from __future__ import annotations

import click

from bot.cli.common import CliError, database_engine
from storage import db


@click.group("db")
def db_group() -> None:
    """Database migrations (DATABASE_URL; default sqlite:///postmortem.db)."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    engine = database_engine()
    try:
        db.upgrade(engine)
    except Exception as exc:  # connection refused, permission denied...: say it in one line
        raise CliError(
            f"could not migrate {engine.url.render_as_string()}: {str(exc).splitlines()[0]}"
        ) from None
    click.echo(f"database at revision {', '.join(sorted(db.current_revisions(engine)))} (head)")


@db_group.command("current")
def db_current() -> None:
    """Show the database's schema revision and whether it is the newest."""
    engine = database_engine()
    try:
        current = db.current_revisions(engine)
    except Exception as exc:
        raise CliError(
            f"could not read {engine.url.render_as_string()}: {str(exc).splitlines()[0]}"
        ) from None
    heads = db.head_revisions(engine)
    state = "up to date" if current == heads else "behind: run `postmortem-bot db upgrade`"
    click.echo(f"{', '.join(sorted(current)) or 'empty'} ({state})")

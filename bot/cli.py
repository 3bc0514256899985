"""`postmortem-bot`: the command line for operators (migrations, workflows, the bot itself)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli_support import CliError, SettingsError, database_engine, now_option, parse_now, runtime
from storage import db
from workflows.loader import DefinitionError, Registry, definition_files, load_file


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="postmortem-bot")
def main() -> None:
    """Run post-mortems and review workflows inside Slack."""


@main.group("db")
def db_group() -> None:
    """Database migrations (DATABASE_URL; default sqlite:///postmortem.db)."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    engine = database_engine()
    try:
        db.upgrade(engine)
    except Exception as exc:  # connection refused, permission denied...: say it in one line
        raise CliError(f"could not migrate {engine.url.render_as_string()}: "
                       f"{str(exc).splitlines()[0]}") from None
    click.echo(f"database at revision {', '.join(sorted(db.current_revisions(engine)))} (head)")


@db_group.command("current")
def db_current() -> None:
    """Show the database's schema revision and whether it is the newest."""
    engine = database_engine()
    try:
        current = db.current_revisions(engine)
    except Exception as exc:
        raise CliError(f"could not read {engine.url.render_as_string()}: "
                       f"{str(exc).splitlines()[0]}") from None
    heads = db.head_revisions(engine)
    state = "up to date" if current == heads else "behind: run `postmortem-bot db upgrade`"
    click.echo(f"{', '.join(sorted(current)) or 'empty'} ({state})")


@main.group("workflows")
def workflows_group() -> None:
    """Inspect and check workflow definitions."""


def _extra_dir() -> Path | None:
    from bot.config import workflows_dir

    return workflows_dir()


@workflows_group.command("list")
def workflows_list() -> None:
    """List the workflows this bot offers (built-in plus POSTMORTEM_WORKFLOWS_DIR)."""
    try:
        registry = Registry.load(_extra_dir())
    except DefinitionError as exc:
        raise CliError(str(exc)) from None
    for wf in registry.all():
        stages = " → ".join(s.name for s in wf.stages)
        click.echo(f"{wf.key}  v{wf.version}  {wf.name}: {stages}")


@workflows_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def workflows_validate(paths: tuple[Path, ...]) -> None:
    """Check definition files (default: the built-in ones and POSTMORTEM_WORKFLOWS_DIR)."""
    from workflows.loader import BUILTIN_DIR

    folders = list(paths) or [BUILTIN_DIR] + ([d] if (d := _extra_dir()) else [])
    files = definition_files(folders)
    if not files:
        raise CliError("no workflow definitions (*.yaml) found")
    failed = 0
    for path in files:
        try:
            wf = load_file(path)
        except DefinitionError as exc:
            failed += 1
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            continue
        click.echo(f"ok  {path}  ({wf.key} v{wf.version}, {len(wf.stages)} stages)")
    if failed:
        raise CliError(f"{failed} of {len(files)} definition file(s) have problems")


@main.command("remind")
@now_option
def remind(now_text: str | None) -> None:
    """Send the action-item reminders that are due now, once; print what happened."""
    from bot.reminders import sweep

    now = parse_now(now_text)
    click.echo(str(sweep(runtime(), now)))


@main.group("safety")
def safety_group() -> None:
    """The product safety incident register (ACL s131)."""


@safety_group.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def safety_export(output: Path | None) -> None:
    """Write the register as CSV."""
    from bot.safety import export_csv

    text = export_csv(runtime())
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {text.count(chr(10)) - 1} incident(s) to {output}")
    else:
        click.echo(text, nl=False)


@main.command("serve")
@click.option("--port", type=int, envvar="PORT", default=3000, show_default=True,
              help="HTTP port for /slack/events (ignored in Socket Mode).")
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - a server's job
def serve(port: int, host: str) -> None:
    """Start the Slack app (Socket Mode when SLACK_APP_TOKEN is set, else HTTP)."""
    from bot.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    from bot.server import run

    try:
        run(settings, host=host, port=port)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None


@main.command("check")
def check() -> None:
    """Check settings, workflows, database and Slack token, one line each (exit 0, or 2)."""
    from bot.checks import run_all

    results = run_all()
    for result in results:
        click.echo(result.line())
    if not all(result.ok for result in results):
        raise SystemExit(2)


from bot.sandbox.cli import sandbox  # noqa: E402 - registered after the group exists

main.add_command(sandbox)

from bot.digest_cli import digest  # noqa: E402 - registered after the group exists

main.add_command(digest)

from bot.tickets_cli import tickets  # noqa: E402 - registered after the group exists

main.add_command(tickets)

from bot.export import export_command  # noqa: E402 - registered after the group exists

main.add_command(export_command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""`postmortem-bot workflows`: list and validate workflow definitions."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import CliError
from workflows.loader import DefinitionError, Registry, definition_files, load_file


@click.group("workflows")
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

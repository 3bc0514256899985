"""`postmortem-bot`: the command line for operators (migrations, workflows, the bot itself)."""

from __future__ import annotations

import sys

import click

from bot.app import cli_commands
from bot.cli.common import Commands, setup_logging
from bot.cli.db import db_group
from bot.cli.outbox import outbox, worker
from bot.cli.serve import check, serve
from bot.cli.workflows import workflows_group


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="postmortem-bot")
def main() -> None:
    """Run post-mortems and review workflows inside Slack."""
    setup_logging()


@click.command(
    "sandbox",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def sandbox(ctx: click.Context) -> None:
    """Try the bot in the browser against a local stand-in for Slack (no workspace needed)."""
    from sandbox.cli import sandbox as command  # the stand-in is never loaded by `serve`

    command.main(args=ctx.args, prog_name="postmortem-bot sandbox", standalone_mode=True)


def build_cli() -> click.Group:
    """Every command, wired here: the operators' own plus each feature's."""
    commands = (db_group, workflows_group, serve, check, worker, outbox, sandbox)
    for command in (*commands, *cli_commands()):
        main.add_command(command)
    return main


build_cli()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

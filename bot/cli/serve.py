"""`postmortem-bot serve`: the bot itself, on HTTP or Socket Mode."""

from __future__ import annotations

import click

from bot.cli.common import SettingsError


@click.command("serve")
@click.option(
    "--port",
    type=int,
    envvar="PORT",
    default=3000,
    show_default=True,
    help="HTTP port for /slack/events, /healthz and /metrics (in Socket Mode, only when given: "
    "/healthz and /metrics).",
)
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - a server's job
@click.pass_context
def serve(ctx: click.Context, port: int, host: str) -> None:
    """Start the Slack app (Socket Mode when SLACK_APP_TOKEN is set, else HTTP)."""
    from bot.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    from bot.server import run

    try:
        given = ctx.get_parameter_source("port") != click.core.ParameterSource.DEFAULT
        run(settings, host=host, port=port, probes_port=given)
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None


@click.command("check")
def check() -> None:
    """Check settings, workflows, database and Slack token, one line each (exit 0, or 2)."""
    from bot.checks import run_all

    results = run_all()
    for result in results:
        click.echo(result.line())
    if not all(result.ok for result in results):
        raise SystemExit(2)

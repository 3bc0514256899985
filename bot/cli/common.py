"""What the CLI's commands share: one-line errors, the bot's runtime, `--now`.

Kept apart from bot/cli/main.py so feature modules can add commands without an import cycle.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

import click
from sqlalchemy import Engine

from bot.runtime import NoTeamChosen, NotInstalled, Runtime
from storage import db


class CliError(click.ClickException):
    """One clear line on stderr, exit 1: no tracebacks for operator mistakes."""

    def format_message(self) -> str:
        return self.message


class SettingsError(CliError):
    """A setting, definition or database the bot cannot start with: exit 2 for deploy scripts."""

    exit_code = 2


class Commands(click.Group):
    """The CLI's group: a command that needs one workspace, run in OAuth mode without
    POSTMORTEM_TEAM_ID, stops with one line naming the setting and the installed team ids
    (exit 2), wherever in the command the workspace was asked for."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except NoTeamChosen as exc:
            raise SettingsError(str(exc)) from None


def setup_logging() -> None:
    """Logging for every command, set once at the CLI's entry: `POSTMORTEM_LOG_FORMAT` (text or
    json), and the environment's tokens and secrets redacted from every line.

    Warnings and errors only, so a start-up failure stays one line; `serve` and `worker` turn
    INFO on (`log_progress`) once their checks have passed.
    """
    from bot.config import ConfigError, log_format, secret_values
    from bot.observability import logs

    try:
        fmt = log_format()
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    logs.configure(fmt, logging.WARNING, secret_values())


def log_progress() -> None:
    """A long-running command's INFO lines are its operator's record (after start-up)."""
    logging.getLogger().setLevel(logging.INFO)


def runtime() -> Runtime:
    """Settings, a migrated database and a Slack client, for commands that work like the bot.

    Settings are read when a command runs, so `--help` and the database commands never need them.
    """
    from bot.checks import prepare_database
    from bot.config import ConfigError, load_settings
    from bot.runtime import build_runtime

    try:
        settings = load_settings()
        rt = build_runtime(settings, prepare_database(settings))
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None
    team = os.environ.get("POSTMORTEM_TEAM_ID", "").strip()
    if team and rt.tokens is not None:  # many workspaces: the one this command is for
        try:
            return rt.for_team(team)
        except NotInstalled as exc:
            raise SettingsError(f"POSTMORTEM_TEAM_ID: {exc}") from None
    return rt


def team_runtime() -> Runtime:
    """`runtime()` for a command about one workspace's data: in OAuth mode it must be named
    (POSTMORTEM_TEAM_ID), where an unscoped runtime would read every workspace's rows."""
    rt = runtime()
    if rt.tokens is not None and rt.team is None:
        raise NoTeamChosen(rt.tokens.installed_teams())
    return rt


def parse_now(text: str | None) -> datetime | None:
    """`--now`: an ISO date and time with its UTC offset (a naive time is whose clock?)."""
    if not text:
        return None
    try:
        now = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--now: {text!r} is not an ISO date and time") from None
    if now.tzinfo is None:
        raise CliError("--now needs a UTC offset, e.g. 2026-12-02T09:05+11:00")
    return now


now_option = click.option(
    "--now",
    "now_text",
    metavar="ISO-DATETIME",
    help="Run as of this time (with offset), e.g. 2026-12-02T09:05+11:00.",
)


def database_engine() -> Engine:
    from bot.config import ConfigError, database_url

    try:
        return db.make_engine(database_url())
    except ConfigError as exc:
        raise SettingsError(str(exc)) from None

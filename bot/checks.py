"""Start-up checks, shared by `serve` (before gunicorn forks) and `postmortem-bot check`.

A bad setting, a broken workflow definition or an unreachable database found inside gunicorn's
worker is a 50-line traceback and "Worker failed to boot"; found here it is one line naming what
to fix. Each check returns a Result rather than printing or exiting, so the command line decides
how to show it. Nothing here prints a secret: database URLs are shown with the password masked,
and tokens never appear in a Result.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.util import CommandError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Settings, load_settings
from storage import db
from workflows.loader import DefinitionError, Registry

TIMEOUT = 10  # seconds for the database connection and auth.test: a pipeline must not hang


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        head = f"{'ok' if self.ok else 'FAIL'} {self.name}"
        return f"{head}: {self.detail}" if self.detail else head


def settings(env: Mapping[str, str] | None = None) -> tuple[Settings | None, Result]:
    try:
        loaded = load_settings(env)
    except ConfigError as exc:
        return None, Result("settings", False, str(exc))
    return loaded, Result("settings", True)


def _registry(settings: Settings) -> tuple[Registry | None, list[str]]:
    try:
        return Registry.load(settings.workflows_dir), []
    except DefinitionError as exc:
        return None, [str(problem) for problem in exc.problems]


def workflow_problems(settings: Settings) -> list[str]:
    """`file:line: problem` for every problem in the built-in and POSTMORTEM_WORKFLOWS_DIR files."""
    return _registry(settings)[1]


def workflows(settings: Settings) -> Result:
    registry, problems = _registry(settings)
    if registry is None:
        more = (
            f" (and {len(problems) - 1} more: run `postmortem-bot workflows validate`)"
            if len(problems) > 1
            else ""
        )
        return Result("workflows", False, problems[0] + more)
    return Result("workflows", True, f"{len(registry.all())} definitions")


def shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def database_error(exc: BaseException) -> str:
    """The driver's own first line ("Connection refused", 'database "x" does not exist')."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0].strip() if lines else type(cause).__name__


def database(settings: Settings) -> Result:
    """Connect, compare the schema with the newest migration, and probe a write; change nothing.

    A SQLite file that does not exist yet is not created: `serve` creates and migrates it, so
    only its folder is checked.
    """
    url = make_url(settings.database_url)
    shown = shown_url(settings.database_url)
    sqlite = url.get_backend_name() == "sqlite"
    options: dict[str, Any] = {}
    if sqlite:
        path = url.database or ""
        if path and path != ":memory:" and not path.startswith("file:") and not Path(path).exists():
            folder = Path(path).parent
            if not folder.is_dir():
                return Result(
                    "database",
                    False,
                    f"DATABASE_URL: cannot use {shown}: the folder {folder} does not exist",
                )
            if not os.access(folder, os.W_OK):
                return Result(
                    "database",
                    False,
                    f"DATABASE_URL: cannot use {shown}: the folder {folder} is not writable",
                )
            return Result("database", True, f"{shown}: no file yet; `serve` creates it")
    else:
        options["connect_args"] = {"connect_timeout": TIMEOUT}
    engine = db.make_engine(settings.database_url, **options)
    try:
        current, heads = db.current_revisions(engine), db.head_revisions(engine)
        if current:
            db.check_writable(engine)
    except Exception as exc:  # noqa: BLE001 - every failure is reported the same way
        return Result("database", False, f"DATABASE_URL: cannot use {shown}: {database_error(exc)}")
    finally:
        engine.dispose()
    at, newest = ", ".join(sorted(current)) or "empty", ", ".join(sorted(heads))
    if current == heads:
        return Result("database", True, f"{shown} at revision {at} (current)")
    if sqlite:
        return Result(
            "database", True, f"{shown} at revision {at}; `serve` migrates it to {newest}"
        )
    return Result(
        "database",
        False,
        f"{shown} is at revision {at}, not the newest ({newest}): run `postmortem-bot db upgrade`",
    )


def slack(settings: Settings) -> Result:
    """auth.test with the bot token, through SLACK_API_URL: is the token valid, for which team?"""
    if settings.oauth is not None:  # no one token to test: each install brings its own
        return Result("slack", True, "OAuth install: tokens come from GET /slack/install")
    client = WebClient(token=settings.bot_token, base_url=settings.api_url, timeout=TIMEOUT)
    try:
        reply = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        return Result("slack", False, str(error or f"HTTP {exc.response.status_code}"))
    except Exception as exc:  # noqa: BLE001 - refused, timed out, not Slack at all
        reason = getattr(exc, "reason", None) or exc
        return Result("slack", False, f"cannot reach {settings.api_url}: {reason}")
    return Result(
        "slack", True, f"team {reply.get('team')} ({reply.get('team_id')}) as @{reply.get('user')}"
    )


def run_all(env: Mapping[str, str] | None = None) -> list[Result]:
    """Every check, in order; without valid settings the others cannot run."""
    loaded, result = settings(env)
    if loaded is None:
        return [result]
    return [result, workflows(loaded), database(loaded), slack(loaded)]


def prepare_database(settings: Settings) -> Engine:
    """The embedded SQLite default is created and migrated here; PostgreSQL must be migrated.

    An unreachable database is one ConfigError line (the driver's reason), not a traceback.
    """
    engine = db.make_engine(settings.database_url)
    shown = shown_url(settings.database_url)
    try:
        if make_url(settings.database_url).get_backend_name() == "sqlite":
            db.upgrade(engine)
        elif db.current_revisions(engine) != db.head_revisions(engine):
            raise ConfigError(
                f"DATABASE_URL: the schema of {shown} is not current: "
                "run `postmortem-bot db upgrade`"
            )
    except (SQLAlchemyError, CommandError) as exc:  # CommandError: a revision it lacks
        raise ConfigError(f"DATABASE_URL: cannot use {shown}: {database_error(exc)}") from None
    finally:
        engine.dispose()  # no connections cross the fork into gunicorn's worker
    return engine

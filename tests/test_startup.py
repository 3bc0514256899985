"""`serve` and `check` refuse bad settings before gunicorn starts: one line, exit 2, no traceback.

Each runs as the operator runs it, as a subprocess, because the failure this guards against (a
gunicorn worker's 50-line traceback and "Worker failed to boot") only shows in a real process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import PG_ADMIN_URL
from sqlalchemy import make_url

from sandbox.fake_slack import FakeSlack
from storage import db

BROKEN_YAML = "key: broken\nname: [unclosed\n"


def _missing_pg_database(_: Path) -> dict[str, str]:
    url = make_url(PG_ADMIN_URL).set(database=f"pmbot_missing_{uuid.uuid4().hex[:8]}")
    return {"DATABASE_URL": url.render_as_string(hide_password=False)}


def _broken_workflows(tmp: Path) -> dict[str, str]:
    folder = tmp / "workflows"
    folder.mkdir()
    (folder / "broken.yaml").write_text(BROKEN_YAML)
    return {"POSTMORTEM_WORKFLOWS_DIR": str(folder)}


def _latin1_workflow(tmp: Path) -> dict[str, str]:
    folder = tmp / "workflows"
    folder.mkdir()
    (folder / "latin1.yaml").write_bytes(b"key: latin1\nname: Caf\xe9 review\n")
    return {"POSTMORTEM_WORKFLOWS_DIR": str(folder)}


# (extra environment, the text the one line must name)
BAD: dict[str, tuple[Callable[[Path], dict[str, str]], str]] = {
    "every weeks abc": (
        lambda _: {"POSTMORTEM_MEETING_EVERY_WEEKS": "abc"},
        "POSTMORTEM_MEETING_EVERY_WEEKS",
    ),
    "every weeks 9": (
        lambda _: {"POSTMORTEM_MEETING_EVERY_WEEKS": "9"},
        "POSTMORTEM_MEETING_EVERY_WEEKS",
    ),
    "meeting time": (lambda _: {"POSTMORTEM_MEETING_TIME": "25:99"}, "POSTMORTEM_MEETING_TIME"),
    "several processes on SQLite": (lambda _: {"WEB_CONCURRENCY": "3"}, "WEB_CONCURRENCY"),
    "first meeting a Thursday": (
        lambda _: {"POSTMORTEM_FIRST_MEETING": "2026-12-03"},
        "POSTMORTEM_FIRST_MEETING",
    ),
    "digest channel name": (
        lambda _: {"POSTMORTEM_DIGEST_CHANNEL": "general"},
        "POSTMORTEM_DIGEST_CHANNEL",
    ),
    "templates dir": (
        lambda _: {"POSTMORTEM_TEMPLATES_DIR": "/nonexistent"},
        "POSTMORTEM_TEMPLATES_DIR",
    ),
    "webhook token": (lambda _: {"POSTMORTEM_WEBHOOK_TOKEN": "short"}, "POSTMORTEM_WEBHOOK_TOKEN"),
    "stale days": (
        lambda _: {"POSTMORTEM_SUPPORT_STALE_DAYS": "x"},
        "POSTMORTEM_SUPPORT_STALE_DAYS",
    ),
    "support channel name": (
        lambda _: {"POSTMORTEM_SUPPORT_CHANNEL": "support"},
        "POSTMORTEM_SUPPORT_CHANNEL",
    ),
    "broken workflow YAML": (_broken_workflows, "broken.yaml:3: invalid YAML"),
    "workflow file not UTF-8": (_latin1_workflow, "latin1.yaml:2: not UTF-8 text"),
    "sqlite folder missing": (
        lambda _: {"DATABASE_URL": "sqlite:////nonexistent/dir/x.db"},
        "DATABASE_URL",
    ),
    "closed port": (
        lambda _: {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/pm"},
        "DATABASE_URL",
    ),
    "missing postgres database": (_missing_pg_database, "DATABASE_URL"),
}


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def base_env(slack: FakeSlack, tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POSTMORTEM_", "SLACK_", "DATABASE_URL", "PORT"))
    }
    return {
        **env,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def postmortem_bot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,  # noqa: S603
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


@pytest.mark.parametrize("case", BAD)
def test_serve_refuses_a_bad_setting_in_one_line(
    case: str, base_env: dict[str, str], tmp_path: Path, slack: FakeSlack
) -> None:
    extra, named = BAD[case]
    result = postmortem_bot(
        {**base_env, **extra(tmp_path)}, "serve", "--host", "127.0.0.1", "--port", free_port()
    )
    lines = _lines(result)
    assert result.returncode == 2, lines
    assert len(lines) == 1 and named in lines[0], lines
    assert "Traceback" not in result.stderr
    assert slack.bot_token not in lines[0] and slack.signing_secret not in lines[0]


@pytest.mark.parametrize("case", BAD)
def test_check_reports_a_bad_setting_in_one_line(
    case: str, base_env: dict[str, str], tmp_path: Path
) -> None:
    extra, named = BAD[case]
    result = postmortem_bot({**base_env, **extra(tmp_path)}, "check")
    lines = _lines(result)
    assert result.returncode == 2, lines
    failed = [line for line in lines if line.startswith("FAIL ")]
    assert len(failed) == 1 and named in failed[0], lines
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_port_out_of_range(base_env: dict[str, str]) -> None:
    result = postmortem_bot(base_env, "serve", "--port", "99999")
    assert result.returncode == 2
    assert _lines(result) == ["Error: --port (PORT): 99999 is not a port number from 1 to 65535"]


def test_check_passes_on_a_working_setup_and_names_a_refused_token(
    base_env: dict[str, str], tmp_path: Path
) -> None:
    result = postmortem_bot(base_env, "check")
    assert (result.returncode, _lines(result)) == (
        0,
        [
            "ok settings",
            "ok workflows: 3 definitions",
            f"ok database: sqlite:///{tmp_path / 'bot.db'}: no file yet; `serve` creates it",
            "ok slack: team Fake Workspace (T0TEST) as @postmortem-bot",
        ],
    ), result.stderr
    assert not (tmp_path / "bot.db").exists()  # a check creates nothing
    engine = db.make_engine(base_env["DATABASE_URL"])
    db.upgrade(engine)
    engine.dispose()
    wrong = postmortem_bot({**base_env, "SLACK_BOT_TOKEN": "xoxb-revoked-0"}, "check")
    assert wrong.returncode == 2
    assert _lines(wrong)[2:] == [
        f"ok database: sqlite:///{tmp_path / 'bot.db'} at revision "
        f"{', '.join(sorted(db.head_revisions(engine)))} (current)",
        "FAIL slack: invalid_auth",
    ]
    assert "xoxb-revoked-0" not in wrong.stdout + wrong.stderr


def test_check_fails_on_a_postgresql_database_behind_the_code(base_env: dict[str, str]) -> None:
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    name = f"pmbot_check_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
        env = {**base_env, "DATABASE_URL": url.render_as_string(hide_password=False)}
        shown = url.render_as_string(hide_password=True)
        heads = ", ".join(sorted(db.head_revisions(db.make_engine(env["DATABASE_URL"]))))
        result = postmortem_bot(env, "check")
        assert result.returncode == 2
        assert [line for line in _lines(result) if line.startswith("FAIL")] == [
            f"FAIL database: {shown} is at revision empty, not the newest ({heads}): "
            "run `postmortem-bot db upgrade`"
        ]
        serve = postmortem_bot(env, "serve", "--host", "127.0.0.1", "--port", free_port())
        assert (serve.returncode, _lines(serve)) == (
            2,
            [
                f"Error: DATABASE_URL: the schema of {shown} is not current: "
                "run `postmortem-bot db upgrade`"
            ],
        )
        assert postmortem_bot(env, "db", "upgrade").returncode == 0
        assert postmortem_bot(env, "check").returncode == 0
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

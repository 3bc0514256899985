"""The operator's command line: one clear line on errors, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import main
from workflows.loader import BUILTIN_DIR


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in (
        "DATABASE_URL",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "POSTMORTEM_WORKFLOWS_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_workflows_validate_passes_on_the_shipped_definitions(runner: CliRunner) -> None:
    result = runner.invoke(main, ["workflows", "validate"])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok  ") == 3


def test_workflows_validate_names_file_and_line(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "campaign_postmortem.yaml"
    broken.write_text(
        (BUILTIN_DIR / "campaign_postmortem.yaml")
        .read_text()
        .replace("type: money", "type: monee", 1)
    )
    result = runner.invoke(main, ["workflows", "validate", str(broken)])
    assert result.exit_code == 1
    line = next(n for n, text in enumerate(broken.read_text().splitlines(), 1) if "monee" in text)
    assert f"{broken}:{line}: stages.0.fields.5.type: Input should be" in result.output
    assert "Traceback" not in result.output


def test_workflows_list(runner: CliRunner) -> None:
    result = runner.invoke(main, ["workflows", "list"])
    assert result.exit_code == 0
    assert "support_postmortem  v1  Support ticket post-mortem: Ticket details →" in result.output


def test_db_upgrade_creates_the_default_sqlite_file(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(main, ["db", "current"]).output.startswith("empty (behind")
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "postmortem.db").exists()
    assert "(up to date)" in runner.invoke(main, ["db", "current"]).output


def test_db_upgrade_on_postgresql(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url.replace("postgresql+psycopg", "postgres"))
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output


def test_bad_database_url_is_one_line(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://x@localhost/db")
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2  # a setting to fix, as `serve`
    assert result.output.strip() == (
        "Error: DATABASE_URL uses 'mysql': use sqlite:/// or postgresql://"
    )


def test_serve_without_a_token_names_the_variable(runner: CliRunner) -> None:
    result = runner.invoke(main, ["serve"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: SLACK_BOT_TOKEN is not set: copy it from your Slack app's settings"
    ]


def test_help_everywhere(runner: CliRunner) -> None:
    for args in ([], ["db"], ["workflows"], ["serve"], ["check"], ["db", "upgrade"]):
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output

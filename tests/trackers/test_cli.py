"""`postmortem-bot trackers …`: the operator's commands."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select
from trackers.fakes.github import FakeGitHub

from bot.cli.main import main
from sandbox.fake_slack import FakeSlack
from storage.db import session_factory
from storage.models import Workspace


def env(slack: FakeSlack, engine: Engine, monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    for key, value in {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        **extra,
    }.items():
        monkeypatch.setenv(key, value)


def test_github_logins_are_mapped_in_the_bots_workspace(
    slack: FakeSlack, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    github = FakeGitHub().start()
    env(slack, engine, monkeypatch, **github.env())
    github.stop()  # these commands never call GitHub
    runner = CliRunner()
    assert runner.invoke(main, ["trackers", "github-login", "U0BOB", "bob-gh"]).output == (
        "U0BOB: bob-gh\n"
    )
    assert runner.invoke(main, ["trackers", "github-login", "U0ALICE", "alice-gh"]).exit_code == 0
    assert runner.invoke(main, ["trackers", "github-login", "U0ALICE", "--remove"]).exit_code == 0
    bad = runner.invoke(main, ["trackers", "github-login", "bob", "bob-gh"])
    assert bad.exit_code == 1 and "'bob' is not a Slack user id (U…)" in bad.output
    with session_factory(engine)() as session:
        [ws] = session.scalars(select(Workspace)).all()
    assert ws.settings["trackers"] == {"github_logins": {"U0BOB": "bob-gh"}}


def test_sync_without_a_tracker_says_how_to_set_one_up(
    slack: FakeSlack, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    env(slack, engine, monkeypatch)
    result = CliRunner().invoke(main, ["trackers", "sync"])
    assert result.exit_code == 1
    assert "no tracker is configured: set POSTMORTEM_TRACKER" in result.output

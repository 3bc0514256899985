"""A workspace leaves cleanly, its data can be exported or deleted on request, and its webhook
token reaches only it; an Enterprise Grid org-wide install serves each of its workspaces."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from click.testing import CliRunner
from helpers.oauth import (
    ALICE,
    CHANNEL_ONE,
    CHANNEL_TWO,
    CLIENT_ID,
    DANA,
    ONE,
    TWO,
    command,
    install,
    start_review,
)
from helpers.ticket_hooks import event, post
from sqlalchemy import Engine, select

from bot.cli.main import main
from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot
from storage import outbox, workspace_data
from storage.db import team_session_factory, transaction
from storage.installations import bots
from storage.models import Review, Workspace
from storage.types import utcnow


def _installed_two(slack: FakeSlack, oauth_bot: Callable[..., Bot]) -> Bot:
    bot = oauth_bot()
    install(slack, bot, ONE, ALICE)
    with slack.in_team(TWO):
        install(slack, bot, TWO, DANA)
    start_review(slack, ALICE, CHANNEL_ONE, "Black Friday email went out twice")
    with slack.in_team(TWO):
        start_review(slack, DANA, CHANNEL_TWO, "Click and collect lockers jammed")
    bot.settle()
    return bot


def test_uninstall_fails_the_workspaces_pending_effects_and_sends_nothing_there(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot = _installed_two(slack, oauth_bot)
    bot.rt.delivery_due.clear()
    with transaction(team_session_factory(bot.rt.engine, ONE)) as session:
        review = session.scalars(select(Review)).one()
        # Due in an hour: still pending when the workspace leaves.
        effect = outbox.enqueue(
            session,
            "reviews.status",
            {"review_id": review.id},
            now=utcnow() + timedelta(hours=1),
        )
        session.flush()
        effect_id = effect.id
    assert slack.event({"type": "app_uninstalled"}).status == 200

    def status() -> tuple[str, str | None]:
        with bot.rt.sessions() as session:
            row = session.get(outbox.Effect, effect_id)
            assert row is not None
            return row.status, row.last_error

    slack.wait_for(lambda: status()[0] == "failed")
    assert "uninstalled" in str(status()[1])
    slack.reset_calls()
    with pytest.raises(Exception, match="not installed"):
        bot.rt.for_team(ONE)
    with slack.in_team(TWO):  # the other workspace is untouched
        assert "Click and collect" in command(slack, DANA, CHANNEL_TWO, "list")
    assert all(c.params.get("channel") != CHANNEL_ONE for c in slack.calls)


def test_a_revoked_bot_token_ends_the_install_too(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot = _installed_two(slack, oauth_bot)
    with slack.in_team(TWO):
        reply = slack.event({"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}})
    assert reply.status == 200

    def teams() -> list[str]:
        with bot.rt.sessions() as session:
            return sorted(session.scalars(select(bots.c.team_id)))

    slack.wait_for(lambda: teams() == [ONE])


def test_each_workspace_has_its_own_webhook_token(
    slack: FakeSlack,
    oauth_bot: Callable[..., Bot],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = _installed_two(slack, oauth_bot)
    token_one = "one-" + "x" * 30
    workspace_data.set_webhook_token(bot.rt.engine, ONE, token_one)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    made = CliRunner().invoke(main, ["workspace", "webhook-token", TWO])
    assert made.exit_code == 0, made.output
    token_two = made.output.strip()
    assert len(token_two) >= 40
    assert token_two not in str(workspace_data.export(engine, TWO))  # only its hash is kept

    refused = post(bot, "/hooks/tickets", event(owner="dana@example.com"), token="z" * 40)
    assert refused.status == 401
    # Dana is not a person of workspace one: its token cannot reach her.
    foreign = post(bot, "/hooks/tickets", event(owner="dana@example.com"), token=token_one)
    assert foreign.status == 400 and foreign.body["field"] == "owner"
    slack.reset_calls()  # the lookup that found no Dana was the point
    accepted = post(bot, "/hooks/tickets", event(owner="dana@example.com"), token=token_two)
    assert accepted.status == 200 and accepted.body["created"], accepted
    with bot.rt.sessions() as session:
        team = session.scalar(
            select(Workspace.team_id)
            .join(Review, Review.workspace_id == Workspace.id)
            .where(Review.id == accepted.body["review"])
        )
    assert team == TWO


def test_workspace_export_and_delete_from_the_command_line(
    slack: FakeSlack,
    oauth_bot: Callable[..., Bot],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _installed_two(slack, oauth_bot)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    exported = runner.invoke(main, ["workspace", "export", ONE])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    assert [r["title"] for r in data["tables"]["reviews"]] == ["Black Friday email went out twice"]
    assert "Click and collect" not in exported.output
    assert "xoxb-" not in exported.output  # tokens never leave
    assert [b["team_id"] for b in data["tables"]["slack_bots"]] == [ONE]

    refused = runner.invoke(main, ["workspace", "delete", ONE])
    assert refused.exit_code == 1 and "--yes" in refused.output
    assert workspace_data.exists(engine, ONE)
    deleted = runner.invoke(main, ["workspace", "delete", ONE, "--yes"])
    assert deleted.exit_code == 0, deleted.output
    assert not workspace_data.exists(engine, ONE)
    assert runner.invoke(main, ["workspace", "export", ONE]).exit_code == 1
    with slack.in_team(TWO):
        assert "Click and collect" in command(slack, DANA, CHANNEL_TWO, "list")


def test_an_org_wide_install_serves_each_workspace_of_the_org_apart(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    slack.add_workspace("T0EAST", "East", enterprise_id="E0ORG")
    slack.add_workspace("T0WEST", "West", enterprise_id="E0ORG")
    people = {"T0EAST": ("U0EVE", "C0EAST"), "T0WEST": ("U0WES", "C0WEST")}
    for team, (user, channel) in people.items():
        with slack.in_team(team):
            slack.add_user(user, user.lower(), user)
            slack.add_channel(channel, channel.lower())
    bot = oauth_bot()
    install(slack, bot, None, "U0EVE", org="E0ORG")
    with bot.rt.sessions() as session:
        stored = session.execute(select(bots.c.team_id, bots.c.is_enterprise_install)).all()
    assert stored == [(None, True)]
    for team, (user, channel) in people.items():
        with slack.in_team(team):
            start_review(slack, user, channel, f"Review of {team}")
    bot.settle()
    with bot.rt.sessions() as session:
        rows = session.execute(
            select(Workspace.team_id, Workspace.enterprise_id, Review.title).join(
                Review, Review.workspace_id == Workspace.id
            )
        ).all()
    assert sorted(rows) == [
        ("T0EAST", "E0ORG", "Review of T0EAST"),
        ("T0WEST", "E0ORG", "Review of T0WEST"),
    ]
    for team, (user, channel) in people.items():
        with slack.in_team(team):
            shown = command(slack, user, channel, "list")
        other = "T0WEST" if team == "T0EAST" else "T0EAST"
        assert f"Review of {team}" in shown and f"Review of {other}" not in shown
    # Jobs visit each workspace of the org with the org's token.
    assert sorted(rt.team or "" for rt in bot.rt.each_team()) == ["T0EAST", "T0WEST"]


def test_the_reminder_sweep_command_visits_each_installed_workspace(
    slack: FakeSlack,
    oauth_bot: Callable[..., Bot],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _installed_two(slack, oauth_bot)
    env = {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": "unused-here",
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    swept = CliRunner().invoke(main, ["remind"])
    assert swept.exit_code == 0, swept.output
    assert len(swept.output.strip().splitlines()) == 2  # one line per workspace
    monkeypatch.setenv("POSTMORTEM_TEAM_ID", "T0GONE")
    refused = CliRunner().invoke(main, ["remind"])
    assert refused.exit_code == 2 and "not installed in workspace T0GONE" in refused.output

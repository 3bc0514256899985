"""`/postmortem tracker` in two workspaces: each admin sees and changes only their own
workspace's tracker settings (Workspace.settings, read through the workspace's scoped session)."""

from __future__ import annotations

from collections.abc import Callable

from helpers.oauth import ALICE, CHANNEL_ONE, CHANNEL_TWO, DANA, ONE, TWO, install
from sqlalchemy import select

from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot
from storage import trackers as tracker_store
from storage.models import Workspace


def _save(slack: FakeSlack, user: str, channel: str, repo: str, token: str) -> dict:
    """The admin opens the modal, which shows the workspace's settings, and saves a repo."""
    assert slack.slash_command(user, channel, "/postmortem", "tracker").status == 200
    shown = slack.wait_for(lambda: slack.top_view(user))
    values = {"tracker": {"v": "github"}, "target": {"v": repo}, "token": {"v": token}}
    reply = slack.submit(user, shown["id"], values)
    assert reply.status == 200 and "Saved" in str(reply.body), reply.body
    return shown


def test_each_admin_sees_and_changes_only_their_workspaces_tracker(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot = oauth_bot(POSTMORTEM_ADMINS=f"{ALICE},{DANA}")
    install(slack, bot, ONE, ALICE)
    with slack.in_team(TWO):
        install(slack, bot, TWO, DANA)
    _save(slack, ALICE, CHANNEL_ONE, "acme/black-friday", "ghp_onesecrettoken0001")
    with slack.in_team(TWO):
        shown_two = _save(slack, DANA, CHANNEL_TWO, "acme/lockers", "ghp_twosecrettoken0002")
    assert "acme/black-friday" not in str(shown_two)
    assert "Currently: GitHub" not in str(shown_two)
    with bot.rt.sessions() as session:
        saved = dict(session.execute(select(Workspace.team_id, Workspace.settings)).all())
    for team, repo, token in (
        (ONE, "acme/black-friday", "ghp_onesecrettoken0001"),
        (TWO, "acme/lockers", "ghp_twosecrettoken0002"),
    ):
        choice = tracker_store.saved_choice(saved[team]) or {}
        assert repo in str(choice), saved[team]
        assert tracker_store.saved_token(saved[team], "github") == token
    # Alice's modal still shows her own repository, never the other workspace's.
    saved_view = (slack.top_view(ALICE) or {}).get("id")  # her "Saved" modal, still open
    slack.slash_command(ALICE, CHANNEL_ONE, "/postmortem", "tracker")
    # The new modal opens after the command's ack: wait for it, not the one already there.
    shown_one = slack.wait_for(
        lambda: (view := slack.top_view(ALICE)) is not None and view["id"] != saved_view and view
    )
    assert "acme/black-friday" in str(shown_one) and "acme/lockers" not in str(shown_one)
    assert "Currently: GitHub" in str(shown_one)

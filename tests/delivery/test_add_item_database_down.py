"""Adding an action item while the database cannot save: the form says so and keeps the input.

Alice adds an item from the review's message. The database is unreachable when she presses
Add: the answer is an error under the title in her form (never Slack's "trouble connecting"),
the form stays open with what she typed, and nothing is promised to Bob. Once the database is
back, pressing Add again saves the item, and Bob is told once.
"""

from __future__ import annotations

import pytest
from helpers.slack_walk import ALICE, BOB, CHANNEL, start
from sqlalchemy import create_engine, select

from bot.action_items.listeners import ADD_FAILED
from sandbox.fake_slack import FakeSlack
from storage.db import session_factory, transaction
from storage.models import ActionItem


def test_adding_an_item_while_the_database_is_down_keeps_the_form_and_says_so(
    slack: FakeSlack, bot, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    message = start(slack, "campaign Black Friday email")
    bot.settle()
    review_button = next(
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == "item_add"
    )
    slack.click(
        ALICE, "item_add", review_button["value"], channel_id=CHANNEL, message_ts=message["ts"]
    )
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    typed = {
        "title": {"v": "Publish refund times"},
        "owner": {"v": BOB},
        "due": {"v": "2026-12-18"},
    }
    working = bot.rt.sessions
    gone = create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")  # cannot even be opened
    monkeypatch.setattr(bot.rt, "sessions", session_factory(gone))

    reply = slack.submit(ALICE, form["id"], typed)

    assert reply.status == 200 and reply.problems == []  # not Slack's generic error
    assert reply.errors == {"title": ADD_FAILED}
    still = slack.top_view(ALICE)
    assert still is not None and still["id"] == form["id"]  # the form is still open...
    kept = still["state"]["values"]
    assert kept["title"]["v"]["value"] == "Publish refund times"  # ...with what she typed
    assert kept["owner"]["v"]["selected_user"] == BOB

    monkeypatch.setattr(bot.rt, "sessions", working)  # the database is back
    reply = slack.submit(ALICE, form["id"], {})
    assert reply.ok and not reply.errors
    slack.wait_for(lambda: slack.dms(BOB))
    bot.settle()
    [told] = slack.dms(BOB)  # once
    assert "Publish refund times" in told["text"]
    with transaction(bot.rt.sessions) as session:
        assert session.scalars(select(ActionItem.title)).all() == ["Publish refund times"]
    slack.reset_calls()

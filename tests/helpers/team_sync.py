"""Using async team sync as a participant would, through the fake Slack (tests/e2e)."""

from __future__ import annotations

from helpers.slack_walk import CHANNEL, status_message
from sandbox.fake_slack import FakeSlack


def add_item(slack: FakeSlack, user: str, column: str, text: str) -> None:
    view = slack.wait_for(
        lambda: (v := slack.top_view(user)) and v["callback_id"] == "team_sync_item" and v
    )
    reply = slack.submit(user, view["id"], {"column": {"v": column}, "text": {"v": text}})
    assert reply.ok and not reply.errors, (reply.errors, reply.body)
    slack.wait_for(lambda: (v := slack.top_view(user)) and v["title"]["text"] == "Added")
    slack.close(user, slack.top_view(user)["id"])


def items_in_thread(slack: FakeSlack) -> dict[str, dict]:
    """The thread's team sync items by their text (the item's message, as last updated)."""
    parent = status_message(slack)
    return {
        m["blocks"][0]["text"]["text"].split("\n", 1)[1]: m
        for m in slack.thread(CHANNEL, parent["ts"])[1:]
        if (m.get("metadata") or {}).get("event_type") == "team_sync_item"
    }


def plus_one(slack: FakeSlack, user: str, message: dict) -> None:
    button = message["blocks"][-1]["elements"][0]
    reply = slack.click(
        user, "team_sync_vote", button["value"], channel_id=CHANNEL, message_ts=message["ts"]
    )
    assert reply.ok, reply

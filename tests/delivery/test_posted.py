"""Finding a message the bot may already have posted (bot/slack/posted.py), in a busy
conversation: the kill -9 test posted a status message twice when 60 tickets' messages in one
owner's DM had pushed the first one past the first page of history."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.slack import posted
from sandbox.fake_slack import FakeSlack


def test_a_message_behind_more_than_a_page_of_newer_ones_is_found() -> None:
    with FakeSlack() as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        first = client.chat_postMessage(
            channel="U0ALICE",
            text="Ticket T-1",
            metadata=posted.metadata("postmortem_review", review_id=1),
        )
        for n in range(450):  # the other tickets' status messages and Start DMs
            client.chat_postMessage(channel="U0ALICE", text=f"Ticket T-{n + 2}")
        dm = str(first["channel"])
        assert posted.find(client, dm, "postmortem_review", review_id=1) == first["ts"]
        assert posted.find(client, dm, "postmortem_review", review_id=2) is None
        since = float(first["ts"]) + 0.000001  # told where to stop: it does not look further
        assert posted.find(client, dm, "postmortem_review", oldest=since, review_id=1) is None

"""The fake's posting limits: one message a second per channel, a workspace budget a minute."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.fake_slack import FakeSlack


def refused(client: WebClient, channel: str) -> str | None:
    """The Retry-After of a refused post, or None when the message was posted."""
    try:
        client.chat_postMessage(channel=channel, text="hello")
    except SlackApiError as exc:
        assert exc.response.status_code == 429
        assert exc.response["error"] == "ratelimited"
        return str(exc.response.headers["Retry-After"])
    return None


def test_without_limits_a_burst_to_one_channel_is_posted(
    slack: FakeSlack, client: WebClient
) -> None:
    assert [refused(client, "C0REVIEWS") for _ in range(5)] == [None] * 5


def test_a_second_message_within_a_second_to_one_channel_is_refused_not_posted(
    slack: FakeSlack, client: WebClient, clock
) -> None:
    slack.limit_posting(per_channel=1.0)
    assert refused(client, "U0ALICE") is None
    assert refused(client, "C0REVIEWS") is None  # another channel is not held up
    clock.advance(0.4)
    assert refused(client, "U0ALICE") == "1"
    assert len(slack.dms("U0ALICE")) == 1
    clock.advance(0.6)
    assert refused(client, "U0ALICE") is None
    assert len(slack.dms("U0ALICE")) == 2
    assert slack.posting_limits is not None and slack.posting_limits.refused == 1


def test_the_workspace_budget_refuses_until_the_oldest_message_is_a_minute_old(
    slack: FakeSlack, client: WebClient, clock
) -> None:
    slack.limit_posting(per_channel=0, per_minute=3)
    for channel in ("U0ALICE", "U0BOB", "C0REVIEWS"):
        assert refused(client, channel) is None
        clock.advance(10)
    assert refused(client, "U0ADMIN") == "30"  # the first went out 30 s ago
    clock.advance(30)
    assert refused(client, "U0ADMIN") is None
    assert refused(client, "U0ADMIN") == "10"
    assert [len(slack.dms(u)) for u in ("U0ALICE", "U0BOB", "U0ADMIN")] == [1, 1, 1]


@pytest.mark.parametrize("method", ["chat.update", "users.info"])
def test_only_posting_is_limited(slack: FakeSlack, client: WebClient, method: str) -> None:
    slack.limit_posting(per_channel=1.0, per_minute=1)
    posted = client.chat_postMessage(channel="C0REVIEWS", text="hello")
    for _ in range(3):
        if method == "chat.update":
            client.chat_update(channel=posted["channel"], ts=posted["ts"], text="again")
        else:
            client.users_info(user="U0ALICE")

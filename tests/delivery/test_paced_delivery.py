"""The outbox delivers through the paced sender: effects naming a channel take turns in it, and
Slack's 429s are waited out inside the pass instead of failing the effect."""

from __future__ import annotations

import threading
from collections import Counter
from unittest.mock import MagicMock

from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.delivery.service import deliver_due
from bot.runtime import Runtime
from storage import outbox
from storage.db import transaction
from storage.outbox import Claimed
from storage.types import utcnow


def enqueue(rt: Runtime, payloads: list[dict]) -> None:
    with transaction(rt.sessions) as session:
        for payload in payloads:
            outbox.enqueue(session, "test.post", payload)


def test_effects_naming_one_channel_never_run_at_once_while_other_channels_go_alongside(
    rt: Runtime,
) -> None:
    lock = threading.Lock()
    inside: Counter[str] = Counter()
    most: Counter[str] = Counter()
    both = threading.Barrier(2, timeout=10)  # Alice's first and Bob's first run together
    first = {"DALICE": True, "DBOB": True}

    def post(runtime: Runtime, effect: Claimed) -> None:
        channel = effect.payload["channel"]
        with lock:
            inside[channel] += 1
            most[channel] = max(most[channel], inside[channel])
            meet, first[channel] = first[channel], False
        if meet:
            both.wait()
        for _ in range(2000):
            pass
        with lock:
            inside[channel] -= 1

    enqueue(rt, [{"channel": "DALICE" if n % 2 else "DBOB", "n": n} for n in range(16)])
    result = deliver_due(rt, {"test.post": post}, utcnow(), concurrency=8)
    assert str(result) == "delivered 16, retrying 0, failed 0"
    assert most == {"DALICE": 1, "DBOB": 1}


def test_a_429_during_delivery_is_waited_out_and_the_message_posted_once(
    rt: Runtime, client: MagicMock
) -> None:
    refused = SlackApiError(
        "ratelimited",
        SlackResponse(
            client=None,
            http_verb="POST",
            api_url="",
            req_args={},
            data={"ok": False, "error": "ratelimited"},
            headers={"Retry-After": "0"},
            status_code=429,
        ),
    )
    client.chat_postMessage.side_effect = [refused, {"ok": True, "ts": "1.0"}]

    def post(runtime: Runtime, effect: Claimed) -> None:
        runtime.client.chat_postMessage(channel=effect.payload["channel"], text="hello")

    enqueue(rt, [{"channel": "DALICE"}])
    result = deliver_due(rt, {"test.post": post}, utcnow())
    assert str(result) == "delivered 1, retrying 0, failed 0"
    assert client.chat_postMessage.call_count == 2  # refused once, then posted
    assert rt.sender.pace.workspace_limited == 1

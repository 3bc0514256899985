"""A consumer guarantees assessment while Slack fails: recorded at once, posted once later.

Alice assesses the faulty kettle from the review's message. Slack answers 500 to every
chat.postMessage when she submits: the assessment is recorded on the review, and its reply in
the review's thread waits in the outbox; once Slack recovers it is posted, once. A worker that
dies just after Slack accepted the reply does not post it twice either.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers.crash import crash_after_posting, event_type
from helpers.delivered import Received
from helpers.slack_walk import ALICE, CHANNEL, choose, start
from sqlalchemy import select

from bot.app import effect_handlers
from bot.consumer_law.service import RESULT_EFFECT, RESULT_EVENT
from bot.delivery.service import deliver_due
from sandbox.fake_slack import FakeSlack
from storage import outbox
from storage.db import transaction
from storage.models import FollowUp
from storage.types import utcnow

CRASH = "the worker was killed after Slack accepted the message"
KETTLE = {
    "kind": {"v": "goods"},
    "price": {"v": "249.00"},
    "purchased": {"v": "2026-10-01"},
    "personal": {"v": "yes"},
    "guarantees": {"v": ["acceptable_quality"]},
    "major": {"v": ["goods:unsafe"]},
}


def _pending(bot) -> list[str | None]:
    with transaction(bot.rt.sessions) as session:
        return list(
            session.scalars(
                select(outbox.Effect.last_error).where(
                    outbox.Effect.status == outbox.PENDING, outbox.Effect.kind == RESULT_EFFECT
                )
            )
        )


def _assessments(bot) -> int:
    with transaction(bot.rt.sessions) as session:
        return len(session.scalars(select(FollowUp).where(FollowUp.kind == "acl_assessment")).all())


def _assess(slack: FakeSlack, bot) -> dict:
    message = start(slack, "support Kettle handle broke")
    bot.settle()
    choose(slack, ALICE, "acl_open", message)
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    return {"message": message, "form": form}


def _replies(slack: FakeSlack, ts: str) -> list[dict]:
    return [
        m
        for m in slack.thread(CHANNEL, ts)
        if "*Consumer guarantees assessment*" in str(m.get("blocks"))
    ]


def test_an_assessment_during_a_posting_outage_is_kept_and_posted_once_later(
    slack: FakeSlack, bot
) -> None:
    opened = _assess(slack, bot)
    slack.fail("chat.postMessage", "internal_error", times=1000, status=500)

    reply = slack.submit(ALICE, opened["form"]["id"], KETTLE)

    assert reply.ok and not reply.errors
    slack.wait_for(lambda: _assessments(bot) == 1)
    slack.wait_for(lambda: _pending(bot) == ["Slack: internal_error"], timeout=20)
    assert _replies(slack, opened["message"]["ts"]) == []

    slack.clear_faults()
    deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=1))

    assert _pending(bot) == []
    [posted] = _replies(slack, opened["message"]["ts"])
    assert "major" in str(posted["blocks"]).lower()
    slack.reset_calls()  # the refused calls were the point of this test


def test_an_assessment_posted_just_before_a_crash_is_not_posted_twice(
    slack: FakeSlack, bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = _assess(slack, bot)
    crashed = crash_after_posting(
        monkeypatch, bot.rt, when=lambda kwargs: event_type(kwargs) == RESULT_EVENT
    )

    reply = slack.submit(ALICE, opened["form"]["id"], KETTLE)

    assert reply.ok and not reply.errors
    slack.wait_for(lambda: len(crashed) == 1)
    slack.wait_for(lambda: _pending(bot) == ["ConnectionError: " + CRASH])  # retry recorded
    for hours in (1, 2, 3):  # the worker that crashed is gone: its effect is retried
        deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=hours))
    assert _pending(bot) == []
    assert len(_replies(slack, opened["message"]["ts"])) == 1
    assert Received(slack).duplicates() == {}

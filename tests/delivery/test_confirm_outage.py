"""Confirming the improvements while Slack fails: kept at once, the question redrawn later.

Bob's item is done, so Alice is asked to confirm the improvements. Slack then answers 500 to
every chat.update and Alice clicks "Yes, improvements implemented": the confirmation is saved
at once; the question's redraw waits in the outbox and, once Slack recovers, shows who
confirmed, in the one question Alice was sent.
"""

from __future__ import annotations

from datetime import timedelta

from helpers.action_items import ALICE, BOB, DUE, dm_channel, make_items
from sqlalchemy import select

from bot.action_items import service as reminders
from bot.app import effect_handlers
from bot.delivery.service import deliver_due
from sandbox.fake_slack import FakeSlack
from storage import outbox
from storage.db import transaction
from storage.models import ActionItem
from storage.types import utcnow


def _pending(bot, kind: str) -> list[str | None]:
    with transaction(bot.rt.sessions) as session:
        return list(
            session.scalars(
                select(outbox.Effect.last_error).where(
                    outbox.Effect.status == outbox.PENDING, outbox.Effect.kind == kind
                )
            )
        )


def _confirmed_by(bot, item_id: int) -> str | None:
    with transaction(bot.rt.sessions) as session:
        return session.get(ActionItem, item_id).review.improvements_confirmed_by


def test_confirming_during_a_chat_update_outage_is_kept_and_the_question_follows(
    slack: FakeSlack, bot
) -> None:
    [item_id] = make_items(
        bot, [{"title": "Fix the promo code check", "owner": BOB, "due_date": DUE}], owner=ALICE
    )
    bot.settle()
    card = slack.dms(BOB)[0]
    slack.click(
        BOB, "item_done", str(item_id), channel_id=dm_channel(slack, BOB), message_ts=card["ts"]
    )
    ask = slack.wait_for(
        lambda: next(
            (m for m in slack.dms(ALICE) if "Yes, improvements implemented" in str(m["blocks"])),
            None,
        )
    )
    bot.settle()

    slack.fail("chat.update", "internal_error", times=1000, status=500)
    reply = slack.click(
        ALICE,
        "improvements_confirm",
        ask["blocks"][1]["elements"][0]["value"],
        channel_id=dm_channel(slack, ALICE),
        message_ts=ask["ts"],
    )

    assert reply.status == 200
    slack.wait_for(lambda: _confirmed_by(bot, item_id) == ALICE)
    slack.wait_for(
        lambda: _pending(bot, reminders.CONFIRMED_EFFECT) == ["Slack: internal_error"], timeout=20
    )
    question = slack.message(dm_channel(slack, ALICE), ask["ts"])
    assert "confirmed the improvements" not in str(question["blocks"])  # stale for now

    slack.clear_faults()
    deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=1))

    assert _pending(bot, reminders.CONFIRMED_EFFECT) == []
    question = slack.message(dm_channel(slack, ALICE), ask["ts"])
    assert "confirmed the improvements" in str(question["blocks"])
    asks = [m for m in slack.dms(ALICE) if "improvements" in str(m["blocks"])]
    assert len(asks) == 1  # redrawn in place, not posted again
    slack.reset_calls()  # the refused calls were the point of this test

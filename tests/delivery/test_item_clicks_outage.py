"""An action item's buttons while Slack fails: the change is kept, its messages follow later.

Bob's item in Alice's review is blocked (Alice was told). Slack then answers 500 to every
chat.update and chat.postMessage, and Bob clicks Done on his card: the item is done at once
(the click never waits on Slack). When Slack recovers, the outbox brings every message the
change implies to the item's true state: Bob's card, Alice's blocked notice, the review's
status message, and the one question asking Alice to confirm the improvements, none twice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers.action_items import ALICE, BOB, DUE, buttons, dm_channel, make_items, status_of
from helpers.crash import crash_after_posting
from helpers.delivered import Received, status_problem
from sqlalchemy import func, select

from bot.action_items import service as reminders
from bot.app import effect_handlers
from bot.delivery.service import deliver_due
from sandbox.fake_slack import FakeSlack
from storage import outbox
from storage.db import transaction
from storage.models import ActionItem
from storage.nudges import Nudge
from storage.types import utcnow


def _pending(bot) -> list[tuple[str, str | None]]:
    with transaction(bot.rt.sessions) as session:
        return [
            (e.kind, e.last_error)
            for e in session.scalars(
                select(outbox.Effect)
                .where(outbox.Effect.status == outbox.PENDING)
                .order_by(outbox.Effect.id)
            )
        ]


def test_done_during_a_slack_outage_completes_the_item_and_its_messages_converge(
    slack: FakeSlack, bot
) -> None:
    [item_id] = make_items(
        bot, [{"title": "Fix the promo code check", "owner": BOB, "due_date": DUE}], owner=ALICE
    )
    card = slack.dms(BOB)[0]
    where = {"channel_id": dm_channel(slack, BOB), "message_ts": card["ts"]}
    slack.click(BOB, "item_status", str(item_id), **where)
    view = slack.wait_for(lambda: slack.top_view(BOB))
    reply = slack.submit(BOB, view["id"], {"status": {"v": "blocked"}, "note": {"v": "Vendor"}})
    assert reply.ok and not reply.errors
    notice = slack.wait_for(lambda: slack.dms(ALICE))[-1]
    assert ":no_entry:" in str(notice["blocks"])
    bot.settle()

    slack.fail("chat.update", "internal_error", times=1000, status=500)
    slack.fail("chat.postMessage", "internal_error", times=1000, status=500)
    reply = slack.click(BOB, "item_done", str(item_id), **where)

    assert reply.status == 200  # acked: the click did not wait for Slack
    slack.wait_for(lambda: status_of(bot, item_id) == "done")
    with transaction(bot.rt.sessions) as session:
        assert session.get(ActionItem, item_id).next_nudge_at is None  # its reminders stop
    # Each message is waiting for its retry, with Slack's error; none was lost.
    kinds = {reminders.REDRAW_EFFECT, reminders.NOTICES_EFFECT, "reviews.status"}
    slack.wait_for(
        lambda: kinds <= {k for k, error in _pending(bot) if error == "Slack: internal_error"},
        timeout=20,
    )
    assert "Done. Thank you!" not in str(slack.dms(BOB)[0]["blocks"])  # stale for now

    slack.clear_faults()
    deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=1))
    deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=2))  # grouped ones next

    assert _pending(bot) == []
    card = slack.dms(BOB)[0]
    assert "Done. Thank you!" in str(card["blocks"]) and buttons(card) == ["item_open"]
    alices = slack.dms(ALICE)
    notice = next(m for m in alices if m["ts"] == notice["ts"])
    assert ":white_check_mark: An action item in your review" in str(notice["blocks"])
    assert buttons(notice) == ["item_open"]  # nothing left to nudge or reassign
    asks = [m for m in alices if "Yes, improvements implemented" in str(m["blocks"])]
    assert len(asks) == 1
    received = Received(slack)
    with transaction(bot.rt.sessions) as session:
        review = session.get(ActionItem, item_id).review
        assert status_problem(session, review, received) is None  # shows the review as it is
    assert received.duplicates() == {}
    slack.reset_calls()  # the refused calls were the point of this test


def _retry_until_done(bot) -> None:
    """The worker that crashed is gone; its effects are retried (after their backoff)."""
    for hours in (1, 2, 3):
        deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=hours))
    assert _pending(bot) == []


def test_notices_posted_just_before_a_crash_are_not_sent_twice(
    slack: FakeSlack, bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocked notice, the review owner's nudge, and the all-done question: each message
    Slack accepted before the worker died is found by its metadata, not posted again."""
    [item_id] = make_items(
        bot, [{"title": "Fix the promo code check", "owner": BOB, "due_date": DUE}], owner=ALICE
    )
    bot.settle()
    card = slack.dms(BOB)[0]
    where = {"channel_id": dm_channel(slack, BOB), "message_ts": card["ts"]}
    crashed = crash_after_posting(monkeypatch, bot.rt, times=3)

    slack.click(BOB, "item_status", str(item_id), **where)
    view = slack.wait_for(lambda: slack.top_view(BOB))
    reply = slack.submit(BOB, view["id"], {"status": {"v": "blocked"}, "note": {"v": "Vendor"}})
    assert reply.ok and not reply.errors
    slack.wait_for(lambda: len(crashed) == 1)
    notice = slack.dms(ALICE)[-1]
    slack.click(
        ALICE,
        "item_nudge",
        str(item_id),
        channel_id=dm_channel(slack, ALICE),
        message_ts=notice["ts"],
    )
    slack.wait_for(lambda: len(crashed) == 2)
    slack.click(BOB, "item_done", str(item_id), **where)
    slack.wait_for(lambda: len(crashed) == 3)
    _retry_until_done(bot)

    alices = slack.dms(ALICE)
    kinds = [(m.get("metadata") or {}).get("event_type") for m in alices]
    assert kinds.count(reminders.BLOCKED_EVENT) == 1
    assert kinds.count(reminders.IMPROVEMENTS_EVENT) == 1
    assert len([m for m in alices if "Yes, improvements implemented" in str(m["blocks"])]) == 1
    assert len([m for m in slack.dms(BOB) if "is asking about" in str(m["blocks"])]) == 1
    assert Received(slack).duplicates() == {}
    with transaction(bot.rt.sessions) as session:  # the blocked notice is kept, to follow
        assert (
            session.scalar(select(func.count()).select_from(Nudge).where(Nudge.kind == "blocked"))
            == 1
        )

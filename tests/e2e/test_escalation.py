"""The escalation to the review's owner: the right count, the blocker, and buttons to act.

Bob's item is due Fri 4 Dec 2026; he blocks it (with a note) and snoozes it to Tue 8 Dec. On Wed
9 Dec, three working days after the due date on Bob's (Perth) calendar, the review's owner
(Carol) is told, and can nudge Bob again, give the item to Alice, or open the review.
"""

from __future__ import annotations

from datetime import UTC, datetime

from helpers.action_items import (
    ADMIN,
    ALICE,
    BOB,
    DUE,
    at,
    buttons,
    dm_channel,
    make_items,
    status_of,
)

from bot.action_items import nudges
from bot.action_items import service as reminders
from sandbox.fake_slack import FakeSlack, problems
from storage.db import transaction
from storage.models import ActionItem

NOTE = "Waiting on <the vendor> & their API key"


def escalation(slack: FakeSlack) -> dict:
    return next(m for m in slack.dms(ADMIN) if m["text"].startswith("Overdue action item"))


def blocked_and_snoozed(bot) -> int:
    [item_id] = make_items(
        bot, [{"title": "Fix the promo code check", "owner": BOB, "due_date": DUE}]
    )
    reminders.update_item(bot.rt, item_id, BOB, status="blocked", status_note=NOTE)
    # Snoozed until Tue 8 Dec 09:00 in Perth.
    reminders.update_item(
        bot.rt, item_id, BOB, snoozed_until=datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    )
    # The updates' own deliveries (the owner's notices redrawn on today's clock) finish first:
    # one landing after the sweep's escalation would redraw it for 1 Dec, not the sweep's 9 Dec.
    bot.settle()
    return item_id


def test_the_escalation_counts_from_the_due_date_and_carries_the_blocker(
    slack: FakeSlack, bot
) -> None:
    blocked_and_snoozed(bot)
    assert nudges.sweep(bot.rt, at("2026-12-08T01:05:00+00:00")).sent == 1  # the snooze ends
    assert nudges.sweep(bot.rt, at("2026-12-09T01:05:00+00:00")).sent == 2  # overdue + escalation
    message = escalation(slack)
    assert problems("message", message) == []
    text = message["blocks"][0]["text"]["text"]
    assert "is 3 working days overdue" in text
    assert "-" not in text.split("working day")[0]
    assert "Waiting on &lt;the vendor&gt; &amp; their API key" in text
    assert "Owner: <@U0BOB>" in text and "Due: Fri 4 Dec" in text and "Status: Blocked" in text
    assert buttons(message) == ["item_nudge", "item_reassign", "item_open"]


def test_the_reviews_owner_nudges_then_reassigns_from_the_escalation(slack: FakeSlack, bot) -> None:
    item_id = blocked_and_snoozed(bot)
    nudges.sweep(bot.rt, at("2026-12-09T01:05:00+00:00"))
    message = escalation(slack)
    where = {"channel_id": dm_channel(slack, ADMIN), "message_ts": message["ts"]}
    bobs_card = slack.dms(BOB)[0]

    before = len(slack.dms(BOB))
    slack.click(ADMIN, "item_nudge", str(item_id), **where)
    slack.wait_for(lambda: len(slack.dms(BOB)) > before)
    asked = slack.dms(BOB)[-1]
    assert asked["blocks"][0]["text"]["text"].startswith(
        ":wave: <@U0ADMIN> is asking about *Fix the promo code check*"
    )
    assert f"p{bobs_card['ts'].replace('.', '')}" in str(asked["blocks"])  # links to the card
    assert buttons(asked) == []
    slack.wait_for(lambda: slack.ephemerals(ADMIN))
    assert slack.ephemerals(ADMIN)[-1]["text"] == (
        "Nudged <@U0BOB> about “Fix the promo code check”."
    )

    slack.click(ADMIN, "item_reassign", str(item_id), **where)
    modal = slack.wait_for(lambda: slack.top_view(ADMIN))
    assert modal["title"]["text"] == "Reassign action item"
    assert slack.submit(ADMIN, modal["id"], {"owner": {"v": BOB}}).errors == {
        "owner": "They already own it: choose someone else."
    }
    reply = slack.submit(ADMIN, modal["id"], {"owner": {"v": ALICE}})
    assert reply.ok and not reply.errors
    slack.wait_for(lambda: slack.dms(ALICE))
    assert slack.dms(ALICE)[0]["text"].startswith("Reassigned to you: Fix the promo code check")
    slack.wait_for(lambda: "Owner: <@U0ALICE>" in str(escalation(slack)["blocks"]))
    slack.wait_for(lambda: buttons(slack.dms(BOB)[0]) == [])  # Bob's card: now Alice's item
    with transaction(bot.rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        assert (item.owner_id, item.snoozed_until) == (ALICE, None)

    # Alice finishes it: the escalation says so, and its buttons are gone.
    alices = slack.dms(ALICE)[0]
    slack.click(
        ALICE,
        "item_done",
        str(item_id),
        channel_id=dm_channel(slack, ALICE),
        message_ts=alices["ts"],
    )
    slack.wait_for(lambda: "now done" in str(escalation(slack)["blocks"]))
    assert buttons(escalation(slack)) == ["item_open"]
    assert status_of(bot, item_id) == "done"

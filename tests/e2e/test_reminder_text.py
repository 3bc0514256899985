"""What a reminder says: when the item is due, and never a snooze that is over.

Bob's item is due Fri 11 Dec 2026; he snoozed it until Tue 8 Dec 09:00 (Perth). On 8 Dec he is
reminded; on Wed 9 Dec "coming up soon" says when it is due, and nothing says "Snoozed until".
"""

from __future__ import annotations

from datetime import UTC, datetime

from helpers.action_items import BOB, at, dm_channel, make_items

from bot.action_items import nudges
from bot.action_items import service as reminders
from sandbox.fake_slack import FakeSlack
from storage.db import transaction
from storage.models import ActionItem


def test_a_snooze_that_is_over_is_not_shown_and_coming_up_says_when(slack: FakeSlack, bot) -> None:
    [item_id] = make_items(
        bot, [{"title": "Fix the promo code check", "owner": BOB, "due_date": "2026-12-11"}]
    )
    card = slack.dms(BOB)[0]
    reminders.update_item(  # as a click on the card does
        bot.rt,
        item_id,
        BOB,
        clicked=(dm_channel(slack, BOB), card["ts"]),
        snoozed_until=datetime(2026, 12, 8, 1, 0, tzinfo=UTC),
    )
    bot.settle()  # the card's redraw, from the outbox
    assert "Snoozed until Tue 8 Dec 09:00" in str(slack.dms(BOB)[0]["blocks"])

    assert nudges.sweep(bot.rt, at("2026-12-08T01:05:00+00:00")).sent == 1
    snoozed = slack.dms(BOB)[-1]
    assert snoozed["blocks"][0]["text"]["text"].startswith(
        ":bell: Reminder (you snoozed this): *Fix the promo code check*, due Fri 11 Dec."
    )
    assert "Snoozed until" not in str(slack.dms(BOB)[0]["blocks"])  # the card is redrawn
    assert nudges.sweep(bot.rt, at("2026-12-09T01:05:00+00:00")).sent == 1
    soon = slack.dms(BOB)[-1]
    assert soon["blocks"][0]["text"]["text"].startswith(
        ":alarm_clock: Coming up soon: *Fix the promo code check* is due Fri 11 Dec."
    )
    assert soon["text"] == ":alarm_clock: Coming up soon: Fix the promo code check (due Fri 11 Dec)"
    assert not any("Snoozed until" in str(m["blocks"]) for m in slack.dms(BOB))
    with transaction(bot.rt.sessions) as session:
        assert session.get(ActionItem, item_id).snoozed_until is None


def test_the_sweep_says_why_it_missed_a_reminder() -> None:
    result = nudges.SweepResult(sent=0)
    result.miss("older than the catch-up window (24 h)")
    result.miss("the item was done before it was sent")
    assert str(result) == (
        "sent 0, missed 2, failed 0; missed 1: older than the catch-up "
        "window (24 h), 1: the item was done before it was sent"
    )

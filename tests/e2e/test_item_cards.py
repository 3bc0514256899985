"""One card per action item, always current; reminders point to it; old messages never reopen.

Bob's item gets one card (the assignment DM) that is rewritten whenever the item changes.
Reminders are short notes linking to the card, without buttons. A click on an older message
(a list, or a full reminder card sent before cards were kept) acts on the item as it is now, and
a done item is reopened only after Bob confirms it.
"""

from __future__ import annotations

from helpers.action_items import ALICE, BOB, DUE, at, buttons, dm_channel, make_items, status_of
from sqlalchemy import select

from bot.action_items import nudges, views
from bot.action_items import service as reminders
from sandbox.fake_slack import FakeSlack, problems
from storage.db import transaction
from storage.models import ActionItem, AuditEntry


def card_link(slack: FakeSlack, user: str, ts: str) -> str:
    return f"/archives/{dm_channel(slack, user)}/p{ts.replace('.', '')}"


def old_style_card(bot, item_id: int, headline: str) -> None:
    """A full reminder card with buttons, as reminders were sent before cards were kept."""
    with transaction(bot.rt.sessions) as session:
        view = reminders.view_of(bot.rt, session.get(ActionItem, item_id))
    bot.rt.client.chat_postMessage(channel=view.owner_id, **views.item_blocks(view, headline))


def test_reminders_are_notes_that_point_to_the_one_card(slack: FakeSlack, bot) -> None:
    [item_id] = make_items(
        bot, [{"title": "Fix the promo code check", "owner": BOB, "due_date": DUE}]
    )
    card = slack.dms(BOB)[0]
    for when in (
        "2026-12-02T01:00:00+00:00",
        "2026-12-04T01:30:00+00:00",
        "2026-12-07T02:00:00+00:00",
    ):
        assert nudges.sweep(bot.rt, at(when)).sent == 1
    notes = slack.dms(BOB)[1:]
    assert [n["text"].split(":", 2)[1] for n in notes] == ["alarm_clock", "calendar", "warning"]
    for note in notes:
        assert buttons(note) == []
        assert card_link(slack, BOB, card["ts"]) in str(note["blocks"])
        assert problems("message", note) == []
    assert buttons(card) == [
        "item_done",
        "item_snooze",
        "item_snooze_date",
        "item_status",
        "item_open",
    ]
    slack.click(
        BOB, "item_done", str(item_id), channel_id=dm_channel(slack, BOB), message_ts=card["ts"]
    )
    slack.wait_for(lambda: "Done. Thank you!" in str(slack.dms(BOB)[0]["blocks"]))
    assert buttons(slack.dms(BOB)[0]) == ["item_open"]
    assert "Status: Done" in str(slack.dms(BOB)[0]["blocks"])
    assert [buttons(n) for n in slack.dms(BOB)[1:]] == [[], [], []]


def test_a_click_on_an_older_message_asks_before_reopening_a_done_item(
    slack: FakeSlack, bot
) -> None:
    [item_id] = make_items(
        bot, [{"title": "Fix the promo code check", "owner": BOB, "due_date": DUE}]
    )
    old_style_card(bot, item_id, ":warning: Overdue")
    old_style_card(bot, item_id, ":warning: Overdue")
    card, old, older = slack.dms(BOB)
    slack.click(
        BOB, "item_done", str(item_id), channel_id=dm_channel(slack, BOB), message_ts=card["ts"]
    )
    slack.wait_for(lambda: status_of(bot, item_id) == "done")

    # Update status on the old card: the modal says the item is done and asks to reopen it.
    slack.click(
        BOB, "item_status", str(item_id), channel_id=dm_channel(slack, BOB), message_ts=old["ts"]
    )
    modal = slack.wait_for(lambda: slack.top_view(BOB))
    assert modal["title"]["text"] == "Reopen action item"
    assert modal["submit"]["text"] == "Reopen"
    assert "was marked done" in str(modal["blocks"]) and "reopens it" in str(modal["blocks"])
    # The old card now shows the item as it is, with no buttons, and links to the card.
    slack.wait_for(lambda: "Status: Done" in str(slack.dms(BOB)[1]["blocks"]))
    assert buttons(slack.dms(BOB)[1]) == ["item_open"]
    assert card_link(slack, BOB, card["ts"]) in str(slack.dms(BOB)[1]["blocks"])
    slack.close(BOB, modal["id"])
    assert status_of(bot, item_id) == "done"

    # Confirming reopens it, on purpose: the card shows "In progress" and its buttons again.
    slack.click(
        BOB, "item_status", str(item_id), channel_id=dm_channel(slack, BOB), message_ts=older["ts"]
    )
    modal = slack.wait_for(lambda: slack.top_view(BOB))
    reply = slack.submit(BOB, modal["id"], {"status": {"v": "in_progress"}})
    assert reply.ok and not reply.errors
    slack.wait_for(lambda: "Status: In progress" in str(slack.dms(BOB)[0]["blocks"]))
    assert status_of(bot, item_id) == "in_progress"
    assert "item_done" in buttons(slack.dms(BOB)[0])


def test_stale_buttons_on_a_done_item_change_nothing_and_say_why(slack: FakeSlack, bot) -> None:
    [item_id] = make_items(
        bot, [{"title": "Fix the promo code check", "owner": BOB, "due_date": DUE}]
    )
    card = slack.dms(BOB)[0]
    where = {"channel_id": dm_channel(slack, BOB), "message_ts": card["ts"]}
    # A status modal opened while the item was open, saved after it was marked done elsewhere.
    slack.click(BOB, "item_status", str(item_id), **where)
    modal = slack.wait_for(lambda: slack.top_view(BOB))
    assert modal["title"]["text"] == "Update status"
    old_style_card(bot, item_id, ":bell: Reminder (you snoozed this)")
    old = slack.dms(BOB)[1]
    slack.click(BOB, "item_done", str(item_id), **where)
    slack.wait_for(lambda: status_of(bot, item_id) == "done")
    reply = slack.submit(BOB, modal["id"], {"status": {"v": "in_progress"}})
    assert "was not reopened" in reply.errors["status"]
    assert status_of(bot, item_id) == "done"
    # Snoozing from the old card: refused in a message only Bob sees; the old card is redrawn.
    snooze = next(
        o["value"]
        for b in old["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "item_snooze"
        for o in e["options"]
    )
    slack.click(BOB, "item_snooze", snooze, channel_id=dm_channel(slack, BOB), message_ts=old["ts"])
    slack.wait_for(lambda: slack.ephemerals(BOB))
    assert "already done: there is nothing to snooze" in slack.ephemerals(BOB)[-1]["text"]
    slack.wait_for(lambda: buttons(slack.dms(BOB)[1]) == ["item_open"])
    with transaction(bot.rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        assert (item.status, item.snoozed_until, item.next_nudge_at) == ("done", None, None)
        reopened = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "action_item.updated")
        ).all()
    assert [e.detail.get("status") for e in reopened] == ["done"]


def test_a_click_in_the_actions_list_redraws_the_list_and_the_card(slack: FakeSlack, bot) -> None:
    first, _ = make_items(
        bot,
        [
            {"title": "First chore", "owner": BOB, "due_date": DUE},
            {"title": "Second chore", "owner": BOB, "due_date": DUE},
        ],
    )
    slack.slash_command(BOB, "C0REVIEWS", "/postmortem", "actions")
    listing = slack.wait_for(lambda: slack.ephemerals(BOB))[-1]
    assert "First chore" in str(listing["blocks"]) and "Second chore" in str(listing["blocks"])
    slack.click(BOB, "item_done", str(first), channel_id="C0REVIEWS", message_ts=listing["ts"])
    slack.wait_for(lambda: "First chore" not in str(slack.ephemerals(BOB)[-1]["blocks"]))
    assert "*Your open action items* (1)" in str(slack.ephemerals(BOB)[-1]["blocks"])
    slack.wait_for(  # the card is redrawn from the outbox, just after
        lambda: (
            "Done. Thank you!"
            in str(next(m for m in slack.dms(BOB) if "First chore" in m["text"])["blocks"])
        )
    )


def test_the_former_owners_card_loses_its_buttons(slack: FakeSlack, bot) -> None:
    [item_id] = make_items(bot, [{"title": "Update the runbook", "owner": ALICE, "due_date": DUE}])
    with transaction(bot.rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        item.owner_id = BOB
    reminders.notify_changes(bot.rt, [(item_id, False, ALICE)])
    alices = slack.dms(ALICE)[0]
    assert buttons(alices) == []
    assert "Now owned by <@U0BOB>" in str(alices["blocks"])
    assert buttons(slack.dms(BOB)[0])[0] == "item_done"
    with transaction(bot.rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        assert (item.dm_channel, item.dm_ts) == (dm_channel(slack, BOB), slack.dms(BOB)[0]["ts"])


def test_telling_the_new_owner_again_never_strips_their_card(slack: FakeSlack, bot) -> None:
    """notify_assignment run twice (a retried side effect) leaves the new owner a live card."""
    [item_id] = make_items(bot, [{"title": "Update the runbook", "owner": ALICE, "due_date": DUE}])
    with transaction(bot.rt.sessions) as session:
        session.get(ActionItem, item_id).owner_id = BOB
    for _ in range(2):
        reminders.notify_changes(bot.rt, [(item_id, False, ALICE)])
    assert [buttons(m)[0] for m in slack.dms(BOB)] == ["item_done", "item_done"]
    with transaction(bot.rt.sessions) as session:
        assert session.get(ActionItem, item_id).dm_ts == slack.dms(BOB)[-1]["ts"]

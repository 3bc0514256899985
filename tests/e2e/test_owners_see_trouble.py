"""Owners see trouble: a blocked item tells the review's owner; Home lists what needs a look.

Alice owns the review "Black Friday email". Bob owns two of its items and Carol one. Bob blocks
one (with a note): Alice is told, and her Home lists her review's open items, blocked first, with
who owns them. Bob's Home shows his items with the same buttons as their cards.
"""

from __future__ import annotations

from helpers.action_items import ADMIN, ALICE, BOB, DUE, buttons, dm_channel, make_items

from sandbox.fake_slack import FakeSlack, problems
from storage.db import transaction
from storage.models import ActionItem

NOTE = "Waiting on <the vendor> & their API key"
CARD_BUTTONS = ["item_done", "item_snooze", "item_snooze_date", "item_status", "item_open"]


def items(bot) -> list[int]:
    return make_items(
        bot,
        [
            {"title": "Fix the promo code check", "owner": BOB, "due_date": DUE},
            {"title": "Add a stock check to the launch", "owner": BOB, "due_date": "2026-12-11"},
            {"title": "Brief the support team", "owner": ADMIN, "due_date": "2026-12-02"},
        ],
        owner=ALICE,
    )


def block(slack: FakeSlack, item_id: int, **where: str) -> None:
    slack.click(BOB, "item_status", str(item_id), **where)
    view = slack.wait_for(lambda: slack.top_view(BOB))
    reply = slack.submit(BOB, view["id"], {"status": {"v": "blocked"}, "note": {"v": NOTE}})
    assert reply.ok and not reply.errors


def home(slack: FakeSlack, user: str) -> dict:
    slack.open_home(user)
    return slack.wait_for(lambda: slack.home(user))


def section_texts(view: dict) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section" and "text" in b]


def test_blocking_an_item_tells_the_reviews_owner(slack: FakeSlack, bot) -> None:
    promo, _, _ = items(bot)
    card = slack.dms(BOB)[0]
    block(slack, promo, channel_id=dm_channel(slack, BOB), message_ts=card["ts"])
    notice = slack.wait_for(lambda: slack.dms(ALICE))[-1]
    assert problems("message", notice) == []
    text = notice["blocks"][0]["text"]["text"]
    assert text.startswith(
        ":no_entry: <@U0BOB> is blocked on an action item in your review <https://"
    )
    assert "*Fix the promo code check*" in text
    assert "_Blocked by:_ Waiting on &lt;the vendor&gt; &amp; their API key" in text
    assert buttons(notice) == ["item_nudge", "item_reassign", "item_open"]
    # Unblocked: the notice follows, so it never shows a blocker that is gone.
    slack.click(
        BOB, "item_status", str(promo), channel_id=dm_channel(slack, BOB), message_ts=card["ts"]
    )
    view = slack.wait_for(lambda: slack.top_view(BOB))
    slack.submit(BOB, view["id"], {"status": {"v": "in_progress"}, "note": {"v": "Key arrived"}})
    slack.wait_for(lambda: "no longer blocked" in str(slack.dms(ALICE)[-1]["blocks"]))
    assert len(slack.dms(ALICE)) == 1  # the same message, rewritten


def test_the_reviews_owner_sees_its_open_items_blocked_first(slack: FakeSlack, bot) -> None:
    promo, _, _ = items(bot)
    block(slack, promo, channel_id=dm_channel(slack, BOB), message_ts=slack.dms(BOB)[0]["ts"])
    view = home(slack, ALICE)
    assert problems("home", view) == []
    texts = section_texts(view)
    assert "*Waiting on you*" in texts
    assert ":no_entry: 1 action item in your reviews is blocked" in str(view["blocks"])
    assert "Nothing right now" not in str(view["blocks"])
    listed = [
        b["text"]["text"] for b in view["blocks"] if b.get("block_id", "").startswith("owned.")
    ]
    assert [t.split("*")[1] for t in listed] == [
        "Fix the promo code check",
        "Brief the support team",
        "Add a stock check to the launch",
    ]
    assert listed[0].startswith(":no_entry: *Fix the promo code check*\n<@U0BOB> · Blocked")
    assert "_Blocked by:_ Waiting on &lt;the vendor&gt;" in listed[0]
    assert "<@U0ADMIN> · Open" in listed[1]


def test_my_items_on_home_have_their_cards_buttons_and_home_follows_a_click(
    slack: FakeSlack, bot
) -> None:
    promo, stock, _ = items(bot)
    view = home(slack, BOB)
    assert problems("home", view) == []
    actions = [
        b for b in view["blocks"] if b["type"] == "actions" and b["block_id"].startswith("item.")
    ]
    assert [[e["action_id"] for e in b["elements"]] for b in actions[:2]] == [CARD_BUTTONS] * 2
    assert "Status: Open" in str(view["blocks"])
    ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(ids) == len(set(ids))

    # Update status from Home: the modal's save draws Home again, and Alice is told.
    block(slack, promo, view_id=view["id"])
    slack.wait_for(lambda: "Status: Blocked" in str(slack.home(BOB)["blocks"]))
    slack.wait_for(lambda: slack.dms(ALICE))
    # Mark done from Home: the item leaves Bob's list, and its card says done.
    slack.click(BOB, "item_done", str(stock), view_id=slack.home(BOB)["id"])
    slack.wait_for(lambda: "Add a stock check" not in str(slack.home(BOB)["blocks"]))
    slack.wait_for(  # its card is redrawn from the outbox, just after
        lambda: any(
            "Add a stock check" in m["text"] and "Done. Thank you!" in str(m["blocks"])
            for m in slack.dms(BOB)
        )
    )


def test_the_reviews_owner_reassigns_from_home(slack: FakeSlack, bot) -> None:
    promo, _, _ = items(bot)
    view = home(slack, ALICE)
    slack.click(
        ALICE, "item_owner_menu", f"reassign:{promo}", block_id=f"owned.{promo}", view_id=view["id"]
    )
    modal = slack.wait_for(lambda: slack.top_view(ALICE))
    assert modal["title"]["text"] == "Reassign action item"
    reply = slack.submit(ALICE, modal["id"], {"owner": {"v": ADMIN}})
    assert reply.ok and not reply.errors
    slack.wait_for(lambda: "<@U0ADMIN> · Open" in block_text(slack.home(ALICE), f"owned.{promo}"))
    with transaction(bot.rt.sessions) as session:
        assert session.get(ActionItem, promo).owner_id == ADMIN
    slack.click(
        ALICE,
        "item_owner_menu",
        f"nudge:{promo}",
        block_id=f"owned.{promo}",
        view_id=slack.home(ALICE)["id"],
    )
    slack.wait_for(
        lambda: any(
            ":wave: <@U0ALICE> is asking about" in str(m["blocks"]) for m in slack.dms(ADMIN)
        )
    )
    told = slack.wait_for(lambda: slack.ephemerals(ALICE))[-1]  # Home has no channel: her DM
    assert (told["channel"], told["text"]) == (
        dm_channel(slack, ALICE),
        "Nudged <@U0ADMIN> about “Fix the promo code check”.",
    )


def block_text(view: dict, block_id: str) -> str:
    return next(b["text"]["text"] for b in view["blocks"] if b.get("block_id") == block_id)

"""App Home while views.publish fails: a change made on Home is kept, and Home follows later.

Bob marks an item done from his Home tab while Slack answers 500 to every views.publish. The
item is done at once; the Home redraw waits in the outbox with Slack's error, and once Slack
recovers Bob's Home no longer lists the item (drawn again as it is now, not twice as stale).
"""

from __future__ import annotations

from datetime import timedelta

from helpers.action_items import ALICE, BOB, DUE, make_items, status_of
from sqlalchemy import select

from bot.app import effect_handlers
from bot.delivery.service import deliver_due
from bot.home.listeners import PUBLISH_EFFECT
from sandbox.fake_slack import FakeSlack
from storage import outbox
from storage.db import transaction
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


def test_done_on_home_during_a_views_publish_outage_redraws_home_later(
    slack: FakeSlack, bot
) -> None:
    done, kept = make_items(
        bot,
        [
            {"title": "Fix the promo code check", "owner": BOB, "due_date": DUE},
            {"title": "Add a stock check", "owner": BOB, "due_date": "2026-12-11"},
        ],
        owner=ALICE,
    )
    bot.settle()
    slack.open_home(BOB)
    home = slack.wait_for(lambda: slack.home(BOB))
    assert "Fix the promo code check" in str(home["blocks"])

    slack.fail("views.publish", "internal_error", times=1000, status=500)
    reply = slack.click(BOB, "item_done", str(done), view_id=home["id"])

    assert reply.status == 200  # acked: the click did not wait for Slack
    slack.wait_for(lambda: status_of(bot, done) == "done")
    slack.wait_for(lambda: _pending(bot, PUBLISH_EFFECT) == ["Slack: internal_error"], timeout=20)
    assert "Fix the promo code check" in str(slack.home(BOB)["blocks"])  # stale for now

    slack.clear_faults()
    deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=1))

    assert _pending(bot, PUBLISH_EFFECT) == []
    shown = str(slack.home(BOB)["blocks"])
    assert "Fix the promo code check" not in shown and "Add a stock check" in shown
    assert status_of(bot, kept) == "open"
    slack.reset_calls()  # the refused calls were the point of this test

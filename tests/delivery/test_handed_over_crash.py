"""A reassignment whose worker dies just after telling the former owner: told once.

Alice gives Bob's item to the admin. The worker posts the admin's card, rewrites Bob's, and
tells Bob "now owned by…"; Slack accepts that note and the worker dies before it can record
the effect done. The retry finds the note by its metadata: Bob is told once, the admin has
one card.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers.action_items import ADMIN, ALICE, BOB, DUE, make_items
from helpers.crash import crash_after_posting
from helpers.delivered import Received
from sqlalchemy import select

from bot.action_items import service as reminders
from bot.app import effect_handlers
from bot.delivery.service import deliver_due
from sandbox.fake_slack import FakeSlack
from storage import outbox
from storage.db import transaction
from storage.types import utcnow

HANDED_OVER = "is now owned by"


def _pending(bot) -> list[str]:
    with transaction(bot.rt.sessions) as session:
        return list(
            session.scalars(
                select(outbox.Effect.kind).where(outbox.Effect.status == outbox.PENDING)
            )
        )


def _retrying(bot) -> list[str]:
    with transaction(bot.rt.sessions) as session:
        return list(
            session.scalars(
                select(outbox.Effect.kind).where(
                    outbox.Effect.status == outbox.PENDING, outbox.Effect.last_error.is_not(None)
                )
            )
        )


def test_the_former_owner_is_told_once_when_the_worker_dies_after_telling_them(
    slack: FakeSlack, bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    [item_id] = make_items(
        bot, [{"title": "Fix the promo code check", "owner": BOB, "due_date": DUE}], owner=ALICE
    )
    bot.settle()
    crashed = crash_after_posting(
        monkeypatch, bot.rt, when=lambda kwargs: HANDED_OVER in str(kwargs.get("text"))
    )

    refused, previous, _ = reminders.reassign(bot.rt, item_id, ADMIN, ALICE)
    assert refused is None and previous == BOB
    bot.rt.delivery_due.set()
    slack.wait_for(lambda: len(crashed) == 1)
    slack.wait_for(lambda: _retrying(bot) == ["action_items.assigned"])  # the crash recorded
    for hours in (1, 2, 3):  # the worker that crashed is gone: its effect is retried
        deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=hours))

    assert _pending(bot) == []
    notes = [m for m in slack.dms(BOB) if HANDED_OVER in m.get("text", "")]
    assert len(notes) == 1
    assert "<@U0ADMIN>" in notes[0]["text"]
    cards = [m for m in slack.dms(ADMIN) if "Fix the promo code check" in m.get("text", "")]
    assert len(cards) == 1
    assert Received(slack).duplicates() == {}

"""Two workers, one item: the owner's card is never taken over by a late "owner asked" note.

The review's owner asks about an item whose assignment DM has not been recorded yet (Slack was
failing, or the worker that posted it was killed before saving where). One worker delivers the
"owner asked" note while another delivers the assignment DM. The note, finding no card, posts
the item with its buttons; but if the assignment DM became the card meanwhile, that stays the
card: the chaos test caught the card pointing at the later note instead.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import pytest
from helpers.slack_unit import BOB, item_row, seed_item, seed_review, slack_error
from slack_sdk.errors import SlackApiError
from sqlalchemy import update

from bot.action_items import service
from bot.runtime import Runtime
from storage.db import transaction
from storage.models import ActionItem

ASSIGNMENT = ("D0BOB", "1700000999.000001")  # where the other worker's assignment DM landed


def _other_worker_records_the_assignment_dm(rt: Runtime, client: MagicMock, item_id: int) -> None:
    post = client.chat_postMessage.side_effect

    def posted(**kwargs: Any) -> dict[str, Any]:
        with transaction(rt.sessions) as session:
            session.execute(
                update(ActionItem)
                .where(ActionItem.id == item_id)
                .values(dm_channel=ASSIGNMENT[0], dm_ts=ASSIGNMENT[1])
            )
        return post(**kwargs)

    client.chat_postMessage.side_effect = posted


def test_a_late_owner_note_does_not_take_the_card_from_the_assignment_dm(
    rt: Runtime, client: MagicMock
) -> None:
    item_id = seed_item(rt, seed_review(rt), owner=BOB, dm=False)
    _other_worker_records_the_assignment_dm(rt, client, item_id)

    service.send_nudge(rt, item_id, asker="U0ALICE")

    assert client.chat_postMessage.call_count == 1  # the note went out, with the item in it
    item = item_row(rt, item_id)
    assert (item.dm_channel, item.dm_ts) == ASSIGNMENT


def test_without_a_card_the_owner_note_becomes_the_card(rt: Runtime, client: MagicMock) -> None:
    item_id = seed_item(rt, seed_review(rt), owner=BOB, dm=False)

    service.send_nudge(rt, item_id, asker="U0ALICE")

    item = item_row(rt, item_id)
    reply = client.chat_postMessage.call_args
    assert reply.kwargs["channel"] == BOB
    assert item.dm_channel == "D0BOB" and item.dm_ts is not None


def test_a_slack_outage_on_the_card_link_does_not_replace_the_card(
    rt: Runtime, client: MagicMock
) -> None:
    """chat.getPermalink failing with a 500 says nothing about the card: the note is retried
    later, and the card stays. (Taken for "the owner deleted it", the note was posted as a new
    card and replaced the working one: the chaos test's card pointed at a later message.)"""
    item_id = seed_item(rt, seed_review(rt), owner=BOB)  # the assignment DM is the card
    client.chat_getPermalink.side_effect = slack_error("chat.getPermalink", "internal_error")

    with pytest.raises(SlackApiError):  # the outbox retries the effect
        service.send_nudge(rt, item_id, asker="U0ALICE")

    assert client.chat_postMessage.call_count == 0
    item = item_row(rt, item_id)
    assert (item.dm_channel, item.dm_ts) == ("D0BOB", "1700000001.000001")


def test_a_card_its_owner_deleted_is_replaced_by_the_note(rt: Runtime, client: MagicMock) -> None:
    item_id = seed_item(rt, seed_review(rt), owner=BOB)
    client.chat_getPermalink.side_effect = slack_error("chat.getPermalink", "message_not_found")

    service.send_nudge(rt, item_id, asker="U0ALICE")

    item = item_row(rt, item_id)
    assert client.chat_postMessage.call_args.kwargs["channel"] == BOB
    assert (item.dm_channel, item.dm_ts) != ("D0BOB", "1700000001.000001")

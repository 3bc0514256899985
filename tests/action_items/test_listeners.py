"""The action item listeners (bot/action_items/listeners.py), each called directly with mocks.

The DM buttons change an item only for its owner, the review's owner or an admin; the modals
refuse incomplete answers in the ack; what a person sees is the rewritten DM, the ephemeral
refusal, or the error next to the field.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from unittest.mock import MagicMock

from helpers.slack_unit import (
    ALICE,
    BOB,
    CHANNEL,
    STATUS_TS,
    TEAM,
    block_actions,
    button,
    item_row,
    opened_view,
    recording_ack,
    seed_item,
    seed_review,
    slack_calls,
    view_submission,
    view_text,
)
from sqlalchemy import select

from bot.action_items import listeners, views
from bot.action_items.service import view_of
from bot.app import effect_handlers
from bot.delivery.service import deliver_due
from bot.reviews.views.review_message import ADD_ITEM
from bot.runtime import Runtime
from storage.db import transaction
from storage.models import ActionItem, AuditEntry, Review
from storage.types import utcnow

CAROL = "U0CAROL"  # neither the item's owner, the review's owner nor an admin
REFUSAL = "Only the item's owner, the review's owner or an admin can change it."
ITEM_DM = "1700000001.000001"  # seed_item's assignment DM


def dm_click(action_id: str, item_id: int, user: str) -> dict[str, Any]:
    """A click on the item's assignment DM (the owner's DM channel with the bot)."""
    return block_actions(
        button(action_id, str(item_id)), user=user, channel="D0BOB", message_ts=ITEM_DM
    )


def audit_actions(rt: Runtime) -> list[str]:
    with transaction(rt.sessions) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def deliver(rt: Runtime) -> None:
    """What the outbox worker does after the request: the change's Slack consequences."""
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(minutes=1))


def updates_of(client: MagicMock, channel: str, ts: str) -> list[dict[str, Any]]:
    return [
        c.kwargs
        for c in client.chat_update.call_args_list
        if (c.kwargs["channel"], c.kwargs["ts"]) == (channel, ts)
    ]


# --- done -----------------------------------------------------------------------------------


def test_the_owner_marks_an_item_done_and_sees_the_dm_rewritten(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, owner=BOB)
    body = dm_click(views.DONE, item_id, BOB)

    listeners.done(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    ack.assert_called_once_with()
    item = item_row(rt, item_id)
    assert item.status == "done" and item.completed_at is not None
    assert slack_calls(client) == []  # nothing waits on Slack in the request: the outbox does
    deliver(rt)
    [dm] = updates_of(client, "D0BOB", ITEM_DM)
    shown = view_text(dm)
    assert "Done. Thank you!" in shown and "Status: Done" in shown
    assert "Mark done" not in shown  # no buttons left to press
    client.chat_postEphemeral.assert_not_called()


def test_the_last_item_done_updates_the_review_and_asks_its_owner_to_confirm(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt, title="Refund took three weeks")
    item_id = seed_item(rt, review_id, owner=BOB)
    body = dm_click(views.DONE, item_id, BOB)

    listeners.done(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    deliver(rt)

    [status] = updates_of(client, CHANNEL, STATUS_TS)
    assert "*Open action items*\n0" in view_text(status)
    client.chat_postMessage.assert_called_once()
    ask = client.chat_postMessage.call_args.kwargs
    assert ask["channel"] == ALICE
    assert "Every action item of" in view_text(ask)
    assert "Yes, improvements implemented" in view_text(ask)


def test_done_twice_asks_the_review_owner_only_once(rt: Runtime, client: MagicMock) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, owner=BOB)
    for _ in range(2):
        body = dm_click(views.DONE, item_id, BOB)
        listeners.done(
            ack=recording_ack(client), body=body, action=body["actions"][0], client=client, rt=rt
        )
        deliver(rt)

    assert client.chat_postMessage.call_count == 1  # the confirmation request
    assert len(updates_of(client, CHANNEL, STATUS_TS)) == 1
    assert audit_actions(rt).count("action_item.updated") == 1


def test_the_reviews_owner_may_mark_someone_elses_item_done(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt, owner=ALICE)
    item_id = seed_item(rt, review_id, owner=BOB)
    body = block_actions(button(views.DONE, str(item_id)), user=ALICE, channel=CHANNEL)

    listeners.done(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    assert item_row(rt, item_id).status == "done"


def test_a_stranger_gets_an_ephemeral_refusal_and_nothing_changes(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, owner=BOB)
    body = block_actions(button(views.DONE, str(item_id)), user=CAROL, channel=CHANNEL)

    listeners.done(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    ack.assert_called_once_with()
    client.chat_postEphemeral.assert_called_once_with(channel=CHANNEL, user=CAROL, text=REFUSAL)
    item = item_row(rt, item_id)
    assert (item.status, item.completed_at) == ("open", None)
    assert slack_calls(client) == ["chat_postEphemeral"]
    assert "action_item.updated" not in audit_actions(rt)


def test_a_refusal_outside_a_channel_goes_to_the_users_dm(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, owner=BOB)
    body = block_actions(button(views.DONE, str(item_id)), user=CAROL)  # from a Home tab

    listeners.done(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    # Slack wants a channel id: the refusal goes to the clicker's DM with the bot.
    assert client.chat_postEphemeral.call_args.kwargs["channel"] == "D0CAROL"


# --- snooze ---------------------------------------------------------------------------------


def test_snoozing_until_a_past_day_is_refused(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, owner=BOB)
    yesterday = date.today() - timedelta(days=2)  # noqa: DTZ011 - past in every timezone
    action = {
        "type": "datepicker",
        "action_id": views.SNOOZE_DATE,
        "block_id": f"item.{item_id}",
        "selected_date": yesterday.isoformat(),
        "action_ts": "1700000002.000100",
    }
    body = block_actions(action, user=BOB, channel="D0BOB", message_ts=ITEM_DM)

    listeners.snooze_date(ack=ack, body=body, action=action, client=client, rt=rt)

    client.chat_postEphemeral.assert_called_once_with(
        channel="D0BOB", user=BOB, text="Pick a date from today on to snooze until."
    )
    assert item_row(rt, item_id).snoozed_until is None


def test_snoozing_a_week_sets_the_items_snooze(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, owner=BOB)
    action = {
        "type": "static_select",
        "action_id": views.SNOOZE,
        "block_id": f"item.{item_id}",
        "selected_option": {
            "text": {"type": "plain_text", "text": "1 week"},
            "value": f"{item_id}:1_week",
        },
        "action_ts": "1700000002.000100",
    }
    body = block_actions(action, user=BOB, channel="D0BOB", message_ts=ITEM_DM)

    listeners.snooze(ack=ack, body=body, action=action, client=client, rt=rt)

    snoozed = item_row(rt, item_id).snoozed_until
    assert snoozed is not None
    deliver(rt)
    [dm] = updates_of(client, "D0BOB", ITEM_DM)
    assert "Snoozed until" in view_text(dm)


# --- status_clicked / status_saved ----------------------------------------------------------


def status_form(rt: Runtime, item_id: int) -> dict[str, Any]:
    with transaction(rt.sessions) as session:
        return views.status_modal(view_of(rt, session.get(ActionItem, item_id)))


def test_update_status_opens_the_form_for_the_owner(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, owner=BOB, title="Add a refund <status> page")
    body = dm_click(views.STATUS, item_id, BOB)

    listeners.status_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    view = opened_view(client)
    assert view["callback_id"] == views.STATUS_CALLBACK
    assert view["private_metadata"] == str(item_id)
    assert "*Add a refund &lt;status&gt; page*" in view_text(view)


def test_blocked_without_saying_why_is_refused_next_to_the_note(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, owner=BOB)
    body, view = view_submission(status_form(rt, item_id), {"status": "blocked"}, user=BOB)

    listeners.status_saved(ack=ack, body=body, view=view, client=client, rt=rt)

    ack.assert_called_once_with(
        response_action="errors", errors={"note": "Say what is blocking it."}
    )
    assert item_row(rt, item_id).status == "open"


def test_a_status_must_be_chosen(rt: Runtime, ack: MagicMock, client: MagicMock) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, owner=BOB)
    with transaction(rt.sessions) as session:
        session.get(ActionItem, item_id).status = "done"  # done meanwhile: nothing preselected
    body, view = view_submission(status_form(rt, item_id), {"note": "half way"}, user=BOB)

    listeners.status_saved(ack=ack, body=body, view=view, client=client, rt=rt)

    ack.assert_called_once_with(response_action="errors", errors={"status": "Choose a status."})
    assert item_row(rt, item_id).status_note is None


def test_a_stranger_cannot_save_a_status(rt: Runtime, ack: MagicMock, client: MagicMock) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, owner=BOB)
    body, view = view_submission(
        status_form(rt, item_id), {"status": "blocked", "note": "not my item"}, user=CAROL
    )

    listeners.status_saved(ack=ack, body=body, view=view, client=client, rt=rt)

    ack.assert_called_once_with(response_action="errors", errors={"status": REFUSAL})
    item = item_row(rt, item_id)
    assert (item.status, item.status_note) == ("open", None)
    assert slack_calls(client) == []


def test_a_valid_status_is_saved_then_acked_then_shown(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, owner=BOB)
    body, view = view_submission(
        status_form(rt, item_id), {"status": "blocked", "note": "Waiting on <finance>"}, user=BOB
    )

    listeners.status_saved(ack=ack, body=body, view=view, client=client, rt=rt)

    ack.assert_called_once_with()
    assert ack.slack_calls_before == [[]]
    item = item_row(rt, item_id)
    assert (item.status, item.status_note) == ("blocked", "Waiting on <finance>")
    deliver(rt)
    [dm] = updates_of(client, "D0BOB", ITEM_DM)
    assert "Status: Blocked" in view_text(dm) and "Waiting on &lt;finance&gt;" in view_text(dm)


# --- add_clicked / add_submitted ------------------------------------------------------------


def test_add_action_item_opens_its_form(rt: Runtime, ack: MagicMock, client: MagicMock) -> None:
    review_id = seed_review(rt, title="Refund took three weeks")
    body = block_actions(button(ADD_ITEM, str(review_id)), user=ALICE, channel=CHANNEL)

    listeners.add_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    view = opened_view(client)
    assert view["callback_id"] == views.ADD_CALLBACK
    assert view["private_metadata"] == str(review_id)
    assert "*Refund took three weeks*" in view_text(view)


def test_adding_an_item_needs_a_title_an_owner_and_a_due_date(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    form = views.add_item_modal(review_id, "Refund", ALICE)
    body, view = view_submission(form, {"title": " ", "owner": None})

    listeners.add_submitted(ack=ack, body=body, view=view, rt=rt)

    ack.assert_called_once()
    assert ack.call_args.kwargs["response_action"] == "errors"
    assert set(ack.call_args.kwargs["errors"]) == {"title", "owner", "due"}
    with transaction(rt.sessions) as session:
        assert session.scalars(select(ActionItem)).all() == []
    assert slack_calls(client) == []


def test_an_added_item_is_saved_and_its_owner_told(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    form = views.add_item_modal(review_id, "Refund", ALICE)
    body, view = view_submission(
        form,
        {
            "title": "Publish refund times",
            "owner": BOB,
            "due": "2026-12-04",
            "link": "https://tracker.example.com/42",
        },
    )

    listeners.add_submitted(ack=ack, body=body, view=view, rt=rt)

    ack.assert_called_once_with()
    assert ack.slack_calls_before == [[]]
    client.chat_postMessage.assert_not_called()  # promised in the outbox, sent by the worker
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(minutes=1))
    with transaction(rt.sessions) as session:
        [item] = session.scalars(select(ActionItem)).all()
        assert (item.title, item.owner_id, item.due_date, item.tracking_link) == (
            "Publish refund times",
            BOB,
            date(2026, 12, 4),
            "https://tracker.example.com/42",
        )
        assert item.dm_channel == "D0BOB"  # the assignment DM, rewritten on every change
        assert session.get(Review, review_id).workspace.team_id == TEAM
    dm = client.chat_postMessage.call_args.kwargs
    assert dm["channel"] == BOB and "New action item for you" in view_text(dm)
    [status] = updates_of(client, CHANNEL, STATUS_TS)
    assert "*Open action items*\n1" in view_text(status)


def test_adding_an_item_to_a_review_deleted_meanwhile_says_so(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    form = views.add_item_modal(review_id, "Refund", ALICE)
    with transaction(rt.sessions) as session:
        session.delete(session.get(Review, review_id))
    body, view = view_submission(
        form, {"title": "Publish refund times", "owner": BOB, "due": "2026-12-04"}
    )

    listeners.add_submitted(ack=ack, body=body, view=view, rt=rt)

    assert ack.call_args.kwargs["response_action"] == "update"
    assert ack.call_args.kwargs["view"]["title"]["text"] == "Review gone"
    with transaction(rt.sessions) as session:
        assert session.scalars(select(ActionItem)).all() == []


# --- confirm --------------------------------------------------------------------------------


def test_only_the_reviews_owner_can_confirm_the_improvements(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt, owner=ALICE)
    body = block_actions(
        button(views.CONFIRM_IMPROVEMENTS, str(review_id)),
        user=BOB,
        channel="D0BOB",
        message_ts="1700000009.000001",
    )

    listeners.confirm(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    client.chat_postEphemeral.assert_called_once_with(
        channel="D0BOB", user=BOB, text="Only the review's owner or an admin can confirm."
    )
    with transaction(rt.sessions) as session:
        assert session.get(Review, review_id).improvements_confirmed_at is None

"""The App Home listeners (bot/home/listeners.py), called directly with mocks."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

from helpers.slack_unit import (
    ADMIN,
    ALICE,
    BOB,
    TEAM,
    block_actions,
    button,
    home_opened_event,
    opened_view,
    seed_item,
    seed_review,
    submit_current,
    view_text,
)

from bot.home import listeners
from bot.reviews.views.review_message import CONTINUE
from bot.runtime import Runtime
from storage import assignments
from storage.db import transaction


def open_home(rt: Runtime, client: MagicMock, user: str, tab: str = "home") -> None:
    listeners.home_opened(
        event=home_opened_event(user, tab), context={"team_id": TEAM}, client=client, rt=rt
    )


def published(client: MagicMock, user: str) -> dict[str, Any]:
    client.views_publish.assert_called_once()
    assert client.views_publish.call_args.kwargs["user_id"] == user
    view = client.views_publish.call_args.kwargs["view"]
    assert view["type"] == "home"
    return view


def continue_buttons(view: dict[str, Any]) -> list[str]:
    return [
        b["accessory"]["value"]
        for b in view["blocks"]
        if b.get("accessory", {}).get("action_id") == CONTINUE
    ]


def test_a_newcomers_home_says_there_is_nothing_yet(rt: Runtime, client: MagicMock) -> None:
    open_home(rt, client, BOB)

    shown = view_text(published(client, BOB))
    assert "Nothing right now." in shown
    assert "You have no reviews yet." in shown
    assert "No open action items." in shown


def test_the_home_lists_what_waits_on_me_and_my_action_items(
    rt: Runtime, client: MagicMock
) -> None:
    review_id = seed_review(rt, title="Refund <took> three weeks", owner=ALICE)
    seed_item(rt, review_id, owner=ALICE, title="Publish refund times")
    seed_item(rt, review_id, owner=BOB, title="Bob's own item")

    open_home(rt, client, ALICE)

    view = published(client, ALICE)
    shown = view_text(view)
    assert continue_buttons(view) == [str(review_id)]
    assert "*Refund &lt;took&gt; three weeks*\nTicket details" in shown
    assert "*Publish refund times*\nReview: <https://" in shown  # with its card's buttons
    assert "|Refund &lt;took&gt; three weeks> · Due: Tue 1 Dec · Status: Open" in shown
    # Bob's item is not among hers, but her review's items are listed with their owners.
    mine, _, in_reviews = shown.partition("*Action items in your reviews*")
    assert "Bob's own item" not in mine
    assert "*Bob's own item*\n<@U0BOB> · Open · due Tue 1 Dec" in in_reviews


def test_an_admin_stage_waits_on_admins_not_on_the_owner(rt: Runtime, client: MagicMock) -> None:
    review_id = seed_review(rt, owner=ALICE)
    for _ in range(5):  # up to the admin's review, In Review
        submit_current(rt, review_id)

    open_home(rt, client, ALICE)
    assert continue_buttons(published(client, ALICE)) == []
    client.views_publish.reset_mock()
    open_home(rt, client, ADMIN)
    assert continue_buttons(published(client, ADMIN)) == [str(review_id)]


def test_other_tabs_publish_nothing(rt: Runtime, client: MagicMock) -> None:
    open_home(rt, client, ALICE, tab="messages")

    client.views_publish.assert_not_called()


def test_start_a_review_from_home_opens_the_start_form(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    body = block_actions(button("home_start", ""), user=BOB)

    listeners.home_start(ack=ack, body=body, client=client, rt=rt)

    ack.assert_called_once_with()
    view = opened_view(client)
    assert view["callback_id"] == "start_review"
    owner = next(b for b in view["blocks"] if b["block_id"] == "owner")
    assert owner["element"]["initial_user"] == BOB


def test_an_assigned_stage_waits_on_its_assignee_on_both_homes(
    rt: Runtime, client: MagicMock
) -> None:
    review_id = seed_review(rt, title="Refund took three weeks", owner=ALICE)
    with transaction(rt.sessions) as session:
        assignments.assign(session, review_id, "metadata", BOB, ALICE)

    open_home(rt, client, ALICE)
    assert "Waiting on <@U0BOB> for Ticket details" in view_text(published(client, ALICE))
    client.views_publish.reset_mock()
    open_home(rt, client, BOB)  # Bob neither owns nor started it: it is on his Home anyway
    view = published(client, BOB)
    assert continue_buttons(view) == [str(review_id)]
    assert "*Refund took three weeks*\nTicket details" in view_text(view)

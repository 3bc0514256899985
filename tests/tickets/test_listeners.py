"""The stale-ticket button (bot/tickets/listeners.py), called directly with mocks."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import MagicMock

from helpers.slack_unit import (
    BOB,
    TEAM,
    block_actions,
    button,
    opened_view,
    recording_ack,
    view_text,
)
from sqlalchemy import select

from bot.app import review_hooks
from bot.reviews.views import stage_modal as sm
from bot.runtime import Runtime
from bot.tickets import listeners
from bot.tickets.views import START_STALE
from storage import reviews as store
from storage.db import transaction
from storage.models import Review
from storage.outbox import PENDING, Effect
from storage.tickets import Ticket


def stale_ticket(rt: Runtime) -> int:
    """A ticket the helpdesk reported, still open after the reminder's working days."""
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, TEAM)
        ticket = Ticket(
            workspace_id=ws.id,
            ticket_id="T-1234",
            source="generic",
            raw={},
            subject="Order arrived broken",
            url="https://help.example.com/t/1234",
            owner_id=BOB,
            category="delivery",
            opened_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
        session.add(ticket)
        session.flush()
        return ticket.id


def click(rt: Runtime, client: MagicMock, row_id: int) -> MagicMock:
    ack = recording_ack(client)
    body = block_actions(button(START_STALE, str(row_id)), user=BOB, channel="D0BOB")
    listeners.stale_clicked(
        ack=ack,
        body=body,
        action=body["actions"][0],
        client=client,
        rt=rt,
        hooks=review_hooks(),
    )
    return ack


def reviews(rt: Runtime) -> list[Review]:
    with transaction(rt.sessions) as session:
        rows = list(session.scalars(select(Review)))
        session.expunge_all()
        return rows


def test_an_unknown_ticket_gets_a_notice_not_a_form(rt: Runtime, client: MagicMock) -> None:
    ack = click(rt, client, 424242)

    ack.assert_called_once_with()
    view = opened_view(client)
    assert view["title"]["text"] == "Nothing to do"
    assert "That ticket is no longer recorded." in view_text(view)
    assert "callback_id" not in view
    assert reviews(rt) == []


def test_a_stale_ticket_starts_its_post_mortem_at_the_first_stage(
    rt: Runtime, client: MagicMock
) -> None:
    row_id = stale_ticket(rt)

    ack = click(rt, client, row_id)

    ack.assert_called_once_with()
    assert ack.slack_calls_before == [[]]
    [review] = reviews(rt)
    assert (review.workflow_key, review.owner_id, review.trigger) == (
        "support_postmortem",
        BOB,
        "stale_ticket",
    )
    view = opened_view(client)
    assert view["callback_id"] == sm.CALLBACK_ID
    assert sm.ModalMeta.loads(view["private_metadata"]).review_id == review.id
    trigger = next(b for b in view["blocks"] if b.get("block_id") == "f.trigger")
    assert trigger["element"]["initial_option"]["value"] == "stale_ticket"


def test_the_form_opens_first_and_the_new_reviews_messages_follow_from_the_outbox(
    rt: Runtime, client: MagicMock
) -> None:
    """Slack honours the click's trigger_id for 3 s: no Slack call (Slack slow or failing) may
    come before the form, and the status message and similar lessons are not lost if one fails."""
    row_id = stale_ticket(rt)

    click(rt, client, row_id)

    assert [name for name, *_ in client.method_calls] == ["views_open"]
    [review] = reviews(rt)
    with transaction(rt.sessions) as session:
        promised = {
            (e.kind, e.payload["review_id"])
            for e in session.scalars(select(Effect).where(Effect.status == PENDING))
        }
    assert {("reviews.status", review.id), ("knowledge.similar", review.id)} <= promised


def test_clicking_again_reopens_the_same_post_mortem(rt: Runtime, client: MagicMock) -> None:
    row_id = stale_ticket(rt)
    click(rt, client, row_id)
    first = reviews(rt)
    client.views_open.reset_mock()

    click(rt, client, row_id)

    assert [r.id for r in reviews(rt)] == [r.id for r in first]
    assert sm.ModalMeta.loads(opened_view(client)["private_metadata"]).review_id == first[0].id

"""The consumer guarantees listeners (bot/consumer_law/listeners.py), called directly with mocks.

The assessment is recorded on the review and posted in its thread; answers the law cannot be
applied to come back as errors next to their fields, and nothing is recorded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock

from helpers.slack_unit import (
    ALICE,
    CHANNEL,
    STATUS_TS,
    block_actions,
    button,
    opened_view,
    seed_review,
    slack_calls,
    view_submission,
    view_text,
)
from sqlalchemy import select

from bot.app import effect_handlers
from bot.consumer_law import listeners, views
from bot.delivery.service import deliver_due
from bot.reviews.views.review_message import ASSESS_ACL
from bot.runtime import Runtime
from storage.db import transaction
from storage.models import AuditEntry, FollowUp, Review
from storage.types import utcnow


def assessments(rt: Runtime) -> list[FollowUp]:
    with transaction(rt.sessions) as session:
        rows = list(session.scalars(select(FollowUp).where(FollowUp.kind == "acl_assessment")))
        session.expunge_all()
        return rows


def a_faulty_kettle(**overrides: Any) -> dict[str, Any]:
    values = {
        "kind": "goods",
        "price": "249.00",
        "purchased": "2026-10-01",
        "personal": "yes",
        "guarantees": ["acceptable_quality"],
        "major": ["goods:unsafe"],
    }
    values.update(overrides)
    return values


def assess(
    rt: Runtime,
    ack: MagicMock,
    client: MagicMock,
    review_id: int,
    values: dict[str, Any],
    *,
    price: str | None = None,
) -> None:
    body, view = view_submission(views.assessment_modal(review_id, "Kettle"), values)
    if price is not None:  # a value the Slack client would not send: only a forged request can
        view["state"]["values"]["price"]["v"]["value"] = price
    listeners.assessed(ack=ack, body=body, view=view, client=client, rt=rt)


def test_the_button_opens_the_assessment_for_that_review(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt, title="Kettle <K2> handle")
    body = block_actions(button(ASSESS_ACL, str(review_id)), channel=CHANNEL)

    listeners.open_assessment(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    view = opened_view(client)
    assert view["callback_id"] == views.CALLBACK
    assert view["private_metadata"] == str(review_id)
    assert "*Kettle &lt;K2&gt; handle*" in view_text(view)


def test_a_missing_price_is_refused_next_to_the_price(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)

    assess(rt, ack, client, review_id, a_faulty_kettle(price=None))

    ack.assert_called_once_with(
        response_action="errors", errors={"price": "Enter the price paid, e.g. 249.00."}
    )
    assert assessments(rt) == []
    assert slack_calls(client) == []


def test_a_price_that_is_not_a_number_is_refused(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)

    assess(rt, ack, client, review_id, a_faulty_kettle(), price="two hundred")

    ack.assert_called_once_with(
        response_action="errors", errors={"price": "Enter the price paid, e.g. 249.00."}
    )
    assert assessments(rt) == []


def test_guarantees_of_the_other_kind_are_refused(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)

    assess(
        rt,
        ack,
        client,
        review_id,
        a_faulty_kettle(guarantees=["acceptable_quality", "due_care_skill"]),
    )

    ack.assert_called_once()
    errors = ack.call_args.kwargs["errors"]
    assert list(errors) == ["guarantees"]
    assert errors["guarantees"].startswith("These are not goods guarantees:")
    assert assessments(rt) == []


def test_an_assessment_is_recorded_acked_then_posted_in_the_thread(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt, title="Kettle K2 handle")

    assess(rt, ack, client, review_id, a_faulty_kettle())

    ack.assert_called_once_with()
    assert ack.slack_calls_before == [[]]
    [row] = assessments(rt)
    assert row.review_id == review_id and row.title == "Consumer guarantees assessment"
    assert "major" in row.detail.lower()
    with transaction(rt.sessions) as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "review.acl_assessed")
        ).one()
        assert (audit.actor, audit.detail["major"]) == (ALICE, True)
    client.chat_postMessage.assert_not_called()  # recorded: the outbox posts it
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(minutes=1))
    posted = client.chat_postMessage.call_args.kwargs
    assert (posted["channel"], posted["thread_ts"]) == (CHANNEL, STATUS_TS)
    assert "*Consumer guarantees assessment*" in view_text(posted)
    assert posted["text"] == "Consumer guarantees assessment: Kettle K2 handle"


def test_an_assessment_of_a_review_deleted_meanwhile_says_so(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    with transaction(rt.sessions) as session:
        session.delete(session.get(Review, review_id))

    assess(rt, ack, client, review_id, a_faulty_kettle())

    assert ack.call_args.kwargs["response_action"] == "update"
    assert ack.call_args.kwargs["view"]["title"]["text"] == "Review gone"
    assert assessments(rt) == []
    assert slack_calls(client) == []

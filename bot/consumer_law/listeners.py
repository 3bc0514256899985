"""Consumer guarantees assessment from any review's message; recorded on the review."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.consumer_law import views
from bot.consumer_law.service import result_effect
from bot.delivery.service import record
from bot.reviews.views.review_message import ASSESS_ACL
from bot.runtime import Runtime
from bot.slack import state
from bot.slack.views import notice_view
from storage import reviews as store
from storage.db import transaction
from storage.models import FollowUp
from workflows.au.acl import KINDS, Assessment, Guarantee, assess
from workflows.au.warranty import warranty_text


def parse(values: dict[str, Any]) -> tuple[Assessment | None, dict[str, str]]:
    """The modal's answers assessed under the ACL, or errors to show next to the fields."""

    kind = state.one_of(state.option(values, "kind"), KINDS)
    errors: dict[str, str] = {}
    try:
        price = Decimal(state.text(values, "price"))
    except InvalidOperation:
        price = None
        errors["price"] = "Enter the price paid, e.g. 249.00."
    chosen = [Guarantee(v) for v in state.options(values, "guarantees")]
    wrong = [g.label for g in chosen if g.kind != kind]
    if wrong:
        errors["guarantees"] = f"These are not {kind} guarantees: {', '.join(wrong)}."
    if errors or kind is None or price is None:
        return None, errors or {"kind": "Choose goods or services."}
    ticked = set(state.options(values, "major"))
    answers = {key: f"{kind}:{key}" in ticked for key in views.MAJOR[kind]}

    def yes(block: str) -> bool:
        return state.option(values, block) == "yes"

    return assess(
        kind,
        price,
        date.fromisoformat(state.date(values, "purchased") or ""),
        chosen,
        answers,
        personal_household_use=yes("personal"),
        vehicle_for_goods_transport=yes("vehicle"),
        for_resale_or_production=yes("resale"),
    ), {}


def warranty(rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient) -> None:
    """The mandatory warranty-against-defects wording (Competition and Consumer Regulations
    2010 reg 90), to paste into warranty documents."""
    kind = state.one_of(rest.strip().lower() or "goods", KINDS)
    if kind is None:
        respond(text="Use `/postmortem warranty goods` or `/postmortem warranty services`.")
        return
    respond(
        text=f"*Warranty against defects: mandatory text for {kind}* (Competition and "
        f"Consumer Regulations 2010, reg 90)\n```\n{warranty_text(kind)}\n```"
    )


def open_assessment(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    with transaction(rt.sessions) as session:
        review = store.get_review(session, int(action["value"]))
        title = review.title if review else ""
    if review is not None:
        client.views_open(
            trigger_id=body["trigger_id"], view=views.assessment_modal(int(action["value"]), title)
        )


def assessed(ack: Ack, body: dict, view: dict, client: WebClient, rt: Runtime) -> None:
    result, errors = parse(view["state"]["values"])
    if errors or result is None:
        ack(response_action="errors", errors=errors)
        return
    review_id, user_id = int(view["private_metadata"]), body["user"]["id"]
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            ack(
                response_action="update",
                view=notice_view("Review gone", "That review no longer exists."),
            )
            return
        row = FollowUp(
            review_id=review.id,
            submission_id=None,
            kind="acl_assessment",
            title="Consumer guarantees assessment",
            detail="\n".join(result.summary_lines()),
        )
        session.add(row)
        session.flush()
        store.audit(
            session,
            review.workspace_id,
            user_id,
            "review.acl_assessed",
            review.id,
            consumer=result.consumer.is_consumer,
            major=bool(result.major and result.major.is_major),
        )
        # Posted in the review's thread by the outbox, recorded with the assessment.
        record(session, [result_effect(review.id, row.id)])
    ack()
    rt.delivery_due.set()


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.action(ASSESS_ACL)(open_assessment)
    app.view(views.CALLBACK)(assessed)

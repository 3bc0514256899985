"""The tax invoice a stage produces, posted in the review's thread (GST Act s29-70)."""

from __future__ import annotations

from bot.features import SideEffect, StageSaved, payload_int
from bot.invoices.views import invoice_message
from bot.reviews.service import rule_context, workflow_of
from bot.reviews.status import status_group
from bot.runtime import Runtime
from bot.slack import posted
from storage import reviews as store
from storage.db import transaction
from storage.outbox import Claimed
from workflows.rules import invoice_from

INVOICE_EVENT = "postmortem_invoice"


def post_invoice(rt: Runtime, review_id: int, *, retrying: bool = False) -> None:
    """The final tax invoice, in the thread of the review's message (once, even when retried)."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return  # deleted meanwhile: no thread to post in (as for the status message)
        workflow = workflow_of(review)
        answers = store.latest_answers(session, review.id)
        stage = next((s for s in workflow.stages if "tax_invoice" in s.rules), None)
        if stage is None or stage.key not in answers:
            return
        message = invoice_message(
            invoice_from(answers[stage.key], rule_context(rt.settings)), rt.settings.templates_dir
        )
        channel, ts = review.channel_id, review.message_ts
    if retrying and posted.find(
        rt.client, channel, INVOICE_EVENT, thread_ts=ts, review_id=review_id
    ):
        return
    rt.client.chat_postMessage(
        channel=channel,
        thread_ts=ts,
        metadata=posted.metadata(INVOICE_EVENT, review_id=review_id),
        **message,
    )


def after_stage(saved: StageSaved) -> list[SideEffect]:
    """The invoice is posted when the saved stage produced one (after the status message)."""
    if not saved.result.invoice:
        return []
    return [
        SideEffect(
            "invoices.post", {"review_id": saved.review_id}, group=status_group(saved.review_id)
        )
    ]


def deliver_invoice(rt: Runtime, effect: Claimed) -> None:
    post_invoice(rt, payload_int(effect.payload, "review_id"), retrying=effect.attempt > 1)

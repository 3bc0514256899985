"""The tax invoice a stage produces, posted in the review's thread (GST Act s29-70)."""

from __future__ import annotations

from bot.features import StageSaved
from bot.invoices.views import invoice_message
from bot.reviews.service import rule_context, workflow_of
from bot.runtime import Runtime
from storage import reviews as store
from storage.db import transaction
from workflows.rules import invoice_from


def post_invoice(rt: Runtime, review_id: int) -> None:
    """The final tax invoice, in the thread of the review's message."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        workflow = workflow_of(review)
        answers = store.latest_answers(session, review.id)
        stage = next((s for s in workflow.stages if "tax_invoice" in s.rules), None)
        if stage is None or stage.key not in answers:
            return
        message = invoice_message(invoice_from(answers[stage.key], rule_context(rt.settings)))
        channel, ts = review.channel_id, review.message_ts
    rt.client.chat_postMessage(channel=channel, thread_ts=ts, **message)


def after_stage(rt: Runtime, saved: StageSaved) -> None:
    """Post the invoice when the saved stage produced one."""
    if saved.result.invoice:
        post_invoice(rt, saved.review_id)

"""Posting and refreshing a review's channel message, and its thread summary.

Called after ack(): the user's answers are already saved, so a Slack failure here is logged and
repaired by the next refresh (every refresh re-renders the whole message from the database).
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select

from bot.runtime import Runtime
from bot.service import workflow_of
from bot.views.answers import summary_blocks
from bot.views.invoice import invoice_message
from bot.views.review_message import status_message
from storage import reviews as store
from storage.db import transaction
from storage.models import ActionItem, Review
from workflows.rules import RuleContext, invoice_from

log = logging.getLogger(__name__)


def _render(session, review: Review) -> dict:
    workflow = workflow_of(review)
    answered = set(store.latest_answers(session, review.id))
    open_items = session.scalar(select(func.count(ActionItem.id)).where(
        ActionItem.review_id == review.id,
        ActionItem.status.in_(store.OPEN_ITEM_STATUSES))) or 0
    return status_message(review_id=review.id, title=review.title, workflow=workflow,
                          owner_id=review.owner_id, status=review.status,
                          current=review.current_stage, done=answered, open_items=open_items)


def refresh_status(rt: Runtime, review_id: int, *, post_summary: bool = False) -> None:
    """Post the status message if it has none yet, else update it in place."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return
        message = _render(session, review)
        channel, ts = review.channel_id, review.message_ts
        summary = (summary_blocks(workflow_of(review), review.title,
                                  store.latest_answers(session, review.id),
                                  templates_dir=rt.settings.templates_dir)
                   if post_summary else None)
    try:
        if ts:
            rt.client.chat_update(channel=channel, ts=ts, **message)
        else:
            posted = rt.client.chat_postMessage(channel=channel, **message)
            ts = posted["ts"]
            permalink = rt.client.chat_getPermalink(channel=posted["channel"], message_ts=ts)
            with transaction(rt.sessions) as session:
                review = store.get_review(session, review_id)
                store.set_message(session, review, posted["channel"], ts)
                review.permalink = permalink.get("permalink")
        if summary:
            rt.client.chat_postMessage(channel=channel, thread_ts=ts, **summary)
    except SlackApiError as exc:
        log.error("could not update the message of review %s: %s", review_id,
                  exc.response.get("error"))
        raise


def post_invoice(rt: Runtime, review_id: int, context: RuleContext) -> None:
    """The final tax invoice, in the thread of the review's message."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        workflow = workflow_of(review)
        answers = store.latest_answers(session, review.id)
        stage = next((s for s in workflow.stages if "tax_invoice" in s.rules), None)
        if stage is None or stage.key not in answers:
            return
        message = invoice_message(invoice_from(answers[stage.key], context),
                                  rt.settings.templates_dir)
        channel, ts = review.channel_id, review.message_ts
    rt.client.chat_postMessage(channel=channel, thread_ts=ts, **message)

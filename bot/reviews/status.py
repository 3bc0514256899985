"""Posting and refreshing a review's channel message, and its thread summary.

Called after ack(): the user's answers are already saved, so a Slack failure here is logged and
repaired by the next refresh (every refresh re-renders the whole message from the database).
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.features import StageSaved
from bot.reviews.escalation import escalate_new, who_was_told
from bot.reviews.service import workflow_of
from bot.reviews.views.answers import summary_blocks
from bot.reviews.views.review_message import sent_back_text, status_message
from bot.runtime import Runtime
from bot.slack.text import day_label
from storage import reviews as store
from storage.db import transaction
from storage.models import ActionItem, Review
from storage.types import utcnow
from workflows.engine import sent_back
from workflows.model import Workflow
from workflows.reports import report_stage

log = logging.getLogger(__name__)


def sent_back_note(session: Session, review: Review, tz: str) -> str | None:
    """Why the review's current stage is open again (mrkdwn), or None when it moved forward."""
    move = store.last_move(session, review.id)
    if move is None or move.to_stage != review.current_stage:
        return None
    back = sent_back(workflow_of(review), move.from_stage, move.to_stage, move.answers)
    if back is None:
        return None
    zone = ZoneInfo(tz)
    return sent_back_text(back, move.by, day_label(move.at.astimezone(zone).date(),
                                                   utcnow().astimezone(zone).date()))


def _render(session: Session, review: Review, tz: str = "UTC",
            current: Workflow | None = None) -> dict[str, Any]:
    """The status message from the database; `current` is today's definition of the workflow
    (settings such as `consumer_guarantees` follow it, not the pinned copy)."""
    workflow = workflow_of(review)
    answered = set(store.latest_answers(session, review.id))
    open_items = session.scalar(select(func.count(ActionItem.id)).where(
        ActionItem.review_id == review.id,
        ActionItem.status.in_(store.OPEN_ITEM_STATUSES))) or 0
    return status_message(review_id=review.id, title=review.title, workflow=workflow,
                          owner_id=review.owner_id, status=review.status,
                          current=review.current_stage, done=answered, open_items=open_items,
                          sent_back=sent_back_note(session, review, tz),
                          escalated=who_was_told(session, review),
                          consumer_guarantees=(current or workflow).consumer_guarantees)


def refresh_status(rt: Runtime, review_id: int, *, post_summary: bool = False) -> None:
    """Post the status message if it has none yet, else update it in place."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return
        workflow = workflow_of(review)
        known = workflow.key in rt.registry
        current = rt.registry[workflow.key] if known else workflow
        message = _render(session, review, rt.settings.timezone, current)
        channel, ts = review.channel_id, review.message_ts
        # A workflow with a report posts that (bot/knowledge) as the thread's one reply.
        post_summary = post_summary and report_stage(workflow) is None
        summary = (summary_blocks(workflow_of(review), review.title,
                                  store.latest_answers(session, review.id),
                                  passes=store.passes(session, review.id),
                                  today=utcnow().astimezone(ZoneInfo(rt.settings.timezone)).date())
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



def after_stage(rt: Runtime, saved: StageSaved) -> None:
    """The status message follows every saved stage; the summary is posted once, at the end."""
    transition = saved.result.transition
    try:  # before the refresh, so the message says who was told
        escalate_new(rt, saved.review_id, saved.user_id)
    except Exception:
        log.exception("escalating the systemic issues of review %s failed", saved.review_id)
    finished = bool(transition and transition.complete) and not saved.result.edited
    refresh_status(rt, saved.review_id, post_summary=finished)

"""Posting and refreshing a review's channel message, and its thread summary.

Delivered from the outbox (`reviews.status` effects) after the change is committed: a Slack
failure is retried, and every refresh re-renders the whole message from the database.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.features import SideEffect, StageSaved, payload_int
from bot.reviews.escalation import escalate_new, who_was_told
from bot.reviews.service import workflow_of
from bot.reviews.views.answers import summary_blocks
from bot.reviews.views.review_message import sent_back_text, status_message, tasks_text
from bot.runtime import Runtime
from bot.slack import posted
from bot.slack.text import day_text, escape
from storage import assignments, participants
from storage import reviews as store
from storage import surveys as survey_store
from storage.db import reading, transaction
from storage.models import ActionItem, Review
from storage.outbox import Claimed
from storage.trackers import described_answers, review_tasks
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
    return sent_back_text(
        back, move.by, day_text(move.at.astimezone(zone).date(), utcnow().astimezone(zone).date())
    )


def _render(
    session: Session, review: Review, tz: str = "UTC", current: Workflow | None = None
) -> dict[str, Any]:
    """The status message from the database; `current` is today's definition of the workflow
    (settings such as `consumer_guarantees` follow it, not the pinned copy)."""
    workflow = workflow_of(review)
    answered = set(store.latest_answers(session, review.id))
    open_items = (
        session.scalar(
            select(func.count(ActionItem.id)).where(
                ActionItem.review_id == review.id, ActionItem.status.in_(store.OPEN_ITEM_STATUSES)
            )
        )
        or 0
    )
    return status_message(
        review_id=review.id,
        title=review.title,
        workflow=workflow,
        owner_id=review.owner_id,
        status=review.status,
        current=review.current_stage,
        done=answered,
        open_items=open_items,
        sent_back=sent_back_note(session, review, tz),
        escalated=who_was_told(session, review),
        consumer_guarantees=(current or workflow).consumer_guarantees,
        participants=participants.user_ids(session, review.id, participants.PARTICIPANT),
        waiting_on=assignments.assignee(session, review.id, review.current_stage),
        survey=survey_line(session, review),
        send_survey=survey_sendable(session, review, workflow),
        tasks=tasks_text(review_tasks(session, review.id)),
    )


def survey_sendable(session: Session, review: Review, workflow: Workflow) -> bool:
    """The current stage has a survey that has not closed (sending again asks newcomers)."""
    if not review.current_stage or workflow.stage(review.current_stage).survey is None:
        return False
    survey = survey_store.find(session, review.id, review.current_stage)
    return survey is None or survey.closes_at > utcnow()


def survey_line(session: Session, review: Review) -> str | None:
    """ "Survey: 5 of 8 answered" once the review's feedback survey went out."""
    progress = survey_store.progress(session, review.id)
    if progress is None:
        return None
    closed = " · closed" if progress.closes_at <= utcnow() else ""
    return f":memo: Survey: {progress.answered} of {progress.asked} answered{closed}"


STATUS_EVENT = "postmortem_review"
SUMMARY_EVENT = "postmortem_summary"


def refresh_status(
    rt: Runtime, review_id: int, *, post_summary: bool = False, retrying: bool = False
) -> None:
    """Post the status message if it has none yet, else update it in place.

    Every refresh renders the whole message from the database, so however many refreshes failed
    before, the one that succeeds shows the review's true state. When `retrying`, a message or
    summary that Slack accepted before an interruption is found by its metadata, not re-posted.
    """
    with reading(rt.sessions) as session:  # on SQLite, acks need not wait while it renders
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
        started = review.created_at.timestamp() - 60  # it cannot be older (give clocks a minute)
        summary = (
            summary_blocks(
                workflow_of(review),
                review.title,
                # tasks named in answers, as their tracker describes them (bot/trackers)
                described_answers(session, review.id, store.latest_answers(session, review.id)),
                templates_dir=rt.settings.templates_dir,
                passes=store.passes(session, review.id),
                today=utcnow().astimezone(ZoneInfo(rt.settings.timezone)).date(),
            )
            if post_summary
            else None
        )
    if not ts and retrying:
        where = _conversation(rt, channel)
        ts = posted.find(rt.client, where, STATUS_EVENT, oldest=started, review_id=review_id)
        if ts:
            channel = where
            _record_message(rt, review_id, channel, ts)
    if ts:
        rt.client.chat_update(channel=channel, ts=ts, **message)
    else:
        reply = rt.client.chat_postMessage(
            channel=channel, metadata=posted.metadata(STATUS_EVENT, review_id=review_id), **message
        )
        ts, channel = str(reply["ts"]), str(reply["channel"])
        _record_message(rt, review_id, channel, ts)
    if summary and not (
        retrying
        and posted.find(rt.client, channel, SUMMARY_EVENT, thread_ts=ts, review_id=review_id)
    ):
        rt.client.chat_postMessage(
            channel=channel,
            thread_ts=ts,
            metadata=posted.metadata(SUMMARY_EVENT, review_id=review_id),
            **summary,
        )


def _conversation(rt: Runtime, channel: str) -> str:
    """The conversation id to read or update: a review posted to its owner's DM names the user
    (U…), which only chat.postMessage accepts; Slack answers channel_not_found elsewhere."""
    if channel.startswith(("U", "W")):
        return str(rt.client.conversations_open(users=channel)["channel"]["id"])
    return channel


def _record_message(rt: Runtime, review_id: int, channel: str, ts: str) -> None:
    permalink = rt.client.chat_getPermalink(channel=channel, message_ts=ts)
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is not None:
            store.set_message(session, review, channel, ts)
            review.permalink = permalink.get("permalink")


def status_effect(
    review_id: int, *, summary: bool = False, starter: str | None = None
) -> SideEffect:
    """Refresh the status message; refreshes of one review are delivered in order."""
    payload: dict[str, object] = {"review_id": review_id, "summary": summary}
    if starter:
        payload["starter"] = starter
    return SideEffect("reviews.status", payload, group=status_group(review_id))


def status_group(review_id: int) -> str:
    """Effects that need the status message to exist (thread replies) share its group."""
    return f"review:{review_id}:status"


CANNOT_POST = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


def deliver_status(rt: Runtime, effect: Claimed) -> None:
    """The `reviews.status` effect. A channel the bot cannot post in is told to the starter."""
    review_id = payload_int(effect.payload, "review_id")
    try:
        refresh_status(
            rt,
            review_id,
            post_summary=bool(effect.payload.get("summary")),
            retrying=effect.attempt > 1,
        )
    except SlackApiError as exc:
        starter = effect.payload.get("starter")
        error = exc.response.get("error")
        if not starter or error not in CANNOT_POST:
            raise
        with transaction(rt.sessions) as session:
            review = store.get_review(session, review_id)
            title, channel = (review.title, review.channel_id) if review else ("", "")
        rt.client.chat_postMessage(
            channel=str(starter),
            text=(
                f"Your review “{escape(title)}” is saved, but I couldn't post in <#{channel}> "
                f"({escape(str(error))}). Invite me with `/invite` there, or use "
                "`/postmortem list` to continue it."
            ),
        )


def after_stage(saved: StageSaved) -> list[SideEffect]:
    """The status message follows every saved stage; a new systemic issue is escalated first,
    so the refreshed message says who was told; the summary is posted once, at the end."""
    transition = saved.result.transition
    finished = bool(transition and transition.complete) and not saved.result.edited
    escalate = SideEffect(
        "reviews.escalate",
        {"review_id": saved.review_id, "actor": saved.user_id},
        group=status_group(saved.review_id),
    )
    return [escalate, status_effect(saved.review_id, summary=finished)]


def deliver_escalation(rt: Runtime, effect: Claimed) -> None:
    """The `reviews.escalate` effect: escalate_new claims before it sends, so retries are safe."""
    escalate_new(rt, payload_int(effect.payload, "review_id"), str(effect.payload.get("actor")))

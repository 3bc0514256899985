"""Lessons learned that come back when they matter: the report, its knowledge base entry, and
similar past lessons for a review that just started.

Called after ack(): answers are saved already. The report is rebuilt after every later stage too
(action items arrive after the lessons in a campaign review; an edited stage changes it), and its
thread message is updated in place only when what it says changed.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.features import SideEffect, StageSaved, payload_int
from bot.knowledge.views import render, report_message, similar_message
from bot.reviews.service import workflow_of
from bot.reviews.status import status_group
from bot.runtime import Runtime
from bot.slack import posted
from storage import knowledge as kb
from storage import participants
from storage import reviews as store
from storage import surveys as survey_store
from storage.db import transaction
from storage.models import Review
from storage.outbox import Claimed
from storage.trackers import described_answers
from storage.types import utcnow
from workflows.model import Workflow
from workflows.reports import ReportData, SurveyTally, build, report_stage, similar_words

log = logging.getLogger(__name__)


def report_data(session: Session, review: Review) -> ReportData | None:
    """The review's report, or None until its lessons-learned stage is submitted."""
    workflow = workflow_of(review)
    stage = report_stage(workflow)
    # tasks named in answers, as their tracker describes them (bot/trackers)
    answers = described_answers(session, review.id, store.latest_answers(session, review.id))
    if stage is None or stage.key not in answers:
        return None
    items = [
        {
            "title": i.title,
            "owner": i.owner_id,
            "status": i.status,
            "due_date": i.due_date.isoformat() if i.due_date else None,
            "tracking_link": i.tracking_link,
        }
        for i in review.action_items
        if i.status != "cancelled"
    ]
    return build(
        workflow,
        review.title,
        answers,
        items,
        improvements_confirmed_by=review.improvements_confirmed_by
        if review.improvements_confirmed_at
        else None,
        passes=store.passes(session, review.id),
        participants=tuple(participants.user_ids(session, review.id, participants.PARTICIPANT)),
        survey=survey_tally(session, review.id),
    )


def survey_tally(session: Session, review_id: int) -> SurveyTally | None:
    """The review's survey counted for the report: answers (anonymous ones among them, by
    number only) of the people asked; None when no survey was sent."""
    survey = survey_store.find(session, review_id)
    progress = survey_store.progress(session, review_id)
    if survey is None or progress is None:
        return None
    anonymous = sum(1 for r in survey_store.responses(session, survey.id) if r.anonymous)
    return SurveyTally(progress.answered, progress.asked, anonymous)


def entry_values(report: ReportData, markdown: str) -> dict[str, Any]:
    s = report.section
    body = "\n\n".join(
        x for x in (s("impact"), s("went_well"), s("went_wrong"), s("resolution")) if x
    )
    return {
        "workflow_key": report.workflow_key,
        "title": report.title,
        "summary": s("summary"),
        "lessons": s("lessons"),
        "root_causes": "\n\n".join(x for x in (s("root_causes"), s("escalated")) if x),
        "recommendations": s("recommendations"),
        "body": body,
        "tags": list(report.tags),
        "category": report.category,
        "product": report.product,
        "team": report.team,
        "share_at_meeting": report.share_at_meeting,
        "report_md": markdown,
    }


def refresh_report(
    rt: Runtime, review_id: int, *, actor: str | None, retrying: bool = False
) -> bool:
    """Build or rebuild the report and its knowledge base entry; post or update it in the thread.

    True when the thread's report message was posted or changed. `actor` is who changed the
    answers (recorded in the audit trail); None when the report only follows other state, such
    as an action item's status, whose change is audited where it happens. A Slack error
    propagates (the outbox retries it); when `retrying`, a report Slack already has is found by
    its metadata.
    """
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        report = report_data(session, review) if review else None
        if review is None or report is None:
            return False
        mrkdwn = render(
            report,
            "mrkdwn",
            templates_dir=rt.settings.templates_dir,
            today=utcnow().astimezone(ZoneInfo(rt.settings.timezone)).date(),
        )
        markdown = render(report, "md", templates_dir=rt.settings.templates_dir)
        entry, created = kb.upsert_entry(
            session,
            workspace_id=review.workspace_id,
            review_id=review.id,
            **entry_values(report, markdown),
        )
        digest = hashlib.sha256(mrkdwn.encode()).hexdigest()
        if entry.report_ts and entry.report_hash == digest:
            return False
        if created or entry.report_hash is None:
            store.audit(
                session,
                review.workspace_id,
                actor or review.owner_id,
                "knowledge.created",
                review.id,
                entry=entry.id,
                tags=list(report.tags),
            )
        elif actor is not None:
            store.audit(
                session,
                review.workspace_id,
                actor,
                "knowledge.updated",
                review.id,
                entry=entry.id,
                revision=entry.revision,
            )
        channel, thread, old_ts, entry_id = (
            review.channel_id,
            review.message_ts,
            entry.report_ts,
            entry.id,
        )
        title = review.title
    if thread is None:
        return False  # no status message to thread under yet: the next refresh posts it
    message = report_message(title, mrkdwn, review_id=review_id)
    if not old_ts and retrying:
        old_ts = posted.find(
            rt.client, channel, REPORT_EVENT, thread_ts=thread, review_id=review_id
        )
    if old_ts:
        rt.client.chat_update(channel=channel, ts=old_ts, **message)
        ts = old_ts
    else:
        ts = rt.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            metadata=posted.metadata(REPORT_EVENT, review_id=review_id),
            **message,
        )["ts"]
    with transaction(rt.sessions) as session:
        saved = session.get(kb.KnowledgeEntry, entry_id)
        if saved is not None:
            saved.report_ts, saved.report_hash = ts, digest
    return True


REPORT_EVENT = "postmortem_report"


def refresh_review_messages(rt: Runtime, review_id: int) -> bool:
    """Bring the review's report in its thread up to date with the database; True if it changed.

    Safe after any change to the review's action items or improvements (and to call twice): the
    report is rebuilt from what is stored now, the thread message is updated in place and only
    when its text changed, nothing is posted before the report stage is submitted, and a Slack
    failure is logged (the next refresh repairs it). Without this, a report posted when its
    items were open keeps saying "(open)" after they are done.
    """
    try:
        return refresh_report(rt, review_id, actor=None)
    except SlackApiError as exc:
        log.warning(
            "could not refresh the report of review %s: %s", review_id, exc.response.get("error")
        )
        return False


def hit_lines(
    session: Session, rt: Runtime, hits: list[kb.Hit], words: list[str] | tuple[str, ...]
) -> list[tuple[str, str, str | None, str]]:
    """(title, snippet, permalink, workflow name) for each hit."""
    lines = []
    for hit in hits:
        review = session.get(Review, hit.entry.review_id)
        key = hit.entry.workflow_key
        name = rt.registry[key].name if key in rt.registry else key.replace("_", " ").capitalize()
        lines.append(
            (
                hit.entry.title,
                kb.snippet(hit.entry, words),
                review.permalink if review else None,
                name,
            )
        )
    return lines


SIMILAR_EVENT = "postmortem_similar"
LOST_THREAD = frozenset({"channel_not_found", "not_in_channel", "is_archived", "thread_not_found"})


def suggest_similar(rt: Runtime, review_id: int, *, retrying: bool = False) -> int:
    """Post up to three similar past lessons in a new review's thread; how many were shown.

    When `retrying` (an earlier attempt may have reached Slack before it was interrupted), the
    thread is searched for the suggestion's metadata first, so it is never posted twice. A Slack
    outage raises (the outbox retries); a thread the bot can no longer post in is skipped."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None or review.message_ts is None:
            return 0
        words = similar_words(review.title)
        if not words:
            return 0
        hits = kb.similar(session, review.workspace_id, words, exclude_review=review.id, limit=3)
        lines = hit_lines(session, rt, hits, words)
        channel, thread = review.channel_id, review.message_ts
    if not lines:
        return 0
    try:
        if retrying and posted.find(
            rt.client, channel, SIMILAR_EVENT, thread_ts=thread, review_id=review_id
        ):
            return len(lines)
        rt.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            metadata=posted.metadata(SIMILAR_EVENT, review_id=review_id),
            **similar_message(lines),
        )
    except SlackApiError as exc:
        if exc.response.get("error") not in LOST_THREAD:
            raise
        log.warning(
            "could not suggest lessons for review %s: %s", review_id, exc.response.get("error")
        )
        return 0
    return len(lines)


def after_stage(saved: StageSaved) -> list[SideEffect]:
    """The report and knowledge base entry follow every saved stage (after the status message)."""
    return [
        SideEffect(
            "knowledge.report",
            {"review_id": saved.review_id, "actor": saved.user_id},
            group=status_group(saved.review_id),
        )
    ]


def after_start(review_id: int, workflow: Workflow | None) -> list[SideEffect]:
    """Similar past lessons in the new review's thread, once its status message is posted
    (whether there are any is the database's to say: recorded for every workflow)."""
    return [
        SideEffect("knowledge.similar", {"review_id": review_id}, group=status_group(review_id))
    ]


def deliver_report(rt: Runtime, effect: Claimed) -> None:
    refresh_report(
        rt,
        payload_int(effect.payload, "review_id"),
        actor=str(effect.payload.get("actor") or ""),
        retrying=effect.attempt > 1,
    )


def deliver_similar(rt: Runtime, effect: Claimed) -> None:
    suggest_similar(rt, payload_int(effect.payload, "review_id"), retrying=effect.attempt > 1)

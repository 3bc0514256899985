"""`tracker_task` answers (the support workflow's related task), looked up in the tracker.

The form only checks that the text looks like a task (workflows/tasks.py), because Slack needs
its answer within three seconds. After the stage is saved, the bot looks each reference up in
the configured tracker and replies in the review's thread with the task's title and status, or,
when there is no such task, a warning that names the person who entered it: a soft check that
never refuses the stage.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.features import SideEffect, StageSaved, payload_int
from bot.reviews.service import workflow_of
from bot.reviews.status import status_group
from bot.runtime import Runtime
from bot.slack import posted
from bot.slack.text import clip, escape, link, mention
from bot.trackers.base import Task, Tracker
from bot.trackers.service import tracker_of
from storage import reviews as store
from storage.db import transaction
from storage.outbox import Claimed
from storage.trackers import TRACKER_NAMES
from workflows.model import FieldType
from workflows.tasks import parse_task_reference

KIND = "trackers.references"
EVENT = "postmortem_task_references"


def after_stage(saved: StageSaved) -> list[SideEffect]:
    """Look the stage's task references up, if it has any (after the status message)."""
    answers = saved.result.answers
    if not any(isinstance(v, str) and parse_task_reference(v) for v in answers.values()):
        return []
    return [
        SideEffect(
            KIND,
            {"review_id": saved.review_id, "stage_key": saved.stage_key, "user_id": saved.user_id},
            group=status_group(saved.review_id),
        )
    ]


def describe(tracker: Tracker, label: str, text: str, user_id: str) -> str:
    """One line: the task's title and status, or why it could not be found."""
    name = TRACKER_NAMES.get(tracker.name, tracker.name)
    task_id = tracker.parse_reference(text)
    task: Task | None = tracker.get(task_id) if task_id else None
    if task is None:
        return (
            f":warning: *{escape(label)}*: “{escape(clip(text, 150))}” is not a task I can "
            f"find in {name}. {mention(user_id)}, please check it (Edit a stage)."
        )
    where = (
        link(task.url, f"{name} {task.reference}")
        if task.url.startswith(("https://", "http://")) and not set(task.url) & set("<>| ")
        else escape(f"{name} {task.reference}")
    )
    state = "closed" if task.closed else task.status or "open"
    return f"*{escape(label)}*: {where} “{escape(clip(task.title, 150))}” · Status: {escape(state)}"


def deliver(rt: Runtime, effect: Claimed) -> None:
    """`trackers.references`: one thread reply describing each task reference of the stage."""
    tracker = tracker_of(rt)
    if tracker is None:
        return
    review_id = payload_int(effect.payload, "review_id")
    stage_key, user_id = str(effect.payload.get("stage_key")), str(effect.payload.get("user_id"))
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None or not review.message_ts:
            return
        stage = workflow_of(review).stage(stage_key)
        answers: dict[str, Any] = store.latest_answers(session, review_id).get(stage_key) or {}
        channel, ts = review.channel_id, review.message_ts
    fields = [
        (f.label, str(answers[f.key]))
        for f in stage.fields
        if f.type == FieldType.TRACKER_TASK and answers.get(f.key)
    ]
    if not fields:
        return
    lines = [describe(tracker, label, text, user_id) for label, text in fields]
    if effect.attempt > 1 and posted.find(
        rt.client, channel, EVENT, thread_ts=ts, review_id=review_id, stage=stage_key
    ):
        return
    rt.client.chat_postMessage(
        channel=channel,
        thread_ts=ts,
        text=clip("\n".join(lines), 3000),
        metadata=posted.metadata(EVENT, review_id=review_id, stage=stage_key),
    )
    logging.getLogger(__name__).info(
        "review %s: %d task reference(s) described", review_id, len(lines)
    )

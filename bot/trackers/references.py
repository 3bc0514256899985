"""`tracker_task` answers (the support workflow's related task), looked up in the tracker.

The form only checks that the text looks like a task (workflows/tasks.py), because Slack needs
its answer within three seconds. After the stage is saved, the bot looks each reference up in
the configured tracker and keeps what it says (storage/trackers.py, `tracker_references`): the
review's status message, summary and report show the task's title, status and link. A task the
tracker does not have is a warning in the thread that names the person who entered it: a soft
check that never refuses the stage.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.delivery.service import record
from bot.features import SideEffect, StageSaved, payload_int
from bot.reviews.service import workflow_of
from bot.reviews.status import status_effect, status_group
from bot.runtime import Runtime
from bot.slack import posted
from bot.slack.text import clip, escape, mention
from bot.trackers import settings as tracker_settings
from bot.trackers.base import Task, Tracker
from bot.trackers.service import tracker_of
from storage import reviews as store
from storage import trackers as tracker_store
from storage.db import transaction
from storage.outbox import Claimed
from storage.trackers import TRACKER_NAMES, Described
from workflows.model import FieldType
from workflows.tasks import parse_task_reference

KIND = "trackers.references"
REPORT = "knowledge.report"  # bot/knowledge redraws the report (its effect, by name: no import)
EVENT = "postmortem_task_references"


def after_stage(saved: StageSaved) -> list[SideEffect]:
    """Look the stage's task references up, if it has any (after the status message)."""
    answers = saved.result.answers
    if not any(isinstance(v, str) and parse_task_reference(v) for v in answers.values()):
        return []
    if saved.rt is not None and tracker_settings.current(saved.rt, saved.session) is None:
        return []  # no tracker to ask: nothing is recorded
    return [
        SideEffect(
            KIND,
            {"review_id": saved.review_id, "stage_key": saved.stage_key, "user_id": saved.user_id},
            group=status_group(saved.review_id),
        )
    ]


def look_up(tracker: Tracker, text: str) -> Described:
    """What the tracker says about the task a person named (not found: `found` is False)."""
    task_id = tracker.parse_reference(text)
    task: Task | None = tracker.get(task_id) if task_id else None
    if task is None:
        return Described(tracker.name, text, found=False)
    url = task.url if task.url.startswith(("https://", "http://")) else None
    if url and set(url) & set("<>| "):
        url = None  # never a link Slack would cut short
    return Described(
        tracker.name,
        text,
        found=True,
        reference=task.reference,
        url=url,
        title=task.title,
        status=task.status,
        closed=task.closed,
    )


def warning(described: Described, label: str, user_id: str) -> str:
    """The thread's one line about a task the tracker does not have (the stage is kept)."""
    name = TRACKER_NAMES.get(described.tracker, described.tracker)
    return (
        f":warning: *{escape(label)}*: “{escape(clip(described.text, 150))}” is not a task I can "
        f"find in {name}. {mention(user_id)}, please check it (Edit a stage)."
    )


def deliver(rt: Runtime, effect: Claimed) -> None:
    """`trackers.references`: look each task up and keep what the tracker says, so the status
    message, the summary and the report show its title, status and link (they are refreshed
    here); a task the tracker does not have is one warning in the thread."""
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
        (f.key, f.label, str(answers[f.key]))
        for f in stage.fields
        if f.type == FieldType.TRACKER_TASK and answers.get(f.key)
    ]
    if not fields:
        return
    found = [(key, label, look_up(tracker, text)) for key, label, text in fields]
    with transaction(rt.sessions) as session:
        for key, _, described in found:
            tracker_store.save_reference(session, review_id, stage_key, key, described)
        record(
            session,
            [
                status_effect(review_id),
                # the report, where the workflow has one, is redrawn (only if it changed)
                SideEffect(
                    REPORT,
                    {"review_id": review_id, "actor": user_id},
                    group=status_group(review_id),
                ),
            ],
        )
    rt.delivery_due.set()
    missing = [warning(d, label, user_id) for _, label, d in found if not d.found]
    logging.getLogger(__name__).info(
        "review %s: %d task reference(s) looked up, %d not found",
        review_id,
        len(found),
        len(missing),
    )
    if not missing:
        return
    if effect.attempt > 1 and posted.find(
        rt.client, channel, EVENT, thread_ts=ts, review_id=review_id, stage=stage_key
    ):
        return
    rt.client.chat_postMessage(
        channel=channel,
        thread_ts=ts,
        text=clip("\n".join(missing), 3000),
        metadata=posted.metadata(EVENT, review_id=review_id, stage=stage_key),
    )

"""A `tracker_task` answer is looked up after the stage is saved: the review's status message and
report show the task's title, status and link; a task the tracker does not have is a warning in
the thread naming the person who entered it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from trackers.conftest import FAKES, adapter_for
from trackers.fakes.server import FakeTracker

from bot.app import effect_handlers, review_hooks
from bot.config import load_settings
from bot.delivery.service import deliver_due, record
from bot.features import StageSaved
from bot.reviews import service
from bot.reviews.service import SubmitResult
from bot.reviews.status import status_effect
from bot.reviews.views.stage_modal import ModalMeta, stage_view
from bot.runtime import Runtime, build_runtime
from bot.trackers.base import NewTask
from sandbox.fake_slack import FakeSlack
from storage import reviews as store
from storage.db import transaction
from storage.trackers import described_answers
from storage.types import utcnow
from workflows.loader import Registry
from workflows.samples import sample_answers

ADMIN, BOB, CHANNEL = "U0ADMIN", "U0BOB", "C0REVIEWS"
SUPPORT = Registry.load()["support_postmortem"]


@pytest.fixture
def tracker(request: pytest.FixtureRequest) -> FakeTracker:
    server = FAKES[request.param]().start()
    yield server
    server.stop()


@dataclass
class Saved:
    rt: Runtime
    review_id: int
    ts: str

    def replies(self, slack: FakeSlack) -> list[str]:
        return [m["text"] for m in slack.thread(CHANNEL, self.ts)][1:]


def submit(rt: Runtime, review_id: int, stage_key: str, answers: dict, now: datetime) -> None:
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        store.record_submission(
            session,
            review,
            stage_key=stage_key,
            answers=answers,
            user_id=BOB,
            decisions={},
            follow_ups=[],
            next_stage="one_on_one",
            status="in_progress",
        )
        saved = StageSaved(review_id, stage_key, BOB, SubmitResult(answers=answers))
        record(session, review_hooks().stage_saved(saved))
    for second in range(1, 12):  # the effects of a review's thread are delivered in order
        deliver_due(rt, effect_handlers(), now + timedelta(seconds=second))


def saving(slack: FakeSlack, engine: Engine, tracker: FakeTracker, related: str) -> Saved:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            **tracker.env(),
        }
    )
    rt = build_runtime(settings, engine)
    now = utcnow() + timedelta(minutes=1)
    with transaction(rt.sessions) as session:
        review = service.start_review(
            session,
            SUPPORT,
            team_id="T0TEST",
            title="Kettle refund",
            channel_id=CHANNEL,
            owner_id=ADMIN,
            started_by=ADMIN,
        )
        record(session, [status_effect(review.id)])
        review_id = review.id
    deliver_due(rt, effect_handlers(), now)
    answers = {
        "action_point_needed": True,
        "action_items": [],
        "related_task": related,
        "missing_feature": False,
    }
    submit(rt, review_id, "action_items", answers, now)
    with rt.sessions() as session:
        ts = store.get_review(session, review_id).message_ts
    assert ts is not None
    return Saved(rt, review_id, ts)


@pytest.mark.parametrize("tracker", sorted(FAKES), indirect=True)
def test_a_related_task_shows_its_title_status_and_link_on_the_status_message_and_report(
    tracker: FakeTracker, slack: FakeSlack, engine: Engine
) -> None:
    task = adapter_for(tracker).create(
        NewTask(1, "Refund flow for kettles", "x", None, due=date(2026, 12, 4))
    )

    saved = saving(slack, engine, tracker, task.url)

    assert saved.replies(slack) == []  # no separate thread reply any more
    status = json.dumps(slack.message(CHANNEL, saved.ts)["blocks"])
    assert "Refund flow for kettles" in status and task.url in status and "Tasks:" in status
    # the report (this workflow's thread reply) writes the task out in place of the bare link
    report_stage = SUPPORT.stage("report")
    submit(saved.rt, saved.review_id, "report", sample_answers(report_stage), utcnow())
    [report] = slack.thread(CHANNEL, saved.ts)[1:]
    shown = json.dumps(report["blocks"])
    assert report["text"].startswith("Lessons learned")
    assert "Refund flow for kettles" in shown and "Status: " in shown and task.url in shown


@pytest.mark.parametrize("tracker", ["jira"], indirect=True)
def test_a_task_the_tracker_does_not_have_is_a_warning_not_a_refusal(
    tracker: FakeTracker, slack: FakeSlack, engine: Engine
) -> None:
    saved = saving(slack, engine, tracker, "PM-404")

    assert saved.replies(slack) == [
        ":warning: *Related task*: “PM-404” is not a task I can find in Jira. "
        "<@U0BOB>, please check it (Edit a stage)."
    ]
    with saved.rt.sessions() as session:
        answers = described_answers(
            session, saved.review_id, store.latest_answers(session, saved.review_id)
        )
    assert answers["action_items"]["related_task"] == "PM-404 (not found in Jira)"


def test_the_form_asks_for_the_task_as_plain_text() -> None:
    stage = SUPPORT.stage("action_items")
    view = stage_view(stage, title="Kettle refund", meta=ModalMeta(1, stage.key), values={})
    block = next(b for b in view["blocks"] if b.get("block_id", "").endswith("related_task"))
    assert block["element"]["type"] == "plain_text_input"
    assert "tracker" in block["hint"]["text"]

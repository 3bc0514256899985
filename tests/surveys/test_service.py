"""A survey that goes out when its stage opens, and the compiled answers of a large team in the
stage form (paged within Slack's limits)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from unittest.mock import MagicMock
from zoneinfo import ZoneInfo

from helpers.slack_unit import (
    ALICE,
    BOB,
    CHANNEL,
    fake_client,
    make_runtime,
    posted_with,
    save_stage,
    seed_review,
    view_submission,
)
from sqlalchemy import Engine, select

from bot.app import effect_handlers, review_hooks
from bot.delivery.service import deliver_due, record
from bot.reviews import listeners as review_listeners
from bot.reviews.views import stage_modal as sm
from bot.reviews.views.start_modal import start_view
from bot.surveys import service, views
from storage import participants
from storage import reviews as store
from storage import surveys as survey_store
from storage.db import transaction
from storage.models import Workspace
from storage.outbox import Effect
from storage.types import utcnow
from workflows.loader import BUILTIN_DIR, load_file
from workflows.surveys import Response, compile_into

RETRO = """\
key: retro
name: Sprint retro
description: A short retrospective.
stages:
  - key: notes
    name: Notes
    purpose: Write down what happened.
    fields:
      - {key: count, label: Answers, type: number, required: false}
      - {key: themes, label: Themes, type: long_text}
    survey:
      send: on_stage_open
      deadline_working_days: 2
      count_field: count
      themes_field: themes
      questions:
        - {key: good, label: "What went well?", type: long_text}
"""


def test_a_survey_sent_on_opening_goes_out_with_the_review(
    unit_engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "retro.yaml").write_text(RETRO)
    client: MagicMock = fake_client()
    rt = make_runtime(unit_engine, client, POSTMORTEM_WORKFLOWS_DIR=str(tmp_path))
    review_id = seed_review(rt, workflow="retro", title="Sprint 42")
    with transaction(rt.sessions) as session:
        participants.add(session, review_id, [BOB, "U0CAROL"], participants.PARTICIPANT, ALICE)
        record(session, service.after_start(review_id, rt.registry["retro"]))
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(seconds=1))  # opens, records asks
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(seconds=2))  # the DMs
    assert sorted(m["channel"] for m in posted_with(client, views.ASK_EVENT)) == [BOB, "U0CAROL"]
    with transaction(rt.sessions) as session:
        survey = survey_store.find(session, review_id)
        assert survey is not None and survey.sent_by == ALICE


def test_a_manual_survey_does_not_go_out_on_opening(unit_engine: Engine) -> None:
    client: MagicMock = fake_client()
    rt = make_runtime(unit_engine, client)
    review_id = seed_review(rt, workflow="campaign_postmortem")
    # Known from the definition: nothing to record.
    assert service.after_start(review_id, rt.registry["campaign_postmortem"]) == []
    with transaction(rt.sessions) as session:
        participants.add(session, review_id, [BOB], participants.PARTICIPANT, ALICE)
        # A caller without the definition records it: the delivery finds nothing to send.
        record(session, service.after_start(review_id, None))
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(seconds=1))
    with transaction(rt.sessions) as session:
        assert survey_store.find(session, review_id) is None


# Notes opens with a survey sent on opening, Wrap-up with one the owner sends.
LATER = """\
key: later_retro
name: Retro, survey later
description: A retrospective whose surveys come after the first stage.
stages:
  - key: intro
    name: Intro
    purpose: Say what the sprint was.
    fields:
      - {key: goal, label: Sprint goal, type: text}
  - key: notes
    name: Notes
    purpose: Write down what happened.
    fields:
      - {key: themes, label: Themes, type: long_text}
    survey:
      send: on_stage_open
      questions:
        - {key: good, label: "What went well?", type: long_text}
  - key: wrap_up
    name: Wrap-up
    purpose: Agree what changes.
    fields:
      - {key: changes, label: Changes, type: long_text}
    survey:
      questions:
        - {key: change, label: "What should change?", type: long_text}
"""


def test_a_stage_that_opens_a_survey_sent_on_opening_still_sends_it(
    unit_engine: Engine, tmp_path: Path
) -> None:
    """surveys.open is recorded only for the save that opens such a stage (not the next one,
    whose survey the owner sends), and its delivery asks the participants."""
    (tmp_path / "later_retro.yaml").write_text(LATER)
    client: MagicMock = fake_client()
    rt = make_runtime(unit_engine, client, POSTMORTEM_WORKFLOWS_DIR=str(tmp_path))
    review_id = seed_review(rt, workflow="later_retro")
    with transaction(rt.sessions) as session:
        participants.add(session, review_id, [BOB], participants.PARTICIPANT, ALICE)

    assert service.OPEN in save_stage(rt, review_id)  # intro: Notes opens
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(seconds=1))  # opens, records asks
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(seconds=2))  # the DM
    assert [m["channel"] for m in posted_with(client, views.ASK_EVENT)] == [BOB]
    assert service.OPEN not in save_stage(rt, review_id)  # notes: Wrap-up's survey is manual


def test_a_review_whose_first_stage_sends_a_survey_records_it_on_start(
    unit_engine: Engine, tmp_path: Path
) -> None:
    (tmp_path / "retro.yaml").write_text(RETRO)
    client: MagicMock = fake_client()
    rt = make_runtime(unit_engine, client, POSTMORTEM_WORKFLOWS_DIR=str(tmp_path))
    form = start_view(rt.registry.all(), user_id=ALICE, channel_id=CHANNEL)
    body, view = view_submission(form, {"workflow": "retro", "title": "Sprint 42"})
    ack = MagicMock(name="ack")

    review_listeners.start_submitted(
        ack=ack, body=body, view=view, client=client, rt=rt, hooks=review_hooks()
    )

    ack.assert_called_once_with()
    with transaction(rt.sessions) as session:
        kinds = list(session.scalars(select(Effect.kind).order_by(Effect.id)))
    assert service.OPEN in kinds


def test_hundreds_of_answers_page_within_slacks_limits() -> None:
    stage = load_file(BUILTIN_DIR / "campaign_postmortem.yaml").stage("data_gathering")
    responses = [
        Response(
            {
                "went_well": f"Answer number {n} about the subject lines " + "x" * 480,
                "went_wrong": f"The checkout page {n} " + "y" * 480,
                "idea": f"Load test {n} " + "z" * 480,
                "rating": "r3",
            },
            None if n % 2 else f"U{n:08d}",
        )
        for n in range(500)
    ]
    values = compile_into(stage, {}, responses)
    meta = sm.ModalMeta(1, stage.key)
    pages = sm.pages(stage, values, meta)
    assert len(pages) > 1
    for number in range(len(pages)):
        meta.page = number
        view = sm.stage_view(stage, title="Black Friday email", meta=meta, values=values)
        assert len(view["blocks"]) <= 100
        for block in view["blocks"]:
            for element in block.get("elements") or []:
                assert len(element.get("text", "")) <= 3000
    shown = "".join(str(b.to_dict()) for page in pages for b in page)
    assert "Answer number 0 about" in shown and "Load test 0 " in shown
    assert "<@U00000000>" in shown and "— _anonymous_" in shown
    # past eight blocks of answers a question says where the rest are
    assert "more: the review's Export has them all." in shown


def test_the_reminder_goes_at_the_workspaces_reminder_hour(unit_engine: Engine) -> None:
    """A workspace whose reminders go at 14:00 gets the survey reminder at 14:00, not 09:00."""
    client: MagicMock = fake_client()
    rt = make_runtime(unit_engine, client)
    review_id = seed_review(rt, workflow="campaign_postmortem")
    berlin = ZoneInfo("Europe/Berlin")
    sent_at = datetime(2026, 11, 30, 10, 0, tzinfo=berlin)  # a Monday
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        assert review is not None
        ws = session.get_one(Workspace, review.workspace_id)
        ws.settings = {**(ws.settings or {}), "reminders": {"hour": 14}}
        participants.add(session, review_id, [BOB], participants.PARTICIPANT, ALICE)
        stage = next(s for s in rt.registry["campaign_postmortem"].stages if s.survey)
        sent = service.send(
            session,
            review,
            stage,
            by=ALICE,
            tz="Europe/Berlin",
            state=rt.settings.state,
            now=sent_at,
        )
        assert sent.newly_asked == [BOB]
        survey = survey_store.find(session, review_id)
        assert survey is not None
        last_day = survey.remind_at.astimezone(berlin).date()
    at = datetime.combine(last_day, time(9, 0), tzinfo=berlin)
    assert service.sweep(rt, at).reminded == 0
    assert service.sweep(rt, at.replace(hour=13, minute=59)).reminded == 0
    assert service.sweep(rt, at.replace(hour=14)).reminded == 1

"""The survey listeners (bot/surveys/listeners.py), called directly with a mocked Slack.

Who may send it, who may answer it and until when, what an anonymous answer keeps, and what
the owner's status message says: each as the person would see it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock, patch

from helpers.slack_unit import (
    ADMIN,
    ALICE,
    BOB,
    CHANNEL,
    block_actions,
    button,
    opened_view,
    posted_with,
    seed_review,
    view_submission,
    view_text,
)
from sqlalchemy import select, text

from bot.app import effect_handlers
from bot.delivery.service import deliver_due
from bot.reviews.status import _render
from bot.reviews.views.review_message import SEND_SURVEY
from bot.runtime import Runtime
from bot.surveys import listeners, views
from storage import participants
from storage import reviews as store
from storage import surveys as survey_store
from storage.db import transaction
from storage.outbox import Effect
from storage.types import utcnow

CAROL, DAN = "U0CAROL", "U0DAN"
CAMPAIGN = "campaign_postmortem"
ANSWERS = {
    "f.went_well": "The subject lines",
    "f.went_wrong": "The checkout page was slow",
    "f.idea": "Load test the checkout page",
    "f.rating": "r4",
}


def campaign(rt: Runtime, people: tuple[str, ...] = (BOB, CAROL, DAN)) -> int:
    review_id = seed_review(rt, workflow=CAMPAIGN, title="Black Friday email")
    with transaction(rt.sessions) as session:
        participants.add(session, review_id, people, participants.PARTICIPANT, ALICE)
    return review_id


def send(rt: Runtime, client: MagicMock, ack: MagicMock, review_id: int, user: str = ALICE) -> dict:
    body = block_actions(button(SEND_SURVEY, str(review_id)), user=user, channel=CHANNEL)
    listeners.send_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    view = opened_view(client)
    client.views_open.reset_mock()
    return view


def survey_id(rt: Runtime, review_id: int) -> int:
    with transaction(rt.sessions) as session:
        survey = survey_store.find(session, review_id)
        assert survey is not None
        return survey.id


def answer_form(rt: Runtime, client: MagicMock, ack: MagicMock, sid: int, user: str) -> dict:
    body = block_actions(button(views.ANSWER, str(sid)), user=user, channel="D" + user[1:])
    listeners.answer_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    view = opened_view(client)
    client.views_open.reset_mock()
    return view


def submit(rt: Runtime, ack: MagicMock, view: dict, values: dict[str, Any], user: str) -> Any:
    body, submitted = view_submission(view, values, user=user)
    ack.reset_mock()
    listeners.answer_submitted(ack=ack, body=body, view=submitted, rt=rt)
    return ack.call_args


def test_only_the_owner_or_an_admin_sends_the_survey(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign(rt)
    refused = send(rt, client, ack, review_id, user=BOB)
    assert "Only the review's owner or an admin can send its survey." in view_text(refused)
    with transaction(rt.sessions) as session:
        assert survey_store.find(session, review_id) is None
    sent = send(rt, client, ack, review_id, user=ADMIN)
    assert "on its way to 3 participant(s)" in view_text(sent)


def test_sending_asks_each_participant_once_by_a_paced_dm(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign(rt)
    assert "on its way to 3 participant(s)" in view_text(send(rt, client, ack, review_id))
    again = send(rt, client, ack, review_id)
    assert "Every participant has the survey already" in view_text(again)
    with transaction(rt.sessions) as session:
        asks = list(session.scalars(select(Effect).where(Effect.kind == "surveys.ask")))
        assert sorted(e.payload["user_id"] for e in asks) == [BOB, CAROL, DAN]
        # each names its DM as its lane: the worker sends one at a time per conversation
        assert all(e.payload["channel"] == e.payload["user_id"] for e in asks)
    client.chat_postMessage.reset_mock()
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(seconds=1))
    dms = {m["channel"]: m for m in posted_with(client, views.ASK_EVENT)}
    assert set(dms) == {BOB, CAROL, DAN}
    assert "Black Friday email" in dms[BOB]["text"]
    buttons = [e for b in dms[BOB]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["text"]["text"], b["action_id"]) for b in buttons] == [("Answer", views.ANSWER)]


def test_a_review_without_participants_sends_nothing(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign(rt, people=())
    assert "no participants yet" in view_text(send(rt, client, ack, review_id))


def test_only_participants_answer(rt: Runtime, client: MagicMock, ack: MagicMock) -> None:
    review_id = campaign(rt)
    send(rt, client, ack, review_id)
    sid = survey_id(rt, review_id)
    stranger = answer_form(rt, client, ack, sid, "U0EVE")
    assert "Only the participants of “Black Friday email” can answer" in view_text(stranger)
    form = answer_form(rt, client, ack, sid, BOB)
    # Bob was removed from the review while the form was open: his submission is refused.
    with transaction(rt.sessions) as session:
        participants.remove(session, review_id, BOB)
    reply = submit(rt, ack, form, ANSWERS, BOB)
    assert reply.kwargs["response_action"] == "update"
    assert "Only the participants" in view_text(reply.kwargs["view"])
    with transaction(rt.sessions) as session:
        assert survey_store.answered_count(session, sid) == 0


def test_an_anonymous_answer_keeps_no_name_and_can_be_edited(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign(rt)
    send(rt, client, ack, review_id)
    sid = survey_id(rt, review_id)
    form = answer_form(rt, client, ack, sid, CAROL)
    assert "Answer anonymously" in view_text(form)
    reply = submit(rt, ack, form, {**ANSWERS, views.ANON_BLOCK: [views.ANON_VALUE]}, CAROL)
    assert "saved anonymously" in view_text(reply.kwargs["view"])
    with transaction(rt.sessions) as session:
        rows = session.execute(text("SELECT * FROM survey_responses")).all()
    assert len(rows) == 1 and CAROL not in repr(tuple(rows[0]))
    # Carol opens it again: her answer is there, still anonymous; she changes it.
    again = answer_form(rt, client, ack, sid, CAROL)
    state = {b["block_id"]: b for b in again["blocks"] if b["type"] == "input"}
    assert state["f.went_wrong"]["element"]["initial_value"] == "The checkout page was slow"
    assert state[views.ANON_BLOCK]["element"]["initial_options"][0]["value"] == views.ANON_VALUE
    submit(
        rt, ack, again, {"f.idea": "Cache the cart", views.ANON_BLOCK: [views.ANON_VALUE]}, CAROL
    )
    with transaction(rt.sessions) as session:
        responses = survey_store.responses(session, sid)
        assert [(r.user_id, r.answers["idea"]) for r in responses] == [(None, "Cache the cart")]
        review = store.get_review(session, review_id)
        assert review is not None
        message = _render(session, review)
    assert "Survey: 1 of 3 answered" in view_text(message)


def test_a_missing_answer_is_shown_next_to_its_question(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign(rt)
    send(rt, client, ack, review_id)
    form = answer_form(rt, client, ack, survey_id(rt, review_id), BOB)
    reply = submit(rt, ack, form, {k: v for k, v in ANSWERS.items() if k != "f.idea"}, BOB)
    assert reply.kwargs["response_action"] == "errors"
    assert set(reply.kwargs["errors"]) == {"f.idea"}


def test_after_the_deadline_the_survey_says_it_is_closed(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign(rt)
    send(rt, client, ack, review_id)
    sid = survey_id(rt, review_id)
    form = answer_form(rt, client, ack, sid, BOB)
    later = utcnow() + timedelta(days=30)
    with patch.object(listeners, "utcnow", return_value=later):
        closed = answer_form(rt, client, ack, sid, BOB)
        reply = submit(rt, ack, form, ANSWERS, BOB)
    assert "closed at the end of" in view_text(closed)
    assert "can no longer be given or changed" in view_text(reply.kwargs["view"])
    with transaction(rt.sessions) as session:
        assert survey_store.answered_count(session, sid) == 0


def test_send_survey_is_offered_only_while_the_current_stage_has_an_open_survey(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    support = seed_review(rt)  # the support workflow declares no survey
    review_id = campaign(rt)

    def menu_of(review: int, now: Any = None) -> str:
        with transaction(rt.sessions) as session:
            row = store.get_review(session, review)
            assert row is not None
            if now is None:
                return str(_render(session, row)["blocks"])
            with patch("bot.reviews.status.utcnow", return_value=now):
                return str(_render(session, row)["blocks"])

    assert "Send survey" not in menu_of(support)
    assert "Send survey" in menu_of(review_id)
    send(rt, client, ack, review_id)
    assert "Survey: 0 of 3 answered" in menu_of(review_id)
    closed = menu_of(review_id, utcnow() + timedelta(days=30))
    assert "Send survey" not in closed and "Survey: 0 of 3 answered · closed" in closed


def test_five_hundred_participants_are_five_hundred_queued_dms(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    people = tuple(f"U{n:08d}" for n in range(500))
    review_id = campaign(rt, people=people)
    assert "on its way to 500 participant(s)" in view_text(send(rt, client, ack, review_id))
    # Nothing was posted in the click's request: the DMs wait in the outbox for the paced worker.
    assert client.chat_postMessage.call_count == 0
    with transaction(rt.sessions) as session:
        lanes = [
            e.payload["channel"]
            for e in session.scalars(select(Effect).where(Effect.kind == "surveys.ask"))
        ]
    assert sorted(lanes) == sorted(people)

"""Sending the survey (the status message's menu), answering it (the DM's button and modal)."""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.reviews.views import stage_modal as sm
from bot.reviews.views.review_message import SEND_SURVEY
from bot.runtime import Runtime
from bot.slack.views import notice_view
from bot.surveys import service, views
from storage import reviews as store
from storage import surveys as survey_store
from storage.db import transaction
from storage.types import utcnow
from workflows import surveys
from workflows.engine import clean

log = logging.getLogger(__name__)


def send_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """ "Send survey": the owner or an admin asks every participant, once each."""
    ack()
    user_id = body["user"]["id"]
    review_id = int(action["value"])
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        owner = review.owner_id if review else None
    if review is None or owner is None:
        client.views_open(
            trigger_id=body["trigger_id"],
            view=notice_view("Review gone", "That review no longer exists."),
        )
        return
    if user_id != owner and not rt.is_admin(user_id):
        client.views_open(
            trigger_id=body["trigger_id"],
            view=notice_view(
                "Not for you", "Only the review's owner or an admin can send its survey."
            ),
        )
        return
    tz = rt.people.timezone(owner, rt.settings.timezone)
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id, for_update=True)
        stage = service.survey_stage(review) if review else None
        if review is None or stage is None:
            sent = None
        else:
            sent = service.send(
                session, review, stage, by=user_id, tz=tz, state=rt.settings.state, now=utcnow()
            )
    if sent is None:
        text = "This stage has no survey to send."
    elif not sent.participants:
        text = (
            "The review has no participants yet: add them first, then send the survey. "
            "Nothing was sent."
        )
    elif sent.closed:
        text = f"The survey closed at {sent.closes}: nobody more can be asked or answer."
    elif sent.newly_asked:
        again = "" if sent.created else " (everyone else had it already)"
        text = (
            f"The survey is on its way to {len(sent.newly_asked)} participant(s){again}. "
            f"It is open until {sent.closes}; those who have not answered get one reminder "
            "that morning."
        )
    else:
        text = f"Every participant has the survey already. It is open until {sent.closes}."
    client.views_open(trigger_id=body["trigger_id"], view=notice_view("Feedback survey", text))
    rt.delivery_due.set()


def answer_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """ "Answer" in the DM: the survey modal, with the person's earlier answer if any."""
    ack()
    with transaction(rt.sessions) as session:
        context = service.answer_context(
            session, int(action["value"]), body["user"]["id"], rt.settings.survey_secret(), utcnow()
        )
    client.views_open(trigger_id=body["trigger_id"], view=_modal_or_notice(context))


def _modal_or_notice(context: service.AnswerContext) -> dict:
    if context.refused or context.stage is None:
        title, text = context.refused or ("Survey gone", "That survey no longer exists.")
        return notice_view(title, text)
    return views.survey_modal(
        context.stage,
        survey_id=context.survey_id,
        title=context.title,
        closes=context.closes,
        values=dict(context.previous or {}),
        anonymous_allowed=context.anonymous_allowed,
        anonymous=context.anonymous,
        editing=context.previous is not None,
    )


def answer_submitted(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    """Validate and save before ack (errors travel in it); the status message follows."""
    survey_id = int(json.loads(view["private_metadata"])["s"])
    user_id = body["user"]["id"]
    secret = rt.settings.survey_secret()
    now = utcnow()
    try:
        with transaction(rt.sessions) as session:
            context = service.answer_context(session, survey_id, user_id, secret, now)
            if context.refused or context.stage is None:
                title, text = context.refused or ("Survey gone", "That survey no longer exists.")
                ack(response_action="update", view=notice_view(title, text))
                return
            raw = sm.raw_from_state(context.stage, view["state"]["values"])
            answers, errors = clean(context.stage, raw)
            if errors:
                ack(
                    response_action="errors",
                    errors={sm.block_for_error(context.stage, k): m for k, m in errors.items()},
                )
                return
            anonymous = context.anonymous_allowed and views.anonymous_chosen(
                view["state"]["values"]
            )
            survey = survey_store.get(session, survey_id)
            assert survey is not None
            survey_store.save_response(
                session,
                survey_id,
                surveys.respondent_key(secret, survey.review_id, user_id),
                answers,
                user_id=user_id,
                anonymous=anonymous,
            )
            service.record_answered(session, survey.review_id)
    except Exception:
        log.exception("saving a survey answer failed")
        first = next(
            (b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"), ""
        )
        ack(
            response_action="errors",
            errors={first: "Saving failed on our side. Your answers are still here: try again."},
        )
        return
    ack(response_action="update", view=views.thanks_view(context.closes, anonymous=anonymous))
    rt.delivery_due.set()


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.action(SEND_SURVEY)(send_clicked)
    app.action(views.ANSWER)(answer_clicked)
    app.view(views.CALLBACK)(answer_submitted)

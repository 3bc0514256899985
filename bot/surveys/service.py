"""Sending a stage's survey, taking answers, and the one reminder to those who have not answered.

Every DM is an outbox effect recorded with the claim row that allows it (storage/surveys.py), one
effect per person, delivered through the paced worker (one at a time per DM, Retry-After
honoured): a 500-person survey is 500 small effects, not a burst of chat.postMessage calls in a
request thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.action_items.service import reminder_settings
from bot.delivery.service import record
from bot.features import PeopleAdded, PermanentError, SideEffect, StageSaved, payload_int
from bot.reviews.service import workflow_of
from bot.reviews.status import status_effect
from bot.runtime import Runtime
from bot.slack import posted
from bot.slack.text import day_text
from bot.surveys import views
from storage import participants
from storage import reviews as store
from storage import surveys as survey_store
from storage.db import transaction
from storage.models import Review, Workspace
from storage.outbox import Claimed
from storage.types import utcnow
from workflows import surveys
from workflows.model import Stage, Workflow

log = logging.getLogger(__name__)

OPEN, ASK, REMIND = "surveys.open", "surveys.ask", "surveys.remind"


def survey_stage(review: Review) -> Stage | None:
    """The review's current stage when it declares a survey."""
    if review.current_stage is None:
        return None
    stage = workflow_of(review).stage(review.current_stage)
    return stage if stage.survey is not None else None


def closes_text(closes_at: datetime, tz: str, now: datetime | None = None) -> str:
    """ "the end of Thu 3 Dec": the last day answers are taken, in the survey's timezone."""
    zone = ZoneInfo(tz)
    last = (closes_at.astimezone(zone) - timedelta(seconds=1)).date()
    today = (now or utcnow()).astimezone(zone).date()
    return f"the end of {day_text(last, today)}"


@dataclass(frozen=True)
class Sent:
    """What "Send survey" did: the people newly asked, and whether the survey is new."""

    survey_id: int
    newly_asked: list[str]
    participants: int
    created: bool
    closes: str
    closed: bool = False


def send(
    session: Session, review: Review, stage: Stage, *, by: str, tz: str, state: str, now: datetime
) -> Sent:
    """Open the stage's survey (once) and ask every participant not yet asked, once each.

    The deadline is set when it is first sent, on the calendar of `tz` (the owner's); sending
    again later asks only participants added since.
    """
    assert stage.survey is not None
    people = participants.user_ids(session, review.id, participants.PARTICIPANT)
    if not people:  # nobody to ask: the deadline does not start ticking yet
        existing = survey_store.find(session, review.id, stage.key)
        closes = closes_text(existing.closes_at, existing.timezone, now) if existing else ""
        return Sent(existing.id if existing else 0, [], 0, False, closes)
    closes_at = surveys.deadline(now, stage.survey, tz, state)
    # The reminder goes at the workspace's reminder hour, like the action-item nudges.
    hour = reminder_settings(session.get_one(Workspace, review.workspace_id))["hour"]
    survey, created = survey_store.open_survey(
        session,
        review.id,
        stage.key,
        sent_by=by,
        sent_at=now,
        closes_at=closes_at,
        remind_at=surveys.reminder_at(closes_at, tz, hour),
        timezone=tz,
    )
    newly: list[str] = []
    if surveys.is_open(survey.closes_at, now):
        newly = survey_store.claim(session, survey.id, people, survey_store.ASKED)
    record(
        session,
        [SideEffect(ASK, {"survey_id": survey.id, "user_id": u, "channel": u}) for u in newly],
    )
    if newly or created:
        record(session, [status_effect(review.id)])
    return Sent(
        survey.id,
        newly,
        len(people),
        created,
        closes_text(survey.closes_at, survey.timezone, now),
        closed=not surveys.is_open(survey.closes_at, now),
    )


def record_answered(session: Session, review_id: int) -> None:
    """An answer saved: the status message's count follows."""
    record(session, [status_effect(review_id)])


def _opens_survey(workflow: Workflow | None, stage_key: str) -> bool:
    """Whether opening the stage sends its survey (what `deliver_open` checks); without the
    definition, it may."""
    if workflow is None:
        return True
    survey = workflow.stage(stage_key).survey
    return survey is not None and survey.send == "on_stage_open"


def after_start(review_id: int, workflow: Workflow | None) -> list[SideEffect]:
    """A survey sent when its stage opens: the first stage opens with the review."""
    if workflow is not None and not _opens_survey(workflow, workflow.stages[0].key):
        return []
    return [SideEffect(OPEN, {"review_id": review_id})]


def after_stage(saved: StageSaved) -> list[SideEffect]:
    transition = saved.result.transition
    if saved.result.edited or transition is None or transition.next_stage is None:
        return []
    if not _opens_survey(saved.workflow, transition.next_stage):
        return []
    return [SideEffect(OPEN, {"review_id": saved.review_id})]


def people_added(added: PeopleAdded) -> list[SideEffect]:
    """Participants who join while the current stage's survey is open are asked too, once each
    (the claim row), without the owner sending it again; before it is sent or after it closes,
    nothing."""
    session = added.session
    review = store.get_review(session, added.review_id)
    stage = survey_stage(review) if review is not None else None
    if review is None or stage is None:
        return []
    survey = survey_store.find(session, review.id, stage.key)
    if survey is None or not surveys.is_open(survey.closes_at, utcnow()):
        return []
    joined = [
        u
        for u in added.user_ids
        if participants.is_on(session, review.id, u, participants.PARTICIPANT)
    ]
    newly = survey_store.claim(session, survey.id, joined, survey_store.ASKED)
    if not newly:
        return []
    return [
        *(SideEffect(ASK, {"survey_id": survey.id, "user_id": u, "channel": u}) for u in newly),
        status_effect(review.id),  # "Survey: 2 of 4 answered"
    ]


def deliver_open(rt: Runtime, effect: Claimed) -> None:
    """The `surveys.open` effect: send the current stage's survey if it goes out on opening."""
    review_id = payload_int(effect.payload, "review_id")
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        stage = survey_stage(review) if review is not None else None
        if review is None or stage is None or stage.survey is None:
            return
        if stage.survey.send != "on_stage_open":
            return
        owner = review.owner_id
    tz = rt.people.timezone(owner, rt.settings.timezone)
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None or (stage := survey_stage(review)) is None:
            return
        send(session, review, stage, by=owner, tz=tz, state=rt.settings.state, now=utcnow())
    rt.delivery_due.set()


def _dm(rt: Runtime, effect: Claimed, *, reminder: bool) -> None:
    survey_id = payload_int(effect.payload, "survey_id")
    user_id = str(effect.payload.get("user_id") or "")
    if not user_id:
        raise PermanentError("payload has no user_id")
    with transaction(rt.sessions) as session:
        survey = survey_store.get(session, survey_id)
        review = store.get_review(session, survey.review_id) if survey else None
        if survey is None or review is None:
            raise PermanentError(f"survey {survey_id} no longer exists")
        stage = workflow_of(review).stage(survey.stage_key)
        assert stage.survey is not None
        message = views.ask_dm(
            survey_id=survey_id,
            title=review.title,
            closes=closes_text(survey.closes_at, survey.timezone),
            anonymous_allowed=stage.survey.anonymous_allowed,
            reminder=reminder,
            link=review.permalink,
        )
    identity: dict[str, Any] = {
        "survey_id": survey_id,
        "user": user_id,
        "kind": "reminder" if reminder else "ask",
    }
    if effect.attempt > 1:
        channel = rt.client.conversations_open(users=user_id)["channel"]["id"]
        if posted.find(rt.client, channel, views.ASK_EVENT, **identity):
            return
    rt.client.chat_postMessage(
        channel=user_id, metadata=posted.metadata(views.ASK_EVENT, **identity), **message
    )


def deliver_ask(rt: Runtime, effect: Claimed) -> None:
    """The `surveys.ask` effect: one participant's DM with "Answer"."""
    _dm(rt, effect, reminder=False)


def deliver_remind(rt: Runtime, effect: Claimed) -> None:
    """The `surveys.remind` effect: the one reminder, with "Answer" again."""
    _dm(rt, effect, reminder=True)


# --- the reminder sweep ----------------------------------------------------------------------


CLOSED_NOTICE_WITHIN = timedelta(days=7)  # a sweep after a long outage still marks them closed


@dataclass
class SweepResult:
    reminded: int = 0
    surveys: int = 0
    closed: int = 0

    def __str__(self) -> str:
        text = f"reminded {self.reminded} participant(s) of {self.surveys} open survey(s)"
        return text + (f"; {self.closed} survey(s) closed" if self.closed else "")


def sweep(rt: Runtime, now: datetime | None = None) -> SweepResult:
    """Remind, once, every participant who was asked and has not answered, on the morning of
    the survey's last day (its `remind_at`, a working morning in the owner's timezone), until
    it closes. A sweep that runs late in the day still reminds; one after closing does not.
    A survey that has closed since gets its status message refreshed once ("· closed")."""
    now = now or utcnow()
    result = SweepResult()
    secret = rt.settings.survey_secret()
    with transaction(rt.sessions) as session:
        for survey in survey_store.due_for_reminders(session, now):
            result.surveys += 1
            answered = survey_store.response_keys(session, survey.id)
            asked = survey_store.delivered_to(session, survey.id, survey_store.ASKED)
            waiting = sorted(
                u
                for u in asked
                if surveys.respondent_key(secret, survey.review_id, u) not in answered
                and participants.is_on(session, survey.review_id, u, participants.PARTICIPANT)
            )
            won = survey_store.claim(session, survey.id, waiting, survey_store.REMINDED)
            record(
                session,
                [
                    SideEffect(REMIND, {"survey_id": survey.id, "user_id": u, "channel": u})
                    for u in won
                ],
            )
            result.reminded += len(won)
        # A survey that closed since: its status message says so, once.
        for survey in survey_store.closed_since(session, now - CLOSED_NOTICE_WITHIN, now):
            if survey_store.claim(session, survey.id, [survey_store.NOBODY], survey_store.CLOSED):
                record(session, [status_effect(survey.review_id)])
                result.closed += 1
    if result.reminded or result.closed:
        rt.delivery_due.set()
    return result


def scheduled_sweep(rt: Runtime) -> SweepResult:
    return sweep(rt)


# --- answering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerContext:
    """What the survey modal needs, or why it can't be answered (`refused`)."""

    refused: tuple[str, str] | None = None  # (title, text)
    survey_id: int = 0
    stage: Stage | None = None
    title: str = ""
    closes: str = ""
    anonymous_allowed: bool = False
    previous: dict[str, object] | None = None
    anonymous: bool = False


def answer_context(
    session: Session, survey_id: int, user_id: str, secret: bytes, now: datetime
) -> AnswerContext:
    """Whether this person may answer now (a participant, before the deadline), and their
    earlier answer to show again."""
    survey = survey_store.get(session, survey_id)
    review = store.get_review(session, survey.review_id) if survey else None
    if survey is None or review is None:
        return AnswerContext(refused=("Survey gone", "That review no longer exists."))
    stage = workflow_of(review).stage(survey.stage_key)
    assert stage.survey is not None
    closes = closes_text(survey.closes_at, survey.timezone, now)
    if not participants.is_on(session, review.id, user_id, participants.PARTICIPANT):
        return AnswerContext(
            refused=(
                "Not for you",
                f"Only the participants of “{review.title}” can answer its survey. Ask the "
                "review's owner to add you.",
            )
        )
    if not surveys.is_open(survey.closes_at, now):
        return AnswerContext(
            refused=(
                "Survey closed",
                f"The survey for “{review.title}” closed at {closes}: answers can no longer be "
                "given or changed. Thank you all the same.",
            )
        )
    previous = survey_store.response_of(
        session, survey.id, surveys.respondent_key(secret, review.id, user_id)
    )
    return AnswerContext(
        survey_id=survey.id,
        stage=surveys.as_stage(stage),
        title=review.title,
        closes=closes,
        anonymous_allowed=stage.survey.anonymous_allowed,
        previous=dict(previous.answers) if previous else None,
        anonymous=bool(previous and previous.anonymous),
    )

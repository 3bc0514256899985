"""The support post-mortem loop after the webhook: an admin's "changes requested" or close reaches
the owner, post-mortems that stall are nudged (owner: In Progress too long; admins: In Review), and
admins list the missing features post-mortems found.

Reminders are claimed like the action items' nudges: the identity row (review, kind, occurrence,
recipient) is inserted before the DM is sent, so two sweeps (replicas, `serve` and the CLI) never
send one twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.action_items.service import PERMANENT_ERRORS
from bot.features import SideEffect, StageSaved, payload_int
from bot.reviews.service import workflow_of
from bot.runtime import Runtime
from bot.slack import posted
from bot.slack.people import admin_ids
from bot.tickets.service import SUPPORT, suggest_stale, ticket_config
from bot.tickets.views import (
    FeatureRequest,
    changes_requested_dm,
    closed_dm,
    features_message,
    in_progress_reminder,
    in_review_reminder,
)
from storage import reviews as store
from storage import tickets as ticket_store
from storage.db import transaction
from storage.models import Review
from storage.outbox import Claimed
from storage.tickets import SupportReminder
from storage.types import utcnow
from workflows.calendar import working_days_between
from workflows.engine import Transition
from workflows.model import Role, Workflow

log = logging.getLogger(__name__)

WAITING = ("open", "in_progress")
IN_REVIEW = "in_review"


# --- the admin's decision reaches the owner ----------------------------------------------------


def after_stage(saved: StageSaved) -> list[SideEffect]:
    """Admins hear that a review now waits on them; after an admin stage, the owner gets the
    close or the changes asked for, with the comment. Each is recorded only when the save can
    call for it (the checks their deliveries make first, on the definition and the transition);
    without the definition, both are, and the delivery decides."""
    transition, answers = saved.result.transition, saved.result.answers
    if transition is None or saved.result.edited:
        return []
    workflow = saved.workflow
    effects = []
    if workflow is None or _waits_on_admins(workflow, transition):
        effects.append(
            SideEffect(
                "tickets.admins_waiting", {"review_id": saved.review_id, "actor": saved.user_id}
            )
        )
    if workflow is None or _tells_owner(workflow, saved.stage_key, transition):
        effects.append(
            SideEffect(
                "tickets.decision",
                {
                    "review_id": saved.review_id,
                    "stage_key": saved.stage_key,
                    "actor": saved.user_id,
                    "complete": transition.complete,
                    "looped_back": transition.looped_back,
                    "next_stage": transition.next_stage,
                    "answers": {k: v for k, v in answers.items() if isinstance(v, str)},
                },
            )
        )
    return effects


def _waits_on_admins(workflow: Workflow, transition: Transition) -> bool:
    """After the save the review is In Review, or an admin's stage is next (as
    `notify_admins_waiting` finds it: the save set the review's stage and status)."""
    if transition.next_stage is None:
        return False
    return (
        transition.status == IN_REVIEW or workflow.stage(transition.next_stage).role == Role.ADMIN
    )


def _tells_owner(workflow: Workflow, stage_key: str, transition: Transition) -> bool:
    """An admin's stage that sent the review back or closed it (what `deliver_decision` DMs)."""
    if workflow.stage(stage_key).role != Role.ADMIN:
        return False
    return transition.complete or bool(transition.looped_back and transition.next_stage)


def deliver_admins_waiting(rt: Runtime, effect: Claimed) -> None:
    """notify_admins_waiting claims before it sends, so a retry sends nothing twice."""
    notify_admins_waiting(
        rt, payload_int(effect.payload, "review_id"), str(effect.payload.get("actor"))
    )


def deliver_decision(rt: Runtime, effect: Claimed) -> None:
    """DM the owner the admin's comment (changes requested) or the close."""
    payload = effect.payload
    review_id, stage_key = payload_int(payload, "review_id"), str(payload.get("stage_key"))
    actor, answers = str(payload.get("actor")), dict(payload.get("answers") or {})
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return
        workflow = workflow_of(review)
        stage = workflow.stage(stage_key)
        if stage.role != Role.ADMIN or review.owner_id == actor:
            return
        owner, title, permalink = review.owner_id, review.title, review.permalink
        comment = next(
            (
                str(answers.get(d.comment_field) or "")
                for d in stage.decisions
                if d.comment_field and answers.get(d.comment_field)
            ),
            "",
        )
        next_stage = payload.get("next_stage")
        back_to = (
            workflow.stage(str(next_stage)).name
            if payload.get("looped_back") and next_stage
            else None
        )
    if back_to:
        message = changes_requested_dm(
            review_id, title, permalink, actor, comment or "(no comment)", back_to
        )
    elif payload.get("complete"):
        message = closed_dm(title, permalink, actor, comment)
    else:
        return
    # Named by the effect's id: a retry after Slack took it but the worker died finds it.
    meta: dict[str, Any] = {"review_id": review_id, "occurrence": effect.id}
    if effect.attempt > 1:
        dm = str(rt.client.conversations_open(users=owner)["channel"]["id"])
        if posted.find(rt.client, dm, DECISION_EVENT, **meta):
            return
    rt.client.chat_postMessage(
        channel=owner, metadata=posted.metadata(DECISION_EVENT, **meta), **message
    )


DECISION_EVENT = "postmortem_decision"


def notify_admins_waiting(rt: Runtime, review_id: int, actor: str) -> int:
    """DM the admins once when a review waits on them (In Review, or an admin's stage is
    next); how many were told. Call it after a stage that moved the review.

    Without this an admin learns of it only from the next reminder sweep. The DM is the sweep's
    first In Review reminder, claimed under the same identity, so the sweep does not repeat it
    and calling this again (a retry) sends nothing.
    """
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None or review.current_stage is None:
            return 0
        stage = workflow_of(review).stage(review.current_stage)
        if review.status != IN_REVIEW and stage.role != Role.ADMIN:
            return 0
        since = ticket_store.last_moved(session, [review.id]).get(review.id, review.created_at)
        message = in_review_reminder(review.id, review.title, review.permalink, review.owner_id, 0)
    result = ReminderResult()
    for admin in admins(rt):
        if admin != actor:  # who just sent it knows
            _deliver(
                rt,
                Planned(review_id, "in_review", f"{since:%Y%m%dT%H%M%S}#0", admin, message),
                result,
            )
    return result.sent


# --- reminders ---------------------------------------------------------------------------------


@dataclass
class ReminderResult:
    sent: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, failed {self.failed}"


def admins(rt: Runtime) -> list[str]:
    """Who hears about reviews waiting In Review: POSTMORTEM_ADMINS, else Slack's admins."""
    return admin_ids(rt.client, rt.settings.admins)


@dataclass(frozen=True)
class Planned:
    review_id: int
    kind: str
    occurrence: str
    recipient: str
    message: dict[str, Any]


def plan(rt: Runtime, now: datetime) -> list[Planned]:
    """Every reminder that is due now (claimed or not)."""
    every = ticket_config(rt.settings).stale_days
    zone = ZoneInfo(rt.settings.timezone)
    today = now.astimezone(zone).date()
    planned: list[Planned] = []
    admin_ids: list[str] | None = None
    with rt.sessions() as session:
        reviews = list(
            session.scalars(
                select(Review).where(
                    Review.workflow_key == SUPPORT,
                    Review.status.in_((*WAITING, IN_REVIEW)),
                    Review.current_stage.is_not(None),
                )
            )
        )
        moved = ticket_store.last_moved(session, [r.id for r in reviews])
        for review in reviews:
            since = moved.get(review.id, review.created_at)
            days = working_days_between(since.astimezone(zone).date(), today, rt.settings.state)
            assert review.current_stage is not None  # the query asked for a current stage
            stage_name = workflow_of(review).stage(review.current_stage).name
            occurrence = f"{since:%Y%m%dT%H%M%S}"
            if review.status == IN_REVIEW:
                if admin_ids is None:
                    admin_ids = admins(rt)
                message = in_review_reminder(
                    review.id, review.title, review.permalink, review.owner_id, days
                )
                planned += [
                    Planned(review.id, "in_review", f"{occurrence}#{days // every}", a, message)
                    for a in admin_ids
                ]
            elif days > every:
                planned.append(
                    Planned(
                        review.id,
                        "in_progress",
                        f"{occurrence}#{(days - 1) // every}",
                        review.owner_id,
                        in_progress_reminder(
                            review.id, review.title, review.permalink, days, stage_name
                        ),
                    )
                )
    return planned


def sweep(rt: Runtime, now: datetime | None = None) -> ReminderResult:
    """Send the support reminders that are due, each exactly once."""
    result = ReminderResult()
    for p in plan(rt, now or utcnow()):
        _deliver(rt, p, result)
    return result


def _deliver(rt: Runtime, p: Planned, result: ReminderResult) -> None:
    """Claim the reminder, send it, record the outcome (a transient failure is retried)."""
    with transaction(rt.sessions) as session:
        claim = ticket_store.claim_reminder(
            session,
            review_id=p.review_id,
            kind=p.kind,
            occurrence=p.occurrence,
            recipient_id=p.recipient,
        )
    if claim is None:
        return
    try:
        rt.client.chat_postMessage(channel=p.recipient, **p.message)
    except SlackApiError as exc:
        error = exc.response.get("error") or "unknown_error"
        with transaction(rt.sessions) as session:
            row = session.get(SupportReminder, claim)
            assert row is not None  # this call's claim: only this call deletes it (below)
            if error in PERMANENT_ERRORS:
                row.status, row.reason = "failed", error
            else:  # let the next sweep try again
                session.delete(row)
        result.failed += 1
        return
    with transaction(rt.sessions) as session:
        row = session.get(SupportReminder, claim)
        assert row is not None  # this call's claim: only this call deletes it (above)
        row.status, row.sent_at = "sent", utcnow()
    result.sent += 1


def scheduled_reminders(rt: Runtime) -> ReminderResult:
    result = sweep(rt)
    if result.sent or result.failed:
        log.info("support reminders: %s", result)
    return result


def scheduled_stale(rt: Runtime) -> int:
    return suggest_stale(rt)


# --- missing features --------------------------------------------------------------------------


def feature_requests(rt: Runtime, team_id: str) -> list[FeatureRequest]:
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team_id)
        rows = ticket_store.answers_of_stage(session, ws.id, SUPPORT, "action_items")
        return [
            FeatureRequest(
                title=review.title,
                permalink=review.permalink,
                owner=review.owner_id,
                request=str(a.get("feature_request") or ""),
                admin_comment=str(a.get("admin_comment") or ""),
            )
            for review, a in rows
            if a.get("missing_feature") is True
        ]


def count_feature_requests(session: Any, workspace_id: int, since: datetime | None = None) -> int:
    """For the digest: post-mortems whose action items report a missing feature."""
    rows = ticket_store.answers_of_stage(session, workspace_id, SUPPORT, "action_items")
    return sum(
        1
        for review, a in rows
        if a.get("missing_feature") is True and (since is None or review.created_at >= since)
    )


def features(rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient) -> None:
    if not rt.is_admin(command["user_id"]):
        respond(
            text="Sorry, the missing-feature requests are for workspace admins only (they "
            "include comments meant for admins)."
        )
        return
    respond(**features_message(feature_requests(rt, command["team_id"])))

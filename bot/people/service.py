"""What the people feature does: invitations, stage assignments, the lessons DM, stage nudges.

Every message is an outbox effect, one per person, recorded in the transaction that decides it
(the invitation with `participants.mark_invited`, the others with a claim row), and delivered
through the paced path (`channel` in the payload is the person: their DMs take turns). A retried
delivery first looks for its message in the DM by its metadata (bot/slack/posted.py), so nobody
gets one twice.

Fan-out effects (`people.invite`, `people.stage_saved`) turn one change into the per-person
effects later, in the worker: expanding a 500-person user group, or reading what the saved stage
opened, is no work for a request that must be acknowledged within 3 seconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.delivery.service import record
from bot.features import (
    PeopleAdded,
    PermanentError,
    RetryLater,
    ReviewHooks,
    SideEffect,
    StageSaved,
    payload_int,
)
from bot.knowledge.service import report_data
from bot.people import views
from bot.reviews.service import workflow_of
from bot.reviews.status import status_effect, status_group
from bot.reviews.views.start_modal import PEOPLE_EFFECT
from bot.runtime import Runtime
from bot.slack import posted
from storage import assignments, participants
from storage import knowledge as kb
from storage import reviews as store
from storage.db import transaction
from storage.models import Review
from storage.outbox import Claimed
from storage.types import utcnow
from workflows.calendar import is_working_day, working_days_between
from workflows.model import Role, Stage
from workflows.reports import report_stage

log = logging.getLogger(__name__)

INVITE = PEOPLE_EFFECT  # fan-out: expand user groups, invite who is not invited yet
INVITATION = "people.invitation"
STAGE_SAVED = "people.stage_saved"  # fan-out: tell the next stage's assignee; the lessons
ASSIGNED = "people.assigned"
LESSON = "people.lesson"
NUDGE = "people.nudge"

INVITATION_EVENT = "postmortem_invitation"
ASSIGNED_EVENT = "postmortem_stage_assigned"
LESSON_EVENT = "postmortem_lessons"
NUDGE_EVENT = "postmortem_stage_nudge"
NUDGE_HOUR = 9  # local time on a working day: nobody is nudged at night or on a weekend


def may_manage(rt: Runtime, review: Review, user_id: str) -> bool:
    """The owner or an admin manages a review's people and assignments (checked here, on the
    server, whatever the message showed)."""
    return user_id == review.owner_id or rt.is_admin(user_id)


def dm_effect(kind: str, review_id: int, user_id: str, **extra: Any) -> SideEffect:
    """One DM to one person; `channel` makes the delivery worker pace it in their DM's lane."""
    return SideEffect(kind, {"review_id": review_id, "user": user_id, "channel": user_id, **extra})


# --- participants and invitations ------------------------------------------------------------


def invite_new(session: Session, review_id: int, hooks: ReviewHooks) -> list[SideEffect]:
    """Invitations for the participants not invited yet, marked invited in this transaction
    (the review's owner runs it: they are marked, not invited). The features hear who joined
    (`people_added`), so a survey already sent or a team sync already announced reaches them."""
    review = store.get_review(session, review_id)
    owner = review.owner_id if review else None
    everyone = participants.user_ids(session, review_id, participants.PARTICIPANT)
    newly = participants.mark_invited(session, review_id, everyone)
    return [
        *(dm_effect(INVITATION, review_id, u) for u in newly if u != owner),
        *hooks.added(PeopleAdded(review_id, tuple(newly), session)),
    ]


def invite_effect(review_id: int, groups: list[str], by: str) -> SideEffect:
    """Expand `groups` (Slack user groups) into participants and invite whoever is new; after
    the status message, which the invitation links to."""
    return SideEffect(
        INVITE, {"review_id": review_id, "groups": groups, "by": by}, group=status_group(review_id)
    )


def change_people(
    session: Session,
    review_id: int,
    *,
    by: str,
    participants_chosen: list[str],
    stakeholders_chosen: list[str],
    hooks: ReviewHooks,
    shown: int = views.MULTI_MAX,
) -> list[SideEffect]:
    """Apply the People form: the lists it showed (the first `shown` of each) become what was
    chosen; people beyond them stay. New participants are invited."""
    current_p = participants.user_ids(session, review_id, participants.PARTICIPANT)
    current_s = participants.user_ids(session, review_id, participants.STAKEHOLDER)
    chosen = set(participants_chosen) | set(stakeholders_chosen)
    for user_id in current_p[:shown] + current_s[:shown]:
        if user_id not in chosen:
            participants.remove(session, review_id, user_id)
    for user_id in stakeholders_chosen:  # a participant moved to stakeholders
        if user_id in current_p and user_id not in participants_chosen:
            participants.remove(session, review_id, user_id)
    participants.add(session, review_id, participants_chosen, participants.PARTICIPANT, by)
    participants.add(
        session,
        review_id,
        [u for u in stakeholders_chosen if u not in participants_chosen],
        participants.STAKEHOLDER,
        by,
    )
    return invite_new(session, review_id, hooks)


def group_members(rt: Runtime, group_id: str) -> list[str]:
    """The people in a Slack user group (usergroups.users.list); [] for a group that is gone."""
    try:
        reply = rt.client.usergroups_users_list(usergroup=group_id)
    except SlackApiError as exc:
        if exc.response.get("error") in ("no_such_subteam", "subteam_not_found"):
            log.warning("user group %s is gone: nobody added from it", group_id)
            return []
        raise
    return [str(u) for u in reply.get("users") or []]


def deliver_invite(rt: Runtime, effect: Claimed, hooks: ReviewHooks) -> None:
    """`people.invite`: add the groups' members, then record one invitation per new person."""
    review_id = payload_int(effect.payload, "review_id")
    groups = [str(g) for g in effect.payload.get("groups") or []]
    members = [u for g in groups for u in group_members(rt, g)]
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return
        if members:
            by = str(effect.payload.get("by") or review.owner_id)
            participants.add(session, review_id, members, participants.PARTICIPANT, by)
        effects = invite_new(session, review_id, hooks)
        if members:
            effects.append(status_effect(review_id))
        record(session, effects)
    rt.delivery_due.set()


def _dm(rt: Runtime, effect: Claimed, event: str, message: dict[str, Any], **match: Any) -> None:
    """Post the DM unless a retry finds it already there (its metadata names it)."""
    user = str(effect.payload.get("user") or "")
    if not user:
        raise PermanentError("payload has no user")
    if effect.attempt > 1:
        channel = str(rt.client.conversations_open(users=user)["channel"]["id"])
        if posted.find(rt.client, channel, event, **match):
            return
    rt.client.chat_postMessage(channel=user, metadata=posted.metadata(event, **match), **message)


def deliver_invitation(rt: Runtime, effect: Claimed) -> None:
    """`people.invitation`: the one DM that invites a participant."""
    review_id = payload_int(effect.payload, "review_id")
    user = str(effect.payload.get("user"))
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None or not participants.is_on(session, review_id, user):
            return  # taken off the review before the invitation went out
        workflow = workflow_of(review)
        message = views.invitation(
            title=review.title,
            workflow=workflow.name,
            owner_id=review.owner_id,
            stages=[s.name for s in workflow.stages],
            permalink=review.permalink,
        )
    _dm(rt, effect, INVITATION_EVENT, message, review_id=review_id, user=user)


# --- stages handed to a person ---------------------------------------------------------------


def assignable(session: Session, review: Review) -> list[Stage]:
    """Stages that may be handed to someone: the current one and those not done yet (an admin's
    stage stays the admins')."""
    done = set(store.latest_answers(session, review.id))
    return [
        s
        for s in workflow_of(review).stages
        if s.role != Role.ADMIN and (s.key == review.current_stage or s.key not in done)
    ]


def tell_assignee(
    session: Session, review: Review, row: assignments.StageAssignment, at: datetime
) -> list[SideEffect]:
    """The assignee's "Start" DM, once per time the stage opens for them."""
    if review.current_stage != row.stage_key:
        return []
    if row.waiting_since is not None and row.waiting_since >= at:
        return []
    row.waiting_since = at
    occurrence = f"{row.stage_key}:{at.isoformat()}"
    if not assignments.claim_notice(session, review.id, row.user_id, "assigned", occurrence):
        return []
    return [dm_effect(ASSIGNED, review.id, row.user_id, stage=row.stage_key, at=at.isoformat())]


def assign_stage(
    session: Session, review: Review, stage_key: str, user_id: str, by: str
) -> list[SideEffect]:
    """Hand the stage to `user_id`; they are told now if it is open, else when it opens."""
    row = assignments.assign(session, review.id, stage_key, user_id, by)
    return [*tell_assignee(session, review, row, utcnow()), status_effect(review.id)]


def unassign_stage(session: Session, review: Review, stage_key: str) -> list[SideEffect]:
    """Give the stage back to the owner: its row goes, so the status message stops saying
    "Waiting on …" and the waiting-stage nudges stop. Nothing changes if it was not assigned."""
    if not assignments.unassign(session, review.id, stage_key):
        return []
    return [status_effect(review.id)]


def open_current(session: Session, review: Review, at: datetime) -> list[SideEffect]:
    """The review's current stage just opened: hand it over by role when its YAML says so
    (unless someone assigned it already), and tell its assignee."""
    if review.current_stage is None:
        return []
    stage = workflow_of(review).stage(review.current_stage)
    row = assignments.get(session, review.id, stage.key)
    if row is None and stage.assignee is not None and stage.role != Role.ADMIN:
        stage_key, field_key = stage.assignee.from_field.split(".")
        named = (store.latest_answers(session, review.id).get(stage_key) or {}).get(field_key)
        # The owner named for the role is no hand-over: the stage is theirs already.
        if isinstance(named, str) and named and named != review.owner_id:
            row = assignments.assign(session, review.id, stage.key, named, review.owner_id, "role")
    if row is None:
        return []
    told = tell_assignee(session, review, row, at)
    return [*told, status_effect(review.id)] if told and row.source == "role" else told


def deliver_assigned(rt: Runtime, effect: Claimed) -> None:
    """`people.assigned`: the assignee's DM with "Start <stage>" (skipped if handed on since)."""
    review_id = payload_int(effect.payload, "review_id")
    user, stage_key = str(effect.payload.get("user")), str(effect.payload.get("stage"))
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None or assignments.assignee(session, review_id, stage_key) != user:
            return
        stage = workflow_of(review).stage(stage_key)
        message = views.assigned_dm(
            review_id=review_id,
            title=review.title,
            stage_key=stage_key,
            stage_name=stage.name,
            owner_id=review.owner_id,
            permalink=review.permalink,
        )
    at = str(effect.payload.get("at") or "")
    _dm(rt, effect, ASSIGNED_EVENT, message, review_id=review_id, stage=stage_key, at=at)


# --- after a stage is saved: the next stage's assignee, and the lessons ------------------------


def after_stage(saved: StageSaved) -> list[SideEffect]:
    """After the status message: tell the next stage's assignee, and share the lessons."""
    if saved.result.edited:
        return []
    return [
        SideEffect(
            STAGE_SAVED,
            {
                "review_id": saved.review_id,
                "stage": saved.stage_key,
                "at": utcnow().isoformat(),
                "by": saved.user_id,
            },
            group=status_group(saved.review_id),
        )
    ]


def lessons_effects(
    session: Session, review: Review, stage_key: str, by: str | None = None
) -> list[SideEffect]:
    """One lessons DM per participant and stakeholder, and to the review's owner, once each
    (claimed per stage). The owner always hears the lessons (an assignee may have written
    them), unless they submitted the stage themselves (`by`): they wrote it."""
    stage = report_stage(workflow_of(review))
    if stage is None or stage.key != stage_key:
        return []
    if by is None:  # a fan-out recorded before `by` was: the stage's last submitter
        history = store.stage_history(session, review.id, stage_key)
        by = history[-1].submitted_by if history else None
    people = [p.user_id for p in participants.people(session, review.id)]
    if review.owner_id == by:
        people = [u for u in people if u != by]
    elif review.owner_id not in people:
        people.append(review.owner_id)
    return [
        dm_effect(LESSON, review.id, user)
        for user in people
        if assignments.claim_notice(session, review.id, user, "lessons", stage_key)
    ]


def deliver_stage_saved(rt: Runtime, effect: Claimed) -> None:
    review_id = payload_int(effect.payload, "review_id")
    at = datetime.fromisoformat(str(effect.payload.get("at")))
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return
        stage_key = str(effect.payload.get("stage"))
        move = store.last_move(session, review_id)
        # A save delivered after a later one moved the review on: the later save's effect opens
        # the stage now current (told also with this older time, its assignee heard twice).
        latest = move is None or move.from_stage == stage_key
        effects = open_current(session, review, at) if latest else []
        by = effect.payload.get("by")
        effects += lessons_effects(session, review, stage_key, str(by) if by else None)
        record(session, effects)
    if effects:
        rt.delivery_due.set()


LESSONS_KEYS = ("lessons", "summary")


def deliver_lesson(rt: Runtime, effect: Claimed) -> None:
    """`people.lesson`: the lessons and a link to the report in the review's thread."""
    review_id = payload_int(effect.payload, "review_id")
    user = str(effect.payload.get("user"))
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        report = report_data(session, review) if review else None
        if review is None or report is None:
            return
        lessons = next((report.section(k) for k in LESSONS_KEYS if report.section(k)), "")
        entry = session.scalar(
            select(kb.KnowledgeEntry).where(kb.KnowledgeEntry.review_id == review_id)
        )
        report_ts = entry.report_ts if entry else None
        channel, title, status_link = review.channel_id, review.title, review.permalink
    if report_ts is None and effect.attempt < 4:
        raise RetryLater("the report is not in the thread yet", timedelta(seconds=10))
    permalink = status_link
    if report_ts:
        permalink = rt.client.chat_getPermalink(channel=channel, message_ts=report_ts).get(
            "permalink"
        )
    message = views.lessons_dm(title=title, lessons=lessons, permalink=permalink)
    _dm(rt, effect, LESSON_EVENT, message, review_id=review_id, user=user)


# --- stages that wait too long ---------------------------------------------------------------


@dataclass
class NudgeResult:
    assignees: int = 0
    owners: int = 0

    def __str__(self) -> str:
        return f"stage nudges: {self.assignees} to assignees, {self.owners} to owners"


def sweep(rt: Runtime, now: datetime | None = None) -> NudgeResult:
    """One pass: an assigned stage waiting `stage_nudge_days` working days (the assignee's
    calendar: their timezone, the state's holidays) nudges its assignee once; after as many
    again, the review's owner is told once. Claimed rows make each exactly once."""
    now = now or utcnow()
    days = rt.settings.stage_nudge_days
    with transaction(rt.sessions) as session:
        waiting = [
            (a.review_id, a.stage_key, a.user_id, a.waiting_since, r.owner_id)
            for a, r in assignments.waiting(session)
        ]
    result = NudgeResult()
    for review_id, stage_key, user_id, since, owner_id in waiting:
        assert since is not None  # waiting() asks for it
        zone = ZoneInfo(rt.people.timezone(user_id, rt.settings.timezone))
        local = now.astimezone(zone)
        if not is_working_day(local.date(), rt.settings.state) or local.hour < NUDGE_HOUR:
            continue
        waited = working_days_between(
            since.astimezone(zone).date(), local.date(), rt.settings.state
        )
        if waited < days:
            continue
        occurrence = f"{stage_key}:{since.isoformat()}"
        with transaction(rt.sessions) as session:
            effects = []
            if assignments.claim_notice(session, review_id, user_id, "stage_nudge", occurrence):
                effects.append(
                    dm_effect(
                        NUDGE, review_id, user_id, stage=stage_key, days=waited, to="assignee"
                    )
                )
                result.assignees += 1
            if waited >= 2 * days and assignments.claim_notice(
                session, review_id, owner_id, "stage_late", occurrence
            ):
                effects.append(
                    dm_effect(
                        NUDGE,
                        review_id,
                        owner_id,
                        stage=stage_key,
                        days=waited,
                        to="owner",
                        assignee=user_id,
                    )
                )
                result.owners += 1
            record(session, effects)
    if result.assignees or result.owners:
        rt.delivery_due.set()
    return result


def scheduled_sweep(rt: Runtime) -> NudgeResult:
    return sweep(rt)


def deliver_nudge(rt: Runtime, effect: Claimed) -> None:
    """`people.nudge`: the assignee's reminder, or the owner's "still waiting" (if it still is)."""
    review_id = payload_int(effect.payload, "review_id")
    stage_key, days = str(effect.payload.get("stage")), payload_int(effect.payload, "days")
    to = str(effect.payload.get("to"))
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None or review.current_stage != stage_key:
            return  # done in the meantime
        waits_on = str(effect.payload.get("assignee" if to == "owner" else "user"))
        if assignments.assignee(session, review_id, stage_key) != waits_on:
            return  # un-assigned or handed on in the meantime
        stage = workflow_of(review).stage(stage_key)
        if to == "owner":
            message = views.owner_late_dm(
                title=review.title,
                stage_name=stage.name,
                assignee=str(effect.payload.get("assignee")),
                days=days,
                permalink=review.permalink,
            )
        else:
            message = views.nudge_dm(
                review_id=review_id,
                title=review.title,
                stage_key=stage_key,
                stage_name=stage.name,
                days=days,
            )
    _dm(rt, effect, NUDGE_EVENT, message, review_id=review_id, stage=stage_key, to=to)

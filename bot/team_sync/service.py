"""Async team sync: who may add and vote, saving items and votes, and delivering their messages.

Every change is saved with the side effects it promises (outbox): the item's message in the
review's thread, its refreshed vote count, each participant's invitation DM. Effects of one
review share the status message's group, so an item is never posted before the status message
exists, and a count is refreshed after the post it updates, reading the true count each time.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from bot.delivery.service import record
from bot.features import PeopleAdded, SideEffect, StageSaved, payload_int
from bot.reviews import service as reviews
from bot.reviews.status import status_group
from bot.runtime import Runtime
from bot.slack import posted
from bot.team_sync import views
from storage import participants
from storage import reviews as store
from storage import team_sync as items_store
from storage.db import transaction
from storage.models import Review
from storage.outbox import Claimed
from workflows import team_sync as rules
from workflows.model import Stage, Workflow

log = logging.getLogger(__name__)

DRAFT_KEY = "~team_sync"  # the add modal's draft (never a stage key: those start with a letter)
POST, REFRESH, INVITE_ALL, INVITE = (
    "team_sync.post_item",
    "team_sync.refresh_item",
    "team_sync.invite_all",
    "team_sync.invite",
)


def input_stage(session: Session, review: Review) -> Stage | None:
    """The stage taking the team's items now (None: none ahead, or the review is complete)."""
    submitted = store.latest_answers(session, review.id)
    return rules.open_for_input(reviews.workflow_of(review), review.current_stage, submitted)


def may_add(rt: Runtime, session: Session, review: Review, user_id: str) -> Stage | str:
    """The stage taking items, or why this person may not add one (checked on the server).

    Slack is asked whether the user is an admin only when the review itself does not say.
    """
    stage = input_stage(session, review)
    is_participant = participants.is_on(session, review.id, user_id, participants.PARTICIPANT)
    is_owner = user_id == review.owner_id
    refusal = rules.add_refusal(
        stage=stage,
        is_participant=is_participant,
        is_owner=is_owner,
        is_admin=not (is_participant or is_owner) and rt.is_admin(user_id),
    )
    if stage is None or refusal:
        return refusal or ""  # (add_refusal always says why when no stage is open)
    return stage


def add_item(
    session: Session, review: Review, stage: Stage, user_id: str, column: str, text: str
) -> int:
    """Save the item and promise its thread message; the person's draft is done with."""
    item = items_store.add_item(session, review.id, stage.key, column, text, user_id)
    store.save_draft(session, review.id, DRAFT_KEY, user_id, {})
    record(session, [SideEffect(POST, {"item_id": item.id}, group=status_group(review.id))])
    return item.id


def vote(rt: Runtime, session: Session, item_id: int, user_id: str) -> str | None:
    """Record a +1; what to tell the voter (a refusal or "already voted"), or None when counted.

    One vote per person per item: a second click is told it already counts (the database's
    unique pair decides, so a double-click racing itself counts once).
    """
    item = items_store.get_item(session, item_id)
    review = store.get_review(session, item.review_id) if item else None
    if item is None or review is None:
        return "That item no longer exists."
    stage = input_stage(session, review)
    on_review = participants.is_on(session, review.id, user_id)
    is_owner = user_id == review.owner_id
    refusal = rules.vote_refusal(
        stage_open=stage is not None and stage.key == item.stage_key,
        on_review=on_review,
        is_owner=is_owner,
        is_admin=not (on_review or is_owner) and rt.is_admin(user_id),
    )
    if refusal:
        return refusal
    if not items_store.vote(session, item_id, user_id):
        return "You have already +1'd this item: one vote per person."
    record(session, [SideEffect(REFRESH, {"item_id": item_id}, group=status_group(review.id))])
    return None


# --- hooks: invitations when the stage before an async stage is saved -----------------------


def _takes_async_input(workflow: Workflow | None, stage_key: str) -> bool:
    """Whether the stage that opens collects the team's items (what `deliver_invite_all` checks
    first); without the definition, it may."""
    return workflow is None or workflow.stage(stage_key).async_input is not None


def after_start(review_id: int, workflow: Workflow | None) -> list[SideEffect]:
    """A workflow whose first stage takes async input invites the team at once."""
    if workflow is not None and not _takes_async_input(workflow, workflow.stages[0].key):
        return []
    return [SideEffect(INVITE_ALL, {"review_id": review_id, "first": True})]


def after_stage(saved: StageSaved) -> list[SideEffect]:
    """The stage before an async stage was saved: invite the participants (whether the stage
    is still open for input is checked on delivery)."""
    transition = saved.result.transition
    if saved.result.edited or transition is None or transition.next_stage is None:
        return []
    if not _takes_async_input(saved.workflow, transition.next_stage):
        return []
    return [SideEffect(INVITE_ALL, {"review_id": saved.review_id, "stage": transition.next_stage})]


def invite_effect(review_id: int, stage_key: str, user_id: str) -> SideEffect:
    """One participant's invitation; one group per person, so a second one for the same stage
    (a late joiner's, racing the fan-out) runs after the first and finds its DM."""
    return SideEffect(
        INVITE,
        {"review_id": review_id, "stage": stage_key, "user_id": user_id},
        group=f"team_sync.invite.{review_id}.{user_id}",
    )


def people_added(added: PeopleAdded) -> list[SideEffect]:
    """Participants who join once the team was invited (the async stage is the current one,
    not yet submitted) are invited too; before that, the stage's fan-out will find them."""
    review = store.get_review(added.session, added.review_id)
    if review is None:
        return []
    stage = input_stage(added.session, review)
    if stage is None or stage.key != review.current_stage:
        return []
    return [invite_effect(review.id, stage.key, u) for u in added.user_ids if u != review.owner_id]


def deliver_invite_all(rt: Runtime, effect: Claimed) -> None:
    """One invitation effect per participant (each delivered, paced and retried, on its own)."""
    review_id = payload_int(effect.payload, "review_id")
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return
        workflow = reviews.workflow_of(review)
        key = workflow.stages[0].key if effect.payload.get("first") else effect.payload.get("stage")
        stage = next((s for s in workflow.stages if s.key == key), None)
        if stage is None or stage.async_input is None or input_stage(session, review) != stage:
            return  # not an async stage, or its input is closed (delivered late)
        people = [
            u
            for u in participants.user_ids(session, review_id, participants.PARTICIPANT)
            if u != review.owner_id
        ]
        record(
            session,
            [invite_effect(review_id, stage.key, user_id) for user_id in people],
        )
    if people:
        rt.delivery_due.set()


def deliver_invite(rt: Runtime, effect: Claimed) -> None:
    """A participant's invitation DM, once: a retry finds it by its metadata first."""
    review_id = payload_int(effect.payload, "review_id")
    user_id, stage_key = str(effect.payload.get("user_id")), str(effect.payload.get("stage"))
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return
        stage = reviews.workflow_of(review).stage(stage_key)
        message = views.invitation(
            review_id=review_id, title=review.title, stage_name=stage.name, owner_id=review.owner_id
        )
        started = review.created_at.timestamp() - 60
    dm = str(rt.client.conversations_open(users=user_id)["channel"]["id"])
    if posted.find(
        rt.client, dm, views.INVITE_EVENT, oldest=started, review_id=review_id, stage=stage_key
    ):
        return
    rt.client.chat_postMessage(
        channel=dm,
        metadata=posted.metadata(views.INVITE_EVENT, review_id=review_id, stage=stage_key),
        **message,
    )


# --- the item's thread message ----------------------------------------------------------------


def _item_message(session: Session, item_id: int) -> tuple[Any, Review, dict[str, Any]] | None:
    item = items_store.get_item(session, item_id)
    review = store.get_review(session, item.review_id) if item else None
    if item is None or review is None:
        return None
    spec = reviews.workflow_of(review).stage(item.stage_key).async_input
    label = spec.label(item.column) if spec else item.column
    message = views.item_message(
        item_id=item.id,
        column_label=label,
        text=item.text,
        author_id=item.author_id,
        votes=items_store.vote_count(session, item.id),
    )
    return item, review, message


def deliver_post(rt: Runtime, effect: Claimed) -> None:
    """Post the item in the review's thread (found by its metadata if an earlier try got there);
    the count it shows is read now, so votes cast before it was posted are on it."""
    item_id = payload_int(effect.payload, "item_id")
    with transaction(rt.sessions) as session:
        found = _item_message(session, item_id)
        if found is None:
            return
        item, review, message = found
        if item.message_ts:
            return
        channel, thread = review.channel_id, review.message_ts
    if not thread:
        raise RuntimeError("the review's status message is not posted yet")
    ts = posted.find(rt.client, channel, views.ITEM_EVENT, thread_ts=thread, item_id=item_id)
    if ts is None:
        reply = rt.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            metadata=posted.metadata(views.ITEM_EVENT, item_id=item_id),
            **message,
        )
        ts = str(reply["ts"])
    with transaction(rt.sessions) as session:
        items_store.set_message(session, item_id, channel, ts)
    # A vote counted between reading the count and saving the ts finds no ts to update: its
    # refresh effect comes after this one (same group), so it shows the true count.


def deliver_refresh(rt: Runtime, effect: Claimed) -> None:
    """Rewrite the item's thread message with the vote count as it is now."""
    item_id = payload_int(effect.payload, "item_id")
    with transaction(rt.sessions) as session:
        found = _item_message(session, item_id)
        if found is None:
            return
        item, _, message = found
        channel, ts = item.channel_id, item.message_ts
    if not (channel and ts):
        return  # the post failed for good: nothing in the thread to update
    rt.client.chat_update(channel=channel, ts=ts, **message)

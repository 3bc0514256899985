"""Review steps that several entry points share (a button, a DM, a webhook's suggestion)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View
from sqlalchemy.orm import Session

from bot.reviews import service
from bot.reviews.status import sent_back_note
from bot.reviews.views import stage_modal as sm
from bot.runtime import Runtime
from bot.slack.text import escape, mention
from bot.slack.views import notice_view
from storage import assignments
from storage import reviews as store
from storage import surveys as survey_store
from storage.db import transaction
from workflows import surveys
from workflows.engine import may_act, next_pass, role_refusal
from workflows.model import Role, Stage


def waiting_view(stage: Stage, assignee: str | None = None) -> dict[str, Any]:
    """Refused before any typing: the step belongs to someone else, and they know."""
    if assignee is not None and stage.role != Role.ADMIN:
        text = (
            f"“{escape(stage.name)}” is assigned to {mention(assignee)}: only they, the "
            "review's owner or an admin can complete it."
        )
        return View(
            type="modal",
            title="Not for you",
            close="Close",
            blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
        ).to_dict()
    if stage.role == Role.ADMIN:
        return notice_view(
            "Waiting on an admin",
            (
                f"{role_refusal(stage)} The admins have been told it is waiting; the "
                "review's owner hears when it is closed or changes are asked for."
            ),
        )
    return notice_view("Waiting on the owner", role_refusal(stage))


def _with_survey(
    session: Session, review_id: int, stage: Stage, user_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """The form's values with the stage's survey compiled in (count, themes, answers), kept as
    the draft so every page of the form and its submission see the same answers."""
    responses = [
        surveys.Response(answers, by)
        for answers, by in survey_store.stage_responses(session, review_id, stage.key)
    ]
    if not responses:
        return values
    compiled = surveys.compile_into(stage, values, responses)
    store.save_draft(session, review_id, stage.key, user_id, compiled)
    return compiled


def open_stage(
    rt: Runtime,
    client: WebClient,
    *,
    review_id: int,
    user_id: str,
    trigger_id: str,
    channel_id: str | None,
) -> None:
    """Open the modal of the review's current stage, filled with the user's draft."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None or review.current_stage is None:
            text = "That review is complete." if review else "That review no longer exists."
            client.views_open(trigger_id=trigger_id, view=notice_view("Nothing to do", text))
            return
        workflow = service.workflow_of(review)
        stage = workflow.stage(review.current_stage)
        earlier = store.latest_answers(session, review.id).get(stage.key)
        values = (
            store.get_draft(session, review.id, stage.key, user_id)
            or (next_pass(stage, earlier) if earlier else None)
            or service.prefill(session, review, stage)
        )
        assignee = assignments.assignee(session, review.id, stage.key)
        # The survey's answers are for whoever does the stage (the owner, its assignee, an
        # admin) to read, not the channel's.
        if stage.survey is not None and (
            user_id in (review.owner_id, assignee) or rt.is_admin(user_id)
        ):
            values = _with_survey(session, review.id, stage, user_id, values)
        if stage.async_input and not values.get(stage.async_input.prefill):
            # The team's items (bot/team_sync), most votes first, for the facilitator to edit.
            compiled = service.async_input_prefill(session, review, stage)
            if compiled:
                values = {**values, stage.async_input.prefill: compiled}
        title, meta = review.title, sm.ModalMeta.of(review.id, workflow, stage.key)
        returned = sent_back_note(session, review, rt.settings.timezone)
    assigned = None if assignee is None else assignee == user_id
    is_owner = user_id == review.owner_id
    # The owner and the assignee need no admin check (a users.info call before views.open).
    is_admin = (
        False if (is_owner or assigned) and stage.role != Role.ADMIN else rt.is_admin(user_id)
    )
    if not may_act(stage, is_admin=is_admin, is_owner=is_owner, assigned=assigned):
        client.views_open(
            trigger_id=trigger_id, view=waiting_view(stage, assignee if not assigned else None)
        )
        return
    client.views_open(
        trigger_id=trigger_id,
        view=sm.stage_view(stage, title=title, meta=meta, values=values, returned=returned),
    )

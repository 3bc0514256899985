"""Starting a review and walking it stage by stage in modals.

View submissions validate and save before ack() (errors must travel in the ack); every Slack call
happens after it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.delivery.service import record
from bot.features import ReviewHooks, StageSaved
from bot.reviews import service
from bot.reviews.flows import open_stage
from bot.reviews.status import status_effect
from bot.reviews.views import stage_modal as sm
from bot.reviews.views.review_message import CONTINUE, EDIT_STAGE
from bot.reviews.views.start_modal import CALLBACK_ID as START
from bot.reviews.views.start_modal import TITLE_MAX, parse_start
from bot.runtime import Runtime
from bot.slack import state
from bot.slack.text import clip, escape
from bot.slack.views import notice_view
from storage import reviews as store
from storage.db import transaction
from workflows.engine import clean
from workflows.model import Role

log = logging.getLogger(__name__)


EDIT_PICKER = "stage_edit_pick"


def edit_picker(review_id: int, title: str, stages: list[tuple[str, str]]) -> dict[str, Any]:
    """Which submitted stage to correct (the next modal is that stage, filled in)."""
    return View(
        type="modal",
        callback_id=EDIT_PICKER,
        title="Edit a stage",
        submit="Open",
        close="Cancel",
        private_metadata=str(review_id),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{escape(clip(title, 200))}*\nYour changes are saved as a new "
                        "revision; the earlier answers stay in the history."
                    )
                )
            ),
            InputBlock(
                block_id="stage",
                label="Stage",
                element=StaticSelectElement(
                    action_id="v", options=[Option(value=k, label=clip(n, 75)) for k, n in stages]
                ),
            ),
        ],
    ).to_dict()


def _error_response(
    stage, raw: dict[str, Any], meta: sm.ModalMeta, errors: dict[str, str], title: str
) -> dict[str, Any]:
    """Errors on this page go next to their fields; otherwise show the page that has them."""
    here = sm.fields_on_page(stage, raw, meta)
    on_page = {
        sm.block_for_error(stage, k): m for k, m in errors.items() if k.split(".")[0] in here
    }
    if on_page:
        return {"response_action": "errors", "errors": on_page}
    first_key, message = next(iter(errors.items()))
    meta.page = sm.page_of(stage, raw, meta, sm.block_for_error(stage, first_key))
    return {
        "response_action": "update",
        "view": sm.stage_view(stage, title=title, meta=meta, values=raw, notice=message),
    }


def start_submitted(
    ack: Ack, body: dict, view: dict, client: WebClient, rt: Runtime, hooks: ReviewHooks
) -> None:
    """The start form: validate, then save the review and promise its status message (outbox)."""
    values = parse_start(view["state"]["values"])
    errors = {}
    if not values["title"]:
        errors["title"] = "Give the review a title."
    elif len(values["title"]) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters."
    workflow = rt.registry.find(values["workflow"] or "")
    if workflow is None:
        errors["workflow"] = "Choose a workflow."
    if not values["channel"]:
        errors["channel"] = "Choose the channel for the review's updates."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    user_id = body["user"]["id"]
    try:
        with transaction(rt.sessions) as session:
            review = service.start_review(
                session,
                workflow,
                team_id=body["team"]["id"],
                title=values["title"],
                channel_id=values["channel"],
                owner_id=values["owner"] or user_id,
                started_by=user_id,
            )
            review_id = review.id
            first = workflow.stages[0]
            draft = json.loads(view.get("private_metadata") or "{}").get("d") or {}
            if draft and set(draft) <= {f.key for f in first.fields}:
                store.save_draft(session, review_id, first.key, review.owner_id, draft)
            effects = [status_effect(review_id, starter=user_id), *hooks.started(review_id)]
            record(session, effects)
    except Exception:  # the database is down or read-only: say so, keep the form
        log.exception("saving a new review failed")
        ack(response_action="errors", errors={"title": (
            "Saving failed on our side. Your answers are still here: try again in a minute.")})
        return
    ack()
    rt.delivery_due.set()


def continue_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    open_stage(
        rt,
        client,
        review_id=int(action["value"]),
        user_id=body["user"]["id"],
        trigger_id=body["trigger_id"],
        channel_id=(body.get("channel") or {}).get("id"),
    )


def edit_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    user_id = body["user"]["id"]
    with transaction(rt.sessions) as session:
        review = store.get_review(session, int(action["value"]))
        if review is None:
            return
        allowed = user_id == review.owner_id or rt.is_admin(user_id)
        stages = [(s.key, s.name) for s in service.editable_stages(session, review)]
        review_id, title = review.id, review.title
    if not allowed:
        client.views_open(
            trigger_id=body["trigger_id"],
            view=notice_view(
                "Not for you", "Only the review's owner or an admin can edit a stage."
            ),
        )
        return
    client.views_open(trigger_id=body["trigger_id"], view=edit_picker(review_id, title, stages))


def edit_picked(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    review_id = int(view["private_metadata"])
    chosen = state.option(view["state"]["values"], "stage")
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        stage = service.workflow_of(review).stage(chosen or "")
        values = (
            store.get_draft(session, review_id, stage.key, body["user"]["id"])
            or store.latest_answers(session, review_id).get(stage.key)
            or {}
        )
        title = review.title
    meta = sm.ModalMeta(review_id, stage.key, edit=True)
    ack(response_action="update", view=sm.stage_view(stage, title=title, meta=meta, values=values))


def stage_submitted(ack: Ack, body: dict, view: dict, rt: Runtime, hooks: ReviewHooks) -> None:
    """A stage form's Next or Submit: validate and save before ack(); the rest after."""
    meta = sm.ModalMeta.loads(view["private_metadata"])
    user_id = body["user"]["id"]
    is_admin: bool | None = None  # asked of Slack only where it decides (see _admin_matters)
    saved: service.SubmitResult | None = None
    for _ in range(2):
        try:
            with transaction(rt.sessions) as session:
                review = store.get_review(session, meta.review_id, for_update=True)
                if review is None:
                    response = {
                        "response_action": "update",
                        "view": notice_view("Review gone", "That review no longer exists."),
                    }
                else:
                    if is_admin is None and _admin_matters(review, meta, user_id):
                        raise _AskSlack  # nothing written yet: ask, then save again
                    response, saved = _submit(rt, session, review, meta, view, user_id,
                                              bool(is_admin))
                    if saved is not None:
                        record(session, hooks.stage_saved(
                            StageSaved(meta.review_id, meta.stage, user_id, saved)))
        except _AskSlack:
            is_admin = rt.is_admin(user_id)
            continue
        except Exception:
            log.exception("saving stage %s of review %s failed", meta.stage, meta.review_id)
            response = {
                "response_action": "errors",
                "errors": {
                    _first_input(view): (
                        "Saving failed on our side. Your answers are still here: try Submit "
                        "again."
                    )
                },
            }
        break
    ack(**response)
    if saved is not None:
        rt.delivery_due.set()


class _AskSlack(Exception):
    """The submission needs the user's admin rights, which only Slack knows."""


def _admin_matters(review: Any, meta: sm.ModalMeta, user_id: str) -> bool:
    """Whether this submission turns on the user's admin rights. Asking costs a users.info call
    (as long as Slack takes, and the ack waits for it), so it is asked only for admin stages,
    and for owner stages and edits by someone other than the review's owner."""
    role = service.workflow_of(review).stage(meta.stage).role
    is_owner = review.owner_id == user_id
    return role == Role.ADMIN or (not is_owner and (role == Role.OWNER or meta.edit))


def _submit(
    rt: Runtime, session, review, meta: sm.ModalMeta, view: dict, user_id: str, is_admin: bool
) -> tuple[dict[str, Any], service.SubmitResult | None]:
    """The ack's response, and the saved result when the stage was saved."""
    workflow = service.workflow_of(review)
    stage = workflow.stage(meta.stage)
    draft = store.get_draft(session, review.id, stage.key, user_id) or {}
    raw = sm.raw_from_state(stage, view["state"]["values"], into=draft)
    last_page = len(sm.pages(stage, raw, meta)) - 1
    if meta.page < last_page:
        _, errors = clean(stage, raw, service.rule_context(rt.settings))
        here = sm.fields_on_page(stage, raw, meta)
        errors = {k: m for k, m in errors.items() if k.split(".")[0] in here}
        if errors:
            return _error_response(stage, raw, meta, errors, review.title), None
        store.save_draft(session, review.id, stage.key, user_id, raw)
        meta.page += 1
        return {
            "response_action": "update",
            "view": sm.stage_view(stage, title=review.title, meta=meta, values=raw),
        }, None
    result = service.submit_stage(
        session,
        review,
        stage.key,
        raw,
        user_id=user_id,
        is_admin=is_admin,
        context=service.rule_context(rt.settings),
        edit=meta.edit,
    )
    if result.refused:
        return {"response_action": "update", "view": notice_view("Not saved", result.refused)}, None
    if result.errors:
        store.save_draft(session, review.id, stage.key, user_id, raw)
        return _error_response(stage, raw, meta, result.errors, review.title), None
    return {}, result


def stage_closed(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    ack()
    meta = sm.ModalMeta.loads(view["private_metadata"])
    user_id = body["user"]["id"]
    with transaction(rt.sessions) as session:
        review = store.get_review(session, meta.review_id)
        if review is None or review.current_stage != meta.stage:
            return
        stage = service.workflow_of(review).stage(meta.stage)
        draft = store.get_draft(session, review.id, stage.key, user_id) or {}
        store.save_draft(
            session,
            review.id,
            stage.key,
            user_id,
            sm.raw_from_state(stage, view["state"]["values"], into=draft),
        )


def add_row(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    view = body["view"]
    meta = sm.ModalMeta.loads(view["private_metadata"])
    user_id = body["user"]["id"]
    with transaction(rt.sessions) as session:
        review = store.get_review(session, meta.review_id)
        if review is None:
            return
        stage = service.workflow_of(review).stage(meta.stage)
        draft = store.get_draft(session, review.id, stage.key, user_id) or {}
        raw = sm.raw_from_state(stage, view["state"]["values"], into=draft)
        # The group may move to another page: what was typed on this one is kept.
        store.save_draft(session, review.id, stage.key, user_id, raw)
        title = review.title
    group = stage.field(action["value"])
    meta.rows[group.key] = sm.rows_shown(group, raw, meta) + 1
    meta.page = sm.page_of(stage, raw, meta, f"h.{group.key}")
    try:
        client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=sm.stage_view(stage, title=title, meta=meta, values=raw),
        )
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":  # a newer update already won
            raise


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.view(START)(start_submitted)
    app.action(CONTINUE)(continue_clicked)
    app.action(EDIT_STAGE)(edit_clicked)
    app.view(EDIT_PICKER)(edit_picked)
    app.view(sm.CALLBACK_ID)(stage_submitted)
    app.view_closed(sm.CALLBACK_ID)(stage_closed)
    app.action(sm.ADD_ROW)(add_row)


def _first_input(view: dict) -> str:
    return next((b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"), "o")

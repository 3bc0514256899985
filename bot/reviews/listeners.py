"""Starting a review and walking it stage by stage in modals.

View submissions validate and save before ack() (errors must travel in the ack); every Slack call
happens after it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
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
from bot.features import ReviewHooks, SideEffect, StageSaved
from bot.reviews import service
from bot.reviews.flows import open_stage
from bot.reviews.status import sent_back_note, status_effect, status_group
from bot.reviews.views import stage_modal as sm
from bot.reviews.views.review_message import CONTINUE, EDIT_STAGE
from bot.reviews.views.start_modal import CALLBACK_ID as START
from bot.reviews.views.start_modal import PEOPLE_EFFECT, TITLE_MAX, parse_people, parse_start
from bot.runtime import Runtime
from bot.slack import menu, state
from bot.slack.text import clip, escape
from bot.slack.views import notice_view
from storage import participants
from storage import reviews as store
from storage.db import transaction
from workflows.engine import clean, may_act, role_refusal, rows_needed_now
from workflows.model import Role, Stage

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
    stage,
    raw: dict[str, Any],
    meta: sm.ModalMeta,
    errors: dict[str, str],
    title: str,
    returned: str | None = None,
    shown: set[str] | None = None,
) -> dict[str, Any]:
    """Errors on this page go next to their fields; otherwise show the page that has them.

    `shown` holds the input blocks of the form as submitted: an error for a field it does not
    show (an answer changed without the form being drawn again) comes with the form redrawn.
    """
    here = sm.fields_on_page(stage, raw, meta)
    on_page = {
        sm.block_for_error(stage, k, meta): m for k, m in errors.items() if k.split(".")[0] in here
    }
    if on_page and (shown is None or set(on_page) <= shown):
        return {"response_action": "errors", "errors": on_page}
    first_key, message = next(
        (
            (k, m)
            for k, m in errors.items()
            if shown is not None and sm.block_for_error(stage, k, meta) not in shown
        ),
        next(iter(errors.items())),
    )
    meta.page = sm.page_of(stage, raw, meta, sm.block_for_error(stage, first_key, meta))
    return {
        "response_action": "update",
        "view": sm.stage_view(
            stage,
            title=title,
            meta=meta,
            values=raw,
            notice=message,
            returned=returned if meta.page == 0 else None,
        ),
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
    # each of these, missing, has an error above
    assert workflow is not None and values["title"] and values["channel"]
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
            effects = [
                status_effect(review_id, starter=user_id),
                *hooks.started(review_id, workflow),
            ]
            people = parse_people(view["state"]["values"])
            if people:
                # Stored now; bot/people expands the user groups and invites (after the status
                # message, which the invitations link to).
                participants.add(
                    session, review_id, people.participants, participants.PARTICIPANT, user_id
                )
                participants.add(
                    session, review_id, people.stakeholders, participants.STAKEHOLDER, user_id
                )
                effects.append(
                    SideEffect(
                        PEOPLE_EFFECT,
                        {"review_id": review_id, "groups": people.groups, "by": user_id},
                        group=status_group(review_id),
                    )
                )
            record(session, effects)
    except Exception:  # the database is down or read-only: say so, keep the form
        log.exception("saving a new review failed")
        ack(
            response_action="errors",
            errors={
                "title": (
                    "Saving failed on our side. Your answers are still here: try again in a minute."
                )
            },
        )
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
        is_admin = rt.is_admin(user_id)
        allowed = user_id == review.owner_id or is_admin
        # An admin's stage is not offered to others: they would fill it and be refused on save.
        stages = [
            (s.key, s.name)
            for s in service.editable_stages(session, review)
            if may_act(s, is_admin=is_admin, is_owner=user_id == review.owner_id)
        ]
        review_id, title = review.id, review.title
    if not allowed:
        client.views_open(
            trigger_id=body["trigger_id"],
            view=notice_view(
                "Not for you", "Only the review's owner or an admin can edit a stage."
            ),
        )
        return
    if not stages:
        client.views_open(
            trigger_id=body["trigger_id"],
            view=notice_view("Nothing to edit", "No stage you can edit has been submitted yet."),
        )
        return
    client.views_open(trigger_id=body["trigger_id"], view=edit_picker(review_id, title, stages))


def edit_picked(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    review_id = int(view["private_metadata"])
    chosen = state.option(view["state"]["values"], "stage")
    user_id = body["user"]["id"]
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            ack(
                response_action="update",
                view=notice_view("Review gone", "That review no longer exists."),
            )
            return
        workflow = service.workflow_of(review)
        stage = workflow.stage(chosen or "")
        if not may_act(stage, is_admin=rt.is_admin(user_id), is_owner=user_id == review.owner_id):
            ack(response_action="update", view=notice_view("Not for you", role_refusal(stage)))
            return
        values = (
            store.get_draft(session, review_id, stage.key, body["user"]["id"])
            or store.latest_answers(session, review_id).get(stage.key)
            or {}
        )
        title = review.title
    meta = sm.ModalMeta.of(review_id, workflow, stage.key, edit=True)
    ack(response_action="update", view=sm.stage_view(stage, title=title, meta=meta, values=values))


def stage_submitted(ack: Ack, body: dict, view: dict, rt: Runtime, hooks: ReviewHooks) -> None:
    """A stage form's Next or Submit: validate and save before ack(); the rest after."""
    meta = sm.ModalMeta.loads(view["private_metadata"])
    user_id = body["user"]["id"]
    is_admin: bool | None = None  # asked of Slack only where it decides (see _admin_matters)
    saved: service.SubmitResult | None = None
    response: dict[str, Any] = {}  # the keyword arguments of ack()
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
                    if is_admin is None and _admin_matters(session, review, meta, user_id):
                        raise _AskSlack  # nothing written yet: ask, then save again
                    response, saved = _submit(
                        rt, session, review, meta, view, user_id, bool(is_admin)
                    )
                    if saved is not None:
                        record(
                            session,
                            hooks.stage_saved(
                                StageSaved(
                                    meta.review_id,
                                    meta.stage,
                                    user_id,
                                    saved,
                                    workflow=service.workflow_of(review),
                                    rt=rt,
                                    session=session,
                                )
                            ),
                        )
        except _AskSlack:
            is_admin = rt.is_admin(user_id)
            continue
        except Exception:
            log.exception("saving stage %s of review %s failed", meta.stage, meta.review_id)
            response = {
                "response_action": "errors",
                "errors": {
                    _first_input(view): (
                        "Saving failed on our side. Your answers are still here: try Submit again."
                    )
                },
            }
        break
    ack(**response)
    if saved is not None:
        rt.delivery_due.set()


class _AskSlack(Exception):
    """The submission needs the user's admin rights, which only Slack knows."""


def _admin_matters(session: Any, review: Any, meta: sm.ModalMeta, user_id: str) -> bool:
    """Whether this submission turns on the user's admin rights. Asking costs a users.info call
    (as long as Slack takes, and the ack waits for it), so it is asked only for admin stages,
    and for owner stages, stages assigned to someone else and edits by someone other than the
    review's owner."""
    role = service.workflow_of(review).stage(meta.stage).role
    is_owner = review.owner_id == user_id
    if role == Role.ADMIN:
        return True
    if is_owner:
        return False
    assigned = service.assigned_to(session, review, meta.stage, user_id)
    if meta.edit:
        return True
    return (role == Role.OWNER and assigned is not True) or assigned is False


def _submit(
    rt: Runtime, session, review, meta: sm.ModalMeta, view: dict, user_id: str, is_admin: bool
) -> tuple[dict[str, Any], service.SubmitResult | None]:
    """The ack's response, and the saved result when the stage was saved."""
    workflow = service.workflow_of(review)
    stage = workflow.stage(meta.stage)
    state = store.stage_state(session, review.id, stage.key, user_id)  # (one statement)
    raw = sm.raw_from_state(stage, view["state"]["values"], into=state.draft or {})
    shown = {b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"} or None

    def returned() -> str | None:
        """Why the stage is open again, shown with errors only: not read on the way to a save,
        where its query would only lengthen the ack."""
        return None if meta.edit else sent_back_note(session, review, rt.settings.timezone)

    last_page = (meta.pages or len(sm.pages(stage, raw, meta))) - 1  # as drawn, when known
    if meta.page < last_page:
        _, errors = clean(stage, raw, service.rule_context(rt.settings))
        here = sm.fields_on_page(stage, raw, meta)
        errors = {k: m for k, m in errors.items() if k.split(".")[0] in here}
        if errors:
            return _error_response(stage, raw, meta, errors, review.title, returned(), shown), None
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
        state=state,
    )
    if result.refused:
        return {"response_action": "update", "view": notice_view("Not saved", result.refused)}, None
    if result.errors:
        store.save_draft(session, review.id, stage.key, user_id, raw)
        return (
            _error_response(stage, raw, meta, result.errors, review.title, returned(), shown),
            None,
        )
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


def _redraw(
    body: dict,
    client: WebClient,
    rt: Runtime,
    change: Callable[[Stage, dict[str, Any], sm.ModalMeta], str],
) -> None:
    """Draw the open stage form again after a click in it: what was typed is read from the
    view's state and kept as the draft (the form may move across pages), `change` adjusts the
    answers and the modal's metadata and names the block to show, and views.update with the
    view's hash replaces the form unless a newer update already did."""
    view = body["view"]
    if view.get("callback_id") != sm.CALLBACK_ID:
        return
    meta = sm.ModalMeta.loads(view["private_metadata"])
    user_id = body["user"]["id"]
    with transaction(rt.sessions) as session:
        review = store.get_review(session, meta.review_id)
        if review is None:
            return
        stage = service.workflow_of(review).stage(meta.stage)
        draft = store.get_draft(session, review.id, stage.key, user_id) or {}
        raw = sm.raw_from_state(stage, view["state"]["values"], into=draft)
        shown = change(stage, raw, meta)
        store.save_draft(session, review.id, stage.key, user_id, raw)
        title = review.title
        returned = None if meta.edit else sent_back_note(session, review, rt.settings.timezone)
    meta.page = sm.page_of(stage, raw, meta, shown)
    try:
        client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=sm.stage_view(
                stage,
                title=title,
                meta=meta,
                values=raw,
                returned=returned if meta.page == 0 else None,
            ),
        )
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":  # a newer update already won
            raise


def add_row(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """ "Add another": one more row of the group, on the page the group is on."""
    ack()

    def more(stage: Stage, raw: dict[str, Any], meta: sm.ModalMeta) -> str:
        group = stage.field(action["value"])
        meta.rows[group.key] = sm.rows_shown(stage, group, raw, meta) + 1
        return f"h.{group.key}"

    _redraw(body, client, rt, more)


def remove_row(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """ "Remove" on a row the group can do without: the row goes, with what was typed in it;
    the others keep theirs (the draft follows)."""
    ack()
    key, _, position = str(action["value"]).rpartition(".")

    def fewer(stage: Stage, raw: dict[str, Any], meta: sm.ModalMeta) -> str:
        group = stage.field(key)
        shown = sm.rows_shown(stage, group, raw, meta)
        rows = raw.get(group.key)
        index = int(position)
        if index < rows_needed_now(stage, group, raw) or index >= shown:
            return f"h.{group.key}"  # a stale click: that row can't go, or went already
        if isinstance(rows, list) and index < len(rows):
            del rows[index]
        meta.rows[group.key] = shown - 1
        # The rows below move up: new block ids, or Slack would keep the removed row's text
        # in the ids it takes over.
        meta.removed[group.key] = meta.removed.get(group.key, 0) + 1
        return f"h.{group.key}"

    _redraw(body, client, rt, fewer)


def answer_changed(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """An answer other fields depend on was given (an input with `dispatch_action`): draw the
    form again so the fields that now apply appear, required, and the others go (Slack's
    dynamic modals). Nothing typed is lost: hidden answers stay in the draft."""
    ack()
    _redraw(body, client, rt, lambda stage, raw, meta: action["block_id"])


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions.

    The status message's menu offers other features' actions (export, add an item...): its
    middleware hands each choice to the listener of the button it stands for.
    """
    app.use(menu.as_button)
    app.view(START)(start_submitted)
    app.action(CONTINUE)(continue_clicked)
    app.action(EDIT_STAGE)(edit_clicked)
    app.view(EDIT_PICKER)(edit_picked)
    app.view(sm.CALLBACK_ID)(stage_submitted)
    app.view_closed(sm.CALLBACK_ID)(stage_closed)
    app.action(sm.ADD_ROW)(add_row)
    app.action(sm.REMOVE_ROW)(remove_row)
    app.action(sm.ANSWER_CHANGED)(answer_changed)


def _first_input(view: dict) -> str:
    return next((b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"), "o")

"""The People and Assign stage forms, the assignee's Start button, and the user group picker.

Permissions are checked here, on the server, whatever the status message offered: only the
review's owner or an admin changes who takes part or hands a stage to someone; the Start button
opens the form only for whom the stage allows (bot/reviews/flows.py decides).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery.service import record
from bot.features import ReviewHooks
from bot.people import service, views
from bot.reviews.flows import open_stage
from bot.reviews.service import workflow_of
from bot.reviews.status import status_effect
from bot.reviews.views.review_message import ASSIGN_STAGE, PEOPLE
from bot.reviews.views.start_modal import GROUPS_BLOCK, parse_people
from bot.runtime import Runtime
from bot.slack import state
from bot.slack.text import clip, escape, mention
from storage import participants
from storage import reviews as store
from storage.db import transaction

log = logging.getLogger(__name__)

NOT_YOURS_PEOPLE = "Only the review's owner or an admin can change who takes part."
NOT_YOURS_ASSIGN = "Only the review's owner or an admin can assign a stage."


def people_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """ "People" on the status message: the lists, for the owner or an admin to edit."""
    ack()
    user_id = body["user"]["id"]
    with transaction(rt.sessions) as session:
        review = store.get_review(session, int(action["value"]))
        if review is None:
            view = views.notice("Review gone", "That review no longer exists.")
        elif not service.may_manage(rt, review, user_id):
            view = views.notice("Not for you", NOT_YOURS_PEOPLE)
        else:
            view = views.people_modal(
                review.id,
                review.title,
                participants.user_ids(session, review.id, participants.PARTICIPANT),
                participants.user_ids(session, review.id, participants.STAKEHOLDER),
            )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def people_saved(ack: Ack, body: dict, view: dict, rt: Runtime, hooks: ReviewHooks) -> None:
    """Save the lists; invitations for the new participants go out through the outbox."""
    user_id = body["user"]["id"]
    chosen = parse_people(view["state"]["values"])
    with transaction(rt.sessions) as session:
        review = store.get_review(session, int(view["private_metadata"]), for_update=True)
        if review is None:
            ack(
                response_action="update",
                view=views.notice("Review gone", "That review no longer exists."),
            )
            return
        if not service.may_manage(rt, review, user_id):
            ack(response_action="update", view=views.notice("Not saved", NOT_YOURS_PEOPLE))
            return
        effects = service.change_people(
            session,
            review.id,
            by=user_id,
            participants_chosen=chosen.participants,
            stakeholders_chosen=chosen.stakeholders,
            hooks=hooks,
        )
        effects.append(status_effect(review.id))
        if chosen.groups:
            effects.append(service.invite_effect(review.id, chosen.groups, user_id))
        record(session, effects)
    ack()
    rt.delivery_due.set()


def assign_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """ "Assign stage": which open or coming stage, to whom (owner or admin)."""
    ack()
    user_id = body["user"]["id"]
    with transaction(rt.sessions) as session:
        review = store.get_review(session, int(action["value"]))
        if review is None:
            view = views.notice("Review gone", "That review no longer exists.")
        elif not service.may_manage(rt, review, user_id):
            view = views.notice("Not for you", NOT_YOURS_ASSIGN)
        elif review.current_stage is None:
            view = views.notice("Nothing to assign", "That review is complete.")
        else:
            stages = [(s.key, s.name) for s in service.assignable(session, review)]
            view = (
                views.assign_modal(review.id, review.title, stages, review.current_stage)
                if stages
                else views.notice("Nothing to assign", "Every stage left is an admin's.")
            )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def assign_saved(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    """Hand the stage over (the assignee's DM goes out now if the stage is open), or give it
    back to the owner ("Nobody")."""
    user_id = body["user"]["id"]
    values = view["state"]["values"]
    stage_key, assignee = state.option(values, "stage"), state.user(values, "assignee")
    nobody = views.NOBODY in state.options(values, views.NOBODY)
    if nobody and assignee:
        ack(
            response_action="errors",
            errors={views.NOBODY: "Choose a person or Nobody, not both."},
        )
        return
    if not assignee and not nobody:
        ack(response_action="errors", errors={"assignee": "Choose the person (or Nobody)."})
        return
    with transaction(rt.sessions) as session:
        review = store.get_review(session, int(view["private_metadata"]), for_update=True)
        if review is None:
            ack(
                response_action="update",
                view=views.notice("Review gone", "That review no longer exists."),
            )
            return
        if not service.may_manage(rt, review, user_id):
            ack(response_action="update", view=views.notice("Not saved", NOT_YOURS_ASSIGN))
            return
        stage = next((s for s in service.assignable(session, review) if s.key == stage_key), None)
        if stage is None:
            ack(
                response_action="errors",
                errors={"stage": "That stage is done or an admin's: choose another."},
            )
            return
        name = escape(stage.name)
        if assignee is None:
            effects = service.unassign_stage(session, review, stage.key)
            record(session, effects)
            title = "Stage un-assigned"
            text = (
                f"*{name}* is back with the review's owner: it no longer waits on anyone else."
                if effects
                else f"*{name}* was not assigned to anyone: nothing changed."
            )
        else:
            record(session, service.assign_stage(session, review, stage.key, assignee, user_id))
            when = (
                "They have a DM to start it."
                if review.current_stage == stage.key
                else "They get a DM when it opens."
            )
            title, text = "Stage assigned", f"*{name}* is assigned to {mention(assignee)}. {when}"
    ack(response_action="update", view=views.notice(title, text))
    rt.delivery_due.set()


def start_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """The assignee's "Start <stage>" in their DM: that stage's form, if it is still open."""
    ack()
    review_text, _, stage_key = str(action["value"]).partition("|")
    with transaction(rt.sessions) as session:
        review = store.get_review(session, int(review_text))
        current = review.current_stage if review else None
        name = workflow_of(review).stage(stage_key).name if review and current else ""
        now_at = workflow_of(review).stage(current).name if review and current else None
    if review is not None and current is not None and current != stage_key:
        client.views_open(
            trigger_id=body["trigger_id"],
            view=views.notice(
                "Not open",
                f"*{escape(name)}* is not open: the review is at {escape(now_at or '')}.",
            ),
        )
        return
    open_stage(
        rt,
        client,
        review_id=int(review_text),
        user_id=body["user"]["id"],
        trigger_id=body["trigger_id"],
        channel_id=None,
    )


def group_options(ack: Ack, payload: dict, rt: Runtime) -> None:
    """The user group picker: Slack user groups whose name or handle has what was typed."""
    typed = str(payload.get("value") or "").strip().lower().lstrip("@")
    try:
        groups: list[dict[str, Any]] = rt.client.usergroups_list().get("usergroups") or []
    except SlackApiError as exc:
        log.warning("usergroups.list failed: %s", exc.response.get("error"))
        groups = []
    options = [
        {
            "text": {
                "type": "plain_text",
                "text": clip(f"@{g.get('handle', '')} ({g.get('name', '')})", 75),
            },
            "value": str(g["id"]),
        }
        for g in groups
        if not g.get("date_delete")
        and (not typed or typed in f"{g.get('handle', '')} {g.get('name', '')}".lower())
    ]
    ack(options=options[:100])


def asks_for_groups(body: dict) -> bool:
    """The user group picker's options request (Bolt matches options by action id only, and
    every input's action id is `v`)."""
    return body.get("block_id") == GROUPS_BLOCK


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.action(PEOPLE)(people_clicked)
    app.view(views.PEOPLE_MODAL)(people_saved)
    app.action(ASSIGN_STAGE)(assign_clicked)
    app.view(views.ASSIGN_MODAL)(assign_saved)
    app.action(views.START_STAGE)(start_clicked)
    app.options({"action_id": "v"}, matchers=[asks_for_groups])(group_options)

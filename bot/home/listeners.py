"""App Home: what is waiting on me, my action items, my reviews' items, my reviews."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.action_items import service as action_items
from bot.action_items.listeners import ITEM_ACTIONS, ITEM_MODALS, from_home
from bot.delivery.service import riding_along
from bot.features import SideEffect
from bot.home.views import MAX_MINE, MAX_OWNED, home_view
from bot.insights.service import home_blocks
from bot.reviews.service import workflow_of
from bot.reviews.views.lists import review_line
from bot.reviews.views.start_modal import start_view
from bot.runtime import Runtime
from storage import assignments
from storage import reviews as store
from storage.db import transaction
from storage.outbox import Claimed
from storage.types import utcnow
from workflows.model import Role


def publish_home(rt: Runtime, client: WebClient, team_id: str, user_id: str) -> None:
    is_admin = rt.is_admin(user_id)
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team_id)
        waiting, lines = [], []
        waiting_on: dict[int, str] = {}  # review id -> the assignee of its current stage
        for review in store.list_reviews(session, ws.id, user_id=user_id, limit=50):
            workflow = workflow_of(review)
            stage = workflow.stage(review.current_stage) if review.current_stage else None
            lines.append(review_line(review, workflow.name, stage.name if stage else None))
            if stage and (stage.role != Role.ADMIN or is_admin):
                waiting.append((review.id, review.title, stage.name))
                who = assignments.assignee(session, review.id, stage.key)
                if who and who != user_id:
                    waiting_on[review.id] = who
        for review in assignments.open_for(session, ws.id, user_id):
            assert review.current_stage is not None  # open_for joins on it
            entry = (review.id, review.title, workflow_of(review).stage(review.current_stage).name)
            if entry not in waiting:
                waiting.append(entry)
        if is_admin:
            for review in store.awaiting_admin(session, ws.id):
                assert review.current_stage is not None  # awaiting_admin asks for one
                stage = workflow_of(review).stage(review.current_stage)
                entry = (review.id, review.title, stage.name)
                if stage.role == Role.ADMIN and entry not in waiting:
                    waiting.append(entry)
        mine = action_items.items_of(rt, session, user_id, ws.id, MAX_MINE)
        owned = action_items.items_in_reviews_of(rt, session, user_id, ws.id, MAX_OWNED)
        figures = home_blocks(rt, session, ws, utcnow())
    view = home_view(
        waiting=waiting,
        reviews=lines,
        mine=mine,
        owned=owned,
        admin=is_admin,
        waiting_on=waiting_on,
    )
    view["blocks"][-1:-1] = figures  # the team's insights, above "Start a review"
    client.views_publish(user_id=user_id, view=view)


def home_opened(event: dict, context: dict, client: WebClient, rt: Runtime) -> None:
    if event.get("tab", "home") == "home":
        publish_home(rt, client, context["team_id"], event["user"])


def home_start(ack: Ack, body: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    client.views_open(
        trigger_id=body["trigger_id"],
        view=start_view(rt.registry.all(), user_id=body["user"]["id"], channel_id=""),
    )


PUBLISH_EFFECT = "home.publish"


def publish_effect(team_id: str, user_id: str) -> SideEffect:
    """Draw the person's Home again, as it is when delivered: views.publish replaces the whole
    tab, so a retry (or two redraws in a row) converges on the current state."""
    return SideEffect(
        PUBLISH_EFFECT, {"team_id": team_id, "user_id": user_id}, group=f"home:{user_id}"
    )


def deliver_publish(rt: Runtime, effect: Claimed) -> None:
    publish_home(rt, rt.client, str(effect.payload["team_id"]), str(effect.payload["user_id"]))


def item_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    """An item's button on Home: the action items' own listener, and Home drawn again by the
    outbox, recorded with the change the click made (a Slack outage delays it, never loses it).
    A click that changes nothing (refused, a modal opened) leaves Home as it is."""
    with riding_along([publish_effect(body["team"]["id"], body["user"]["id"])]):
        ITEM_ACTIONS[action["action_id"]](ack=ack, body=body, action=action, client=client, rt=rt)


def item_saved(ack: Ack, body: dict, view: dict, client: WebClient, rt: Runtime) -> None:
    """A modal opened from Home (status, reassign) saved: handled, and Home drawn again by the
    outbox with the change (see item_clicked)."""
    with riding_along([publish_effect(body["team"]["id"], body["user"]["id"])]):
        ITEM_MODALS[view["callback_id"]](ack=ack, body=body, view=view, client=client, rt=rt)


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.event("app_home_opened")(home_opened)
    app.action("home_start")(home_start)
    for action_id in ITEM_ACTIONS:
        app.action(action_id, matchers=[from_home])(item_clicked)
    for callback_id in ITEM_MODALS:
        app.view(callback_id, matchers=[from_home])(item_saved)

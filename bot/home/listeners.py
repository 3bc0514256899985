"""App Home: what is waiting on me, my reviews, my action items."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.insights.service import home_blocks
from bot.reviews.service import workflow_of
from bot.reviews.views.lists import home_view, review_line
from bot.reviews.views.start_modal import start_view
from bot.runtime import Runtime
from storage import reviews as store
from storage.db import transaction
from storage.types import utcnow
from workflows.model import Role


def publish_home(rt: Runtime, client: WebClient, team_id: str, user_id: str) -> None:
    is_admin = rt.is_admin(user_id)
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team_id)
        waiting, lines = [], []
        for review in store.list_reviews(session, ws.id, user_id=user_id, limit=50):
            workflow = workflow_of(review)
            stage = workflow.stage(review.current_stage) if review.current_stage else None
            lines.append(review_line(review, workflow.name, stage.name if stage else None))
            if stage and (stage.role != Role.ADMIN or is_admin):
                waiting.append((review.id, review.title, stage.name))
        if is_admin:
            for review in store.awaiting_admin(session, ws.id):
                stage = workflow_of(review).stage(review.current_stage)
                entry = (review.id, review.title, stage.name)
                if stage.role == Role.ADMIN and entry not in waiting:
                    waiting.append(entry)
        items = [
            (i.title, i.due_date, i.review.title)
            for i in store.open_items_for(session, user_id, ws.id)
        ]
        figures = home_blocks(rt, session, ws, utcnow())
    view = home_view(waiting=waiting, reviews=lines, items=items)
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


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.event("app_home_opened")(home_opened)
    app.action("home_start")(home_start)

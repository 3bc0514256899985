"""App Home: what is waiting on me, my reviews, my action items."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.service import workflow_of
from bot.views.lists import home_view, review_line
from bot.views.start_modal import start_view
from storage import reviews as store
from storage.db import transaction
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
        items = [(i.title, i.due_date, i.review.title)
                 for i in store.open_items_for(session, user_id, ws.id)]
    client.views_publish(user_id=user_id, view=home_view(waiting=waiting, reviews=lines,
                                                         items=items))


def register(app: App, rt: Runtime) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict, context: dict, client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish_home(rt, client, context["team_id"], event["user"])

    @app.action("home_start")
    def home_start(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=start_view(
            rt.registry.all(), user_id=body["user"]["id"], channel_id=""))

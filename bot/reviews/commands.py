"""The review words of `/postmortem`: `start`, `list` and `help` (after the router's ack)."""

from __future__ import annotations

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.reviews.service import workflow_of
from bot.reviews.views.lists import help_text, review_line, review_list, workflow_words
from bot.reviews.views.start_modal import start_view
from bot.runtime import Runtime
from storage import reviews as store
from storage.db import transaction


def start(rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient) -> None:
    word, _, title = rest.partition(" ")
    workflow = rt.registry.find(word) if word else None
    draft = None
    if word.lower() == "process" and "support_postmortem" in rt.registry:
        # Seed 001's self-started case: a support post-mortem about a process that went wrong.
        workflow, draft = rt.registry["support_postmortem"], {"trigger": "process"}
    if workflow is None:
        title = rest  # no workflow named: the whole text is the title
    client.views_open(
        trigger_id=command["trigger_id"],
        view=start_view(
            rt.registry.all(),
            user_id=command["user_id"],
            channel_id=command.get("channel_id", ""),
            workflow_key=workflow.key if workflow else None,
            title=title.strip(),
            draft=draft,
        ),
    )


def list_reviews(
    rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient
) -> None:
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, command["team_id"])
        lines = []
        for review in store.list_reviews(
            session, ws.id, channel_id=command.get("channel_id"), user_id=command["user_id"]
        ):
            workflow = workflow_of(review)
            stage = workflow.stage(review.current_stage).name if review.current_stage else None
            lines.append(review_line(review, workflow.name, stage))
    respond(
        **review_list(
            lines,
            heading="Reviews in this channel and yours",
            empty="No reviews here yet. Start one with `/postmortem start`.",
        )
    )


def show_help(rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient) -> None:
    respond(text=help_text(workflow_words(rt.registry)))

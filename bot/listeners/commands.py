"""`/postmortem <subcommand>`: a table of subcommands, each answered after ack()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.service import workflow_of
from bot.views.lists import help_text, review_line, review_list
from bot.views.start_modal import start_view
from bot.views.text import escape
from storage import reviews as store
from storage.db import transaction

Handler = Callable[[Runtime, dict[str, Any], str, Respond, WebClient], None]
SUBCOMMANDS: dict[str, Handler] = {}


def subcommand(name: str) -> Callable[[Handler], Handler]:
    def add(handler: Handler) -> Handler:
        SUBCOMMANDS[name] = handler
        return handler
    return add


def workflow_words(rt: Runtime) -> list[str]:
    return [w.key.split("_")[0] for w in rt.registry.all()]


@subcommand("start")
def start(rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient) -> None:
    word, _, title = rest.partition(" ")
    workflow = rt.registry.find(word) if word else None
    draft = None
    if word.lower() == "process" and "support_postmortem" in rt.registry:
        # Seed 001's self-started case: a support post-mortem about a process that went wrong.
        workflow, draft = rt.registry["support_postmortem"], {"trigger": "process"}
    if workflow is None:
        title = rest  # no workflow named: the whole text is the title
    client.views_open(trigger_id=command["trigger_id"], view=start_view(
        rt.registry.all(), user_id=command["user_id"], channel_id=command.get("channel_id", ""),
        workflow_key=workflow.key if workflow else None, title=title.strip(), draft=draft))


@subcommand("list")
def list_reviews(rt: Runtime, command: dict, rest: str, respond: Respond,
                 client: WebClient) -> None:
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, command["team_id"])
        lines = []
        for review in store.list_reviews(session, ws.id, channel_id=command.get("channel_id"),
                                         user_id=command["user_id"]):
            workflow = workflow_of(review)
            stage = workflow.stage(review.current_stage).name if review.current_stage else None
            lines.append(review_line(review, workflow.name, stage))
    respond(**review_list(lines, heading="Reviews in this channel and yours",
                          empty="No reviews here yet. Start one with `/postmortem start`."))


@subcommand("help")
def show_help(rt: Runtime, command: dict, rest: str, respond: Respond,
              client: WebClient) -> None:
    respond(text=help_text(workflow_words(rt)))


def register(app: App, rt: Runtime) -> None:
    @app.command("/postmortem")
    def postmortem(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        ack()
        word, _, rest = (command.get("text") or "").strip().partition(" ")
        handler = SUBCOMMANDS.get(word.lower() or "help")
        if handler is None:
            respond(text=f"I don't know `/postmortem {escape(word)}`.\n\n"
                         + help_text(workflow_words(rt)))
            return
        handler(rt, command, rest.strip(), respond, client)

"""Walking reviews through the fake Slack as a person would: shared by the end-to-end tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.reviews.views.stage_modal import entered_values
from sandbox.fake_slack import FakeSlack
from storage.db import transaction
from storage.models import Review
from workflows.loader import Registry
from workflows.samples import sample_answers

ALICE, BOB, ADMIN, CHANNEL = "U0ALICE", "U0BOB", "U0ADMIN", "C0REVIEWS"
REGISTRY = Registry.load()


def status_message(slack: FakeSlack) -> dict:
    messages = slack.messages(CHANNEL)
    assert len(messages) == 1, "the review has exactly one status message"
    return messages[0]


def buttons(message: dict) -> list[str]:
    """The message's buttons (the menu's choices are `menu`)."""
    return [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"] if e["type"] == "button"]


def menu(message: dict) -> list[str]:
    """The choices of the message's overflow menu."""
    return [o["text"]["text"] for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"] if e["type"] == "overflow" for o in e["options"]]


def choose(slack: FakeSlack, user: str, action_id: str, message: dict, channel: str = CHANNEL):
    """Use a secondary action of a message: from its menu, or its button when it is alone."""
    for block in message["blocks"]:
        for element in block.get("elements") or []:
            if element.get("type") == "overflow":
                for option in element["options"]:
                    if option["value"].split("|")[0] == action_id:
                        return slack.click(user, element["action_id"], option["value"],
                                           channel_id=channel, message_ts=message["ts"])
            elif element.get("action_id") == action_id:
                return slack.click(user, action_id, element.get("value"), channel_id=channel,
                                   message_ts=message["ts"])
    raise LookupError(f"{action_id} is neither in the menu nor a button")


def start(slack: FakeSlack, text: str, user: str = ALICE, **values: Any) -> dict:
    reply = slack.slash_command(user, CHANNEL, "/postmortem", f"start {text}")
    assert reply.status == 200
    view = slack.wait_for(lambda: slack.top_view(user))
    assert view["callback_id"] == "start_review"
    reply = slack.submit(user, view["id"], values)
    assert reply.ok, reply
    slack.wait_for(lambda: slack.messages(CHANNEL))
    return status_message(slack)


def complete_stage(slack: FakeSlack, bot, user: str = ALICE, **overrides: Any) -> str:
    """Click Continue on the status message and submit the current stage with valid answers."""
    review = review_row(bot)
    stage = REGISTRY[review.workflow_key].stage(review.current_stage)
    message = status_message(slack)

    def status_updates() -> int:  # other messages (the report in the thread) update too
        return len([c for c in slack.calls_to("chat.update") if c.params["ts"] == message["ts"]])

    before = status_updates()
    reply = slack.click(user, "continue_review", str(review.id), channel_id=CHANNEL,
                        message_ts=message["ts"])
    assert reply.status == 200
    view = slack.wait_for(lambda: slack.top_view(user))
    assert view["callback_id"] == "stage", view
    reply = slack.submit(user, view["id"], entered_values(stage, sample_answers(stage,
                                                                               **overrides)))
    assert reply.ok and not reply.errors, (reply.errors, reply.problems, reply.body)
    slack.wait_for(lambda: status_updates() > before)
    return stage.key


def review_row(bot) -> Review:
    with transaction(bot.rt.sessions) as session:
        return session.scalars(select(Review)).one()


def walk(slack: FakeSlack, bot, workflow: str, title: str, decisions: dict[str, list[str]],
         admin_stages: tuple[str, ...] = ()) -> list[str]:
    message = start(slack, f"{workflow.split('_')[0]} {title}")
    assert f"Continue: {REGISTRY[workflow].stages[0].name}"[:75] in buttons(message)
    visited = []
    for _ in range(20):
        review = review_row(bot)
        if review.current_stage is None:
            break
        stage = REGISTRY[workflow].stage(review.current_stage)
        over = {d.key: decisions[d.key].pop(0) for d in stage.decisions if decisions.get(d.key)}
        user = ADMIN if stage.key in admin_stages else ALICE
        visited.append(complete_stage(slack, bot, user, **over))
    return visited

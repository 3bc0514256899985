"""Walking reviews through the fake Slack as a person would: shared by the end-to-end tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.reviews.views.stage_modal import ADD_ROW, VALUE, ModalMeta, entered_values
from bot.reviews.views.start_modal import start_view
from sandbox.fake_slack import FakeSlack
from storage.db import transaction
from storage.models import Review
from workflows.loader import Registry
from workflows.model import FieldType, Stage
from workflows.samples import sample_answers

ALICE, BOB, ADMIN, CHANNEL = "U0ALICE", "U0BOB", "U0ADMIN", "C0REVIEWS"
REGISTRY = Registry.load()


def status_message(slack: FakeSlack) -> dict:
    messages = slack.messages(CHANNEL)
    assert len(messages) == 1, "the review has exactly one status message"
    return messages[0]


def buttons(message: dict) -> list[str]:
    """The message's buttons (the menu's choices are `menu`)."""
    return [
        e["text"]["text"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    ]


def menu(message: dict) -> list[str]:
    """The choices of the message's overflow menu."""
    return [
        o["text"]["text"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "overflow" or e.get("action_id") == "more_actions"
        for o in e["options"]
    ]


def choose(slack: FakeSlack, user: str, action_id: str, message: dict, channel: str = CHANNEL):
    """Use a secondary action of a message: from its menu, or its button when it is alone."""
    for block in message["blocks"]:
        for element in block.get("elements") or []:
            if element.get("type") == "overflow" or element.get("action_id") == "more_actions":
                for option in element["options"]:
                    if option["value"].split("|")[0] == action_id:
                        return slack.click(
                            user,
                            element["action_id"],
                            option["value"],
                            channel_id=channel,
                            message_ts=message["ts"],
                        )
            elif element.get("action_id") == action_id:
                return slack.click(
                    user,
                    action_id,
                    element.get("value"),
                    channel_id=channel,
                    message_ts=message["ts"],
                )
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


def submit_start_form(
    slack: FakeSlack, title: str, workflow: str = "campaign_postmortem", user: str = ALICE
) -> None:
    """Submit the start form as `/postmortem start` draws it (no Slack round trip before)."""
    spec = start_view(
        REGISTRY.all(), user_id=user, channel_id=CHANNEL, workflow_key=workflow, title=title
    )
    reply = slack.submit(user, slack.open_modal(user, spec)["id"])
    assert reply.ok and not reply.errors, reply


def _redrawn(slack: FakeSlack, user: str, old_hash: str) -> dict:
    """The user's form once the bot has drawn it again (it acks first, then views.update)."""
    return slack.wait_for(
        lambda: (view := slack.top_view(user)) is not None and view["hash"] != old_hash and view
    )


def enter(slack: FakeSlack, user: str, stage: Stage, answers: dict[str, Any]) -> dict:
    """Make the open stage form show what `answers` need, as a person does, and return what
    to type into it ({block_id: {action_id: value}}, only blocks on screen).

    An answer other fields depend on is chosen first (its input dispatches, and the bot draws
    the form again), and a group gets "Add another" until it has a row for each item.
    """
    for _ in range(30):
        view = slack.top_view(user)
        assert view is not None and view["callback_id"] == "stage", view
        wanted = entered_values(stage, answers, ModalMeta.loads(view["private_metadata"]))
        state = view["state"]["values"]
        changing = [
            b["block_id"]
            for b in view["blocks"]
            if b.get("dispatch_action")
            and b["block_id"] in wanted
            and _differs(state[b["block_id"]][VALUE], wanted[b["block_id"]][VALUE])
        ]
        if changing:
            block_id = changing[0]
            reply = slack.click(user, VALUE, wanted[block_id][VALUE], block_id=block_id)
            assert reply.ok, reply
            _redrawn(slack, user, view["hash"])
            continue
        ids = {b["block_id"] for b in view["blocks"]}
        short = [
            f.key
            for f in stage.fields
            if f.type == FieldType.GROUP
            and any(k.startswith(f"g.{f.key}.") for k in wanted)
            and f"add.{f.key}" in ids
            and any(k.startswith(f"g.{f.key}.") and k not in ids for k in wanted)
        ]
        if short:
            reply = slack.click(user, ADD_ROW, short[0], view_id=view["id"])
            assert reply.ok, reply
            _redrawn(slack, user, view["hash"])
            continue
        return {k: v for k, v in wanted.items() if k in ids}
    raise AssertionError("the form kept changing")


def _differs(state: dict, wanted: Any) -> bool:
    """Whether an input's state is not yet `wanted` (a choice, a list of choices or text)."""
    if "selected_option" in state:
        chosen = state["selected_option"]
        return (chosen or {}).get("value") != wanted
    if "selected_options" in state:
        return sorted(o["value"] for o in state["selected_options"]) != sorted(wanted)
    return next((v for k, v in state.items() if k != "type"), None) != wanted


def complete_stage(slack: FakeSlack, bot, user: str = ALICE, **overrides: Any) -> str:
    """Click Continue on the status message and submit the current stage with valid answers."""
    review = review_row(bot)
    stage = REGISTRY[review.workflow_key].stage(review.current_stage)
    message = status_message(slack)

    def status_updates() -> int:  # other messages (the report in the thread) update too
        return len([c for c in slack.calls_to("chat.update") if c.params["ts"] == message["ts"]])

    before = status_updates()
    reply = slack.click(
        user, "continue_review", str(review.id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    assert reply.status == 200
    view = slack.wait_for(lambda: slack.top_view(user))
    assert view["callback_id"] == "stage", view
    values = enter(slack, user, stage, sample_answers(stage, **overrides))
    reply = slack.submit(user, slack.top_view(user)["id"], values)
    assert reply.ok and not reply.errors, (reply.errors, reply.problems, reply.body)
    slack.wait_for(lambda: status_updates() > before)
    return stage.key


def review_row(bot) -> Review:
    with transaction(bot.rt.sessions) as session:
        return session.scalars(select(Review)).one()


def walk(
    slack: FakeSlack,
    bot,
    workflow: str,
    title: str,
    decisions: dict[str, list[str]],
    admin_stages: tuple[str, ...] = (),
) -> list[str]:
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

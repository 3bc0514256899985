"""The `/postmortem start` modal: workflow, title, owner, channel."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.slack import state
from bot.slack.text import clip, escape
from workflows.model import Workflow

CALLBACK_ID = "start_review"
TITLE_MAX = 200


def start_view(
    workflows: list[Workflow],
    *,
    user_id: str,
    channel_id: str,
    workflow_key: str | None = None,
    title: str = "",
    draft: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`draft`: first-stage answers to pre-fill for the owner (e.g. trigger = process)."""
    options = [Option(value=w.key, label=clip(w.name, 75)) for w in workflows]
    chosen = next((o for o in options if o.value == workflow_key), None)
    blocks = [
        InputBlock(
            block_id="workflow",
            label="Workflow",
            element=StaticSelectElement(
                action_id="v", options=options, initial_option=chosen, placeholder="Choose one"
            ),
        ),
        InputBlock(
            block_id="title",
            label="Title",
            element=PlainTextInputElement(
                action_id="v",
                initial_value=clip(title, TITLE_MAX) or None,
                max_length=TITLE_MAX,
                placeholder="e.g. Black Friday email campaign",
            ),
        ),
        InputBlock(
            block_id="owner",
            label="Owner",
            element=UserSelectElement(action_id="v", initial_user=user_id),
        ),
        InputBlock(
            block_id="channel",
            label="Post updates in",
            element=ConversationSelectElement(
                action_id="v",
                initial_conversation=channel_id or None,
                default_to_current_conversation=not channel_id,
                filter=ConversationFilter(include=["public", "private"]),
            ),
        ),
        ContextBlock(
            block_id="about",
            elements=[
                MarkdownTextObject(
                    text=" · ".join(
                        f"*{escape(w.name)}*: {len(w.stages)} stages" for w in workflows
                    )
                )
            ],
        ),
    ]
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title="Start a review",
        submit="Start",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"c": channel_id, "d": draft} if draft else {"c": channel_id}),
    ).to_dict()


def parse_start(state_values: dict[str, Any]) -> dict[str, str | None]:
    return {
        "workflow": state.option(state_values, "workflow"),
        "title": state.text(state_values, "title"),
        "owner": state.user(state_values, "owner"),
        "channel": state.conversation(state_values, "channel"),
    }

"""The `/postmortem start` modal: workflow, title, owner, channel, and who takes part."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    ExternalDataMultiSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.slack import state
from bot.slack.text import clip, escape
from workflows.model import Workflow

CALLBACK_ID = "start_review"
TITLE_MAX = 200
GROUPS_BLOCK = "people_groups"  # Slack user groups, offered by bot/people/listeners.py
PEOPLE_EFFECT = "people.invite"  # the outbox effect bot/people delivers: invite who was named


@dataclass(frozen=True)
class StartPeople:
    """Who the start form names: participants (people, and everyone in user groups) and
    stakeholders (told the lessons)."""

    participants: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    stakeholders: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.participants or self.groups or self.stakeholders)


def people_blocks() -> list[InputBlock]:
    """The optional people inputs (the start form and the People form share them)."""
    return [
        InputBlock(
            block_id="participants",
            label="Participants",
            optional=True,
            hint="Each gets one DM inviting them to take part.",
            element=UserMultiSelectElement(action_id="v", placeholder="People who took part"),
        ),
        InputBlock(
            block_id=GROUPS_BLOCK,
            label="Participants from user groups",
            optional=True,
            element=ExternalDataMultiSelectElement(
                action_id="v", min_query_length=0, placeholder="e.g. @marketing"
            ),
        ),
        InputBlock(
            block_id="stakeholders",
            label="Stakeholders",
            optional=True,
            hint="Told the lessons when they are written.",
            element=UserMultiSelectElement(action_id="v", placeholder="People to tell"),
        ),
    ]


def parse_people(state_values: dict[str, Any]) -> StartPeople:
    return StartPeople(
        participants=list(state.raw(state_values, "participants", "selected_users") or []),
        groups=state.options(state_values, GROUPS_BLOCK),
        stakeholders=list(state.raw(state_values, "stakeholders", "selected_users") or []),
    )


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
        *people_blocks(),
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

"""Block Kit for the async team sync: the add modal, an item in the thread, the invitation DM.

Pure builders (no Slack calls, no database): every user text is escaped where Slack parses
mrkdwn, including each message's `text` fallback, and limits are kept here.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.reviews.views.review_message import TEAM_SYNC_ADD
from bot.slack.text import clip, escape, mention
from workflows.model import AsyncInput
from workflows.team_sync import TEXT_MAX, votes_label

CALLBACK_ID = "team_sync_item"
VOTE = "team_sync_vote"
COLUMN_BLOCK, TEXT_BLOCK = "column", "text"
ITEM_EVENT = "team_sync_item"  # message metadata of an item's thread message
INVITE_EVENT = "team_sync_invite"  # message metadata of a participant's invitation DM


def add_modal(
    *,
    review_id: int,
    title: str,
    stage_name: str,
    spec: AsyncInput,
    draft: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Column + text. `notify_on_close`: what was typed is kept when the modal is closed."""
    draft = draft or {}
    columns = [Option(value=c.value, label=clip(c.label, 75)) for c in spec.columns]
    chosen = next((o for o in columns if o.value == draft.get("column")), None)
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title="Add to team sync",
        submit="Add",
        close="Cancel",
        notify_on_close=True,
        private_metadata=json.dumps({"r": review_id}),
        blocks=[
            SectionBlock(
                block_id="intro",
                text=MarkdownTextObject(
                    text=clip(
                        f"*{escape(title)}*: {escape(stage_name)}\nYour item is posted in the "
                        "review's thread, where the team can +1 it; the facilitator starts "
                        "from them, most votes first. Blameless: write about systems and "
                        "processes, not people.",
                        3000,
                    )
                ),
            ),
            InputBlock(
                block_id=COLUMN_BLOCK,
                label="Where it goes",
                element=StaticSelectElement(action_id="v", options=columns, initial_option=chosen),
            ),
            InputBlock(
                block_id=TEXT_BLOCK,
                label="Item",
                element=PlainTextInputElement(
                    action_id="v",
                    multiline=True,
                    max_length=TEXT_MAX,
                    initial_value=clip(str(draft.get("text") or ""), TEXT_MAX) or None,
                    placeholder="e.g. The launch email copy landed well",
                ),
            ),
        ],
    ).to_dict()


def added_view(column_label: str, text: str) -> dict[str, Any]:
    """What the modal becomes once the item is saved: what happens next."""
    return View(
        type="modal",
        title="Added",
        close="Done",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=clip(
                        f"*{escape(column_label)}*: {escape(text)}\n\nIt is being posted in the "
                        "review's thread, where anyone on the review can +1 it.",
                        3000,
                    )
                )
            )
        ],
    ).to_dict()


def item_message(
    *, item_id: int, column_label: str, text: str, author_id: str, votes: int
) -> dict[str, Any]:
    """An item in the review's thread: its column, its words, who added it, a +1 button."""
    blocks = [
        SectionBlock(
            block_id="item",
            text=MarkdownTextObject(
                text=clip(f"*{escape(column_label)}*\n{escape(text)}", 3000),
            ),
        ),
        ContextBlock(
            block_id="votes",
            elements=[
                MarkdownTextObject(
                    text=f"Added by {mention(author_id)} · *{votes_label(votes)}* · one each"
                )
            ],
        ),
        ActionsBlock(
            block_id="vote",
            elements=[
                ButtonElement(
                    text=f"+1 ({votes})" if votes else "+1", action_id=VOTE, value=str(item_id)
                )
            ],
        ),
    ]
    fallback = f"Team sync, {escape(column_label)}: {escape(text)} ({votes_label(votes)})"
    return {"text": clip(fallback, 3000), "blocks": [b.to_dict() for b in blocks]}


def invitation(*, review_id: int, title: str, stage_name: str, owner_id: str) -> dict[str, Any]:
    """A participant's DM: what the review is, the blameless rule, and the "Add" button."""
    intro = (
        f"{mention(owner_id)} asks for your input before *{escape(stage_name)}* of "
        f"“{escape(title)}”: what went well, what did not, and ideas. Add as many items as you "
        "like; they appear in the review's thread, where everyone can +1 them."
    )
    blocks = [
        SectionBlock(block_id="intro", text=MarkdownTextObject(text=clip(intro, 3000))),
        ContextBlock(
            block_id="blameless",
            elements=[
                MarkdownTextObject(
                    text="This review is blameless: describe what the systems, processes and "
                    "information made likely, not who slipped."
                )
            ],
        ),
        ActionsBlock(
            block_id="actions",
            elements=[
                ButtonElement(
                    text="Add to team sync",
                    action_id=TEAM_SYNC_ADD,
                    value=str(review_id),
                    style="primary",
                )
            ],
        ),
    ]
    fallback = f"Your input for the team sync of “{escape(title)}”"
    return {"text": clip(fallback, 3000), "blocks": [b.to_dict() for b in blocks]}

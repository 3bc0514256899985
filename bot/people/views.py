"""Pure Block Kit builders: the People and Assign stage modals, and the DMs people get.

Every DM's `text` fallback is escaped like its blocks (a notification shows it as mrkdwn too).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    ExternalDataMultiSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.reviews.views.start_modal import GROUPS_BLOCK
from bot.slack.text import chunks, clip, escape, link, mention

PEOPLE_MODAL = "people_edit"
ASSIGN_MODAL = "stage_assign_pick"
NOBODY = "nobody"  # the Assign stage form's "Nobody (back to the owner)": un-assigns the stage
START_STAGE = "stage_start"  # the assignee's "Start <stage>" button in their DM
MULTI_MAX = 100  # people a multi-select shows as already chosen (the rest stay on the review)
LESSONS_MAX = 2500  # characters of lessons in the DM (the report has them all)

BLAMELESS = (
    "This is a blameless review: we assume everyone acted in good faith on what they knew, and "
    "we look at systems, processes and information, not at who. Owners still follow up on the "
    "actions agreed."
)


def notice(title: str, mrkdwn: str) -> dict[str, Any]:
    """A modal that only explains; `mrkdwn` is already escaped (it may mention people)."""
    return View(
        type="modal",
        title=clip(title, 24),
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=clip(mrkdwn, 3000)))],
    ).to_dict()


def people_modal(
    review_id: int, title: str, participants: list[str], stakeholders: list[str]
) -> dict[str, Any]:
    """Who takes part and who hears the lessons: the whole lists, edited in place."""
    more = max(len(participants) - MULTI_MAX, 0)
    blocks: list[Any] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{escape(clip(title, 200))}*\nNew participants get one invitation DM. "
                "Stakeholders hear the lessons when they are written."
            )
        ),
        InputBlock(
            block_id="participants",
            label="Participants",
            optional=True,
            element=UserMultiSelectElement(
                action_id="v",
                initial_users=participants[:MULTI_MAX] or None,
                placeholder="People who took part",
            ),
        ),
        InputBlock(
            block_id=GROUPS_BLOCK,
            label="Add everyone in user groups",
            optional=True,
            element=ExternalDataMultiSelectElement(
                action_id="v", min_query_length=0, placeholder="e.g. @marketing"
            ),
        ),
        InputBlock(
            block_id="stakeholders",
            label="Stakeholders",
            optional=True,
            element=UserMultiSelectElement(
                action_id="v",
                initial_users=stakeholders[:MULTI_MAX] or None,
                placeholder="People to tell the lessons",
            ),
        ),
    ]
    if more:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{more} more participants are on the review and stay on it."
                    )
                ]
            )
        )
    return View(
        type="modal",
        callback_id=PEOPLE_MODAL,
        title="People",
        submit="Save",
        close="Cancel",
        private_metadata=str(review_id),
        blocks=blocks,
    ).to_dict()


def assign_modal(
    review_id: int, title: str, stages: list[tuple[str, str]], current: str | None
) -> dict[str, Any]:
    """Pick a stage (not yet done, or the current one) and the person to hand it to, or
    "Nobody" to give an assigned stage back to the owner (a user select cannot be cleared)."""
    options = [Option(value=key, label=clip(name, 75)) for key, name in stages]
    chosen = next((o for o in options if o.value == current), None)
    return View(
        type="modal",
        callback_id=ASSIGN_MODAL,
        title="Assign stage",
        submit="Assign",
        close="Cancel",
        private_metadata=str(review_id),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{escape(clip(title, 200))}*\nThe person gets a DM with a button that "
                    "opens the stage's form when it is open; they may complete it as well as you."
                )
            ),
            InputBlock(
                block_id="stage",
                label="Stage",
                element=StaticSelectElement(action_id="v", options=options, initial_option=chosen),
            ),
            InputBlock(
                block_id="assignee",
                label="Assign to",
                optional=True,
                element=UserSelectElement(action_id="v", placeholder="Choose a person"),
            ),
            InputBlock(
                block_id=NOBODY,
                label="Or un-assign it",
                optional=True,
                element=CheckboxesElement(
                    action_id="v",
                    options=[Option(value=NOBODY, label="Nobody (back to the owner)")],
                ),
            ),
        ],
    ).to_dict()


def _link_line(permalink: str | None, label: str) -> str:
    return link(permalink, label) if permalink else escape(label)


def invitation(
    *,
    title: str,
    workflow: str,
    owner_id: str,
    stages: list[str],
    permalink: str | None,
) -> dict[str, Any]:
    """The one DM inviting a participant: what, how, who runs it, where, and the rule."""
    text = (
        f"You're invited to take part in the post-mortem “{escape(title)}” "
        f"({escape(workflow)}), run by {mention(owner_id)}."
    )
    steps = " → ".join(escape(s) for s in stages)
    blocks = [
        SectionBlock(block_id="invite", text=MarkdownTextObject(text=clip(text, 3000))),
        SectionBlock(
            block_id="how",
            text=MarkdownTextObject(
                text=clip(
                    f"*How it runs:* {steps}\n"
                    + _link_line(permalink, "Follow the review in its channel"),
                    3000,
                )
            ),
        ),
        ContextBlock(block_id="rule", elements=[MarkdownTextObject(text=f"_{BLAMELESS}_")]),
    ]
    return {"text": clip(text, 3000), "blocks": [b.to_dict() for b in blocks]}


def assigned_dm(
    *,
    review_id: int,
    title: str,
    stage_key: str,
    stage_name: str,
    owner_id: str,
    permalink: str | None,
) -> dict[str, Any]:
    """The assignee's DM: the stage is theirs and open, with the button that opens its form."""
    text = (
        f"{mention(owner_id)}'s post-mortem “{escape(title)}” is waiting on you for "
        f"{escape(stage_name)}."
    )
    blocks = [
        SectionBlock(block_id="assigned", text=MarkdownTextObject(text=clip(text, 3000))),
        ContextBlock(
            block_id="where",
            elements=[
                MarkdownTextObject(text=_link_line(permalink, "The review's status message"))
            ],
        ),
        _start_button(review_id, stage_key, stage_name),
    ]
    return {"text": clip(text, 3000), "blocks": [b.to_dict() for b in blocks]}


def _start_button(review_id: int, stage_key: str, stage_name: str) -> ActionsBlock:
    """ "Start <stage>": opens the stage's form for its assignee (bot/people/listeners.py)."""
    return ActionsBlock(
        block_id="start",
        elements=[
            ButtonElement(
                text=clip(f"Start {stage_name}", 75),
                action_id=START_STAGE,
                value=f"{review_id}|{stage_key}",
                style="primary",
            )
        ],
    )


def nudge_dm(
    *, review_id: int, title: str, stage_key: str, stage_name: str, days: int
) -> dict[str, Any]:
    """The assignee's one reminder that the stage is still waiting on them."""
    text = (
        f"Reminder: “{escape(title)}” has been waiting on you for {escape(stage_name)} "
        f"for {days} working days."
    )
    blocks = [
        SectionBlock(block_id="nudge", text=MarkdownTextObject(text=clip(text, 3000))),
        _start_button(review_id, stage_key, stage_name),
    ]
    return {"text": clip(text, 3000), "blocks": [b.to_dict() for b in blocks]}


def owner_late_dm(
    *, title: str, stage_name: str, assignee: str, days: int, permalink: str | None
) -> dict[str, Any]:
    """The owner hears, once, that the assignee has not done the stage after a reminder."""
    text = (
        f"“{escape(title)}” has been waiting on {mention(assignee)} for {escape(stage_name)} "
        f"for {days} working days; they were reminded. You can do it yourself or assign it to "
        "someone else (Assign stage on the status message)."
    )
    blocks = [
        SectionBlock(block_id="late", text=MarkdownTextObject(text=clip(text, 3000))),
        ContextBlock(
            block_id="where",
            elements=[MarkdownTextObject(text=_link_line(permalink, "The status message"))],
        ),
    ]
    return {"text": clip(text, 3000), "blocks": [b.to_dict() for b in blocks]}


def lessons_dm(*, title: str, lessons: str, permalink: str | None) -> dict[str, Any]:
    """The lessons, to everyone on the review: clipped, with the full report a click away."""
    text = f"Lessons learned from “{escape(title)}”"
    body = escape(clip(lessons.strip(), LESSONS_MAX)) or "_(no lessons written)_"
    blocks: list[Any] = [
        SectionBlock(block_id="title", text=MarkdownTextObject(text=f"*{clip(text, 2900)}*")),
    ]
    for n, piece in enumerate(chunks(body, 2900)[:2]):
        blocks.append(SectionBlock(block_id=f"lessons{n}", text=MarkdownTextObject(text=piece)))
    blocks.append(
        ContextBlock(
            block_id="report",
            elements=[MarkdownTextObject(text=_link_line(permalink, "Read the whole report"))],
        )
    )
    return {"text": clip(f"{text}: {body}", 3000), "blocks": [b.to_dict() for b in blocks]}

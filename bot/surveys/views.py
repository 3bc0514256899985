"""The survey's DMs and modal: pure Block Kit builders.

The questions are drawn by the stage form's own builder (bot/reviews/views/stage_modal.py, on
`workflows.surveys.as_stage`), so a survey question looks and validates like any stage field.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.reviews.views import stage_modal as sm
from bot.slack.text import clip, escape
from workflows.model import Stage

ANSWER = "survey_answer"  # the DM's button: opens the survey modal
CALLBACK = "survey_submit"
ANON_BLOCK = "anon"
ANON_VALUE = "anonymous"
ASK_EVENT = "postmortem_survey"  # message metadata: the ask and the reminder DMs


def ask_dm(
    *,
    survey_id: int,
    title: str,
    closes: str,
    anonymous_allowed: bool,
    reminder: bool = False,
    link: str | None = None,
) -> dict[str, Any]:
    """The DM asking a participant for their feedback (or reminding them once)."""
    name = escape(clip(title, 150))
    review = f"<{link}|{name}>" if link else f"“{name}”"
    if reminder:
        head = f":alarm_clock: A reminder: the feedback survey for {review} closes {closes}."
        fallback = f"Reminder: the feedback survey for {name} closes {closes}"
    else:
        head = (
            f":wave: You took part in {review}. How did it go for you? "
            f"The survey is open until {closes}."
        )
        fallback = f"Feedback survey for {name}: open until {closes}"
    notes = ["Blameless: write about systems, processes and information, not about people."]
    if anonymous_allowed:
        notes.append("You can answer anonymously: your name is then stored nowhere.")
    notes.append("You can change your answer until the survey closes.")
    blocks: list[Block] = [
        SectionBlock(block_id="ask", text=MarkdownTextObject(text=clip(head, 3000))),
        ContextBlock(block_id="notes", elements=[MarkdownTextObject(text=" ".join(notes))]),
        ActionsBlock(
            block_id="answer",
            elements=[
                ButtonElement(
                    text="Answer", action_id=ANSWER, value=str(survey_id), style="primary"
                )
            ],
        ),
    ]
    return {"text": clip(fallback, 3000), "blocks": [b.to_dict() for b in blocks]}


def survey_modal(
    stage: Stage,
    *,
    survey_id: int,
    title: str,
    closes: str,
    values: dict[str, Any],
    anonymous_allowed: bool,
    anonymous: bool,
    editing: bool,
) -> dict[str, Any]:
    """The survey as a modal, filled with the person's earlier answer when they edit it."""
    questions = [b for page in sm.pages(stage, values, sm.ModalMeta(0, stage.key)) for b in page]
    head = f"*{escape(clip(title, 150))}*\n{escape(stage.purpose)}"
    note = f"Open until {closes}." + (
        " You answered already: change anything and submit again." if editing else ""
    )
    blocks: list[Block] = [
        SectionBlock(block_id="purpose", text=MarkdownTextObject(text=clip(head, 3000))),
        ContextBlock(block_id="notes", elements=[MarkdownTextObject(text=note)]),
        *questions,
    ]
    if anonymous_allowed:
        option = Option(
            value=ANON_VALUE,
            label="Answer anonymously",
            description="Your name is not stored with your answer; you can still change it.",
        )
        blocks.append(
            InputBlock(
                block_id=ANON_BLOCK,
                label="Anonymity",
                optional=True,
                element=CheckboxesElement(
                    action_id=sm.VALUE,
                    options=[option],
                    initial_options=[option] if anonymous else None,
                ),
            )
        )
    return View(
        type="modal",
        callback_id=CALLBACK,
        title="Feedback survey",
        submit="Save answer" if editing else "Submit",
        close="Cancel",
        private_metadata=json.dumps({"s": survey_id}),
        blocks=blocks,
    ).to_dict()


def thanks_view(closes: str, *, anonymous: bool) -> dict[str, Any]:
    who = "anonymously (no name is stored with it)" if anonymous else "with your name"
    return View(
        type="modal",
        title="Thank you",
        close="Close",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f":white_check_mark: Your answer is saved {who}. You can change it "
                        f"from the survey's message until {closes}."
                    )
                )
            )
        ],
    ).to_dict()


def anonymous_chosen(state_values: dict[str, dict[str, Any]]) -> bool:
    element = (state_values.get(ANON_BLOCK) or {}).get(sm.VALUE) or {}
    return any(o.get("value") == ANON_VALUE for o in element.get("selected_options") or [])

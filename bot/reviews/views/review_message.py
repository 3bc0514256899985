"""The review's one status message in its channel, updated in place after every step."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.slack import menu
from bot.slack.text import clip, escape, link, mention
from workflows.engine import SentBack, progress
from workflows.model import Role, Workflow

CONTINUE = "continue_review"
EXPORT_ACTION = "export_review"  # the review as a file (bot/knowledge/listeners.py)
ASSESS_ACL = "acl_open"  # the consumer guarantees assessment (bot/consumer_law/listeners.py)
ADD_ITEM = "item_add"  # an action item added outside a stage (bot/action_items/listeners.py)
EDIT_STAGE = "stage_edit"  # the owner corrects a submitted stage (bot/reviews/listeners.py)
PEOPLE = "people_open"  # participants and stakeholders (bot/people/listeners.py)
ASSIGN_STAGE = "stage_assign"  # hand a stage to someone (bot/people/listeners.py)
PEOPLE_SHOWN = 10  # participants named on the message; the rest are counted
SEND_SURVEY = "survey_send"  # the current stage's feedback survey (bot/surveys/listeners.py)
TEAM_SYNC_ADD = "team_sync_add"  # an item for a stage's async input (bot/team_sync/listeners.py)
STATUS_LABELS = {
    "open": "Open",
    "in_progress": "In progress",
    "in_review": "In review",
    "complete": "Complete",
    "closed": "Closed",
}
MARKS = {"done": ":white_check_mark:", "current": ":arrow_forward:", "todo": ":white_circle:"}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def progress_line(workflow: Workflow, current: str | None, done: set[str]) -> str:
    stages = progress(workflow, current, done)
    return "  ".join(f"{MARKS[p.state]} {escape(p.name)}" for p in stages)


def sent_back_text(back: SentBack, by: str, day: str) -> str:
    """Why a stage is open again: who sent it back, when, from where, and their comment.

    Shown on the status message and at the top of the reopened form, so the person redoing the
    stage reads what was asked without hunting through the thread.
    """
    decision = f": {escape(back.decision)}" if back.decision else ""
    text = (
        f":leftwards_arrow_with_hook: *Sent back to {escape(back.to_stage)}* from "
        f"{escape(back.from_stage)} by {mention(by)} on {day}{decision}"
    )
    if back.comment:
        if back.comment_label:
            text += f"\n*{escape(back.comment_label)}*"
        text += "\n>" + escape(clip(back.comment, 2500)).replace("\n", "\n>")
    return clip(text, 3000)


def people_line(participants: list[str], shown: int = PEOPLE_SHOWN) -> str:
    """ "Participants: @a @b … (+N)": who takes part, without a 500-name wall."""
    named = " ".join(mention(u) for u in participants[:shown])
    more = len(participants) - shown
    return f"*Participants:* {named}" + (f" (+{more})" if more > 0 else "")


def status_message(
    *,
    review_id: int,
    title: str,
    workflow: Workflow,
    owner_id: str,
    status: str,
    current: str | None,
    done: set[str],
    open_items: int = 0,
    sent_back: str | None = None,
    consumer_guarantees: bool = False,
    escalated: str | None = None,
    participants: list[str] | None = None,
    waiting_on: str | None = None,
    survey: str | None = None,
    send_survey: bool = False,
    tasks: str | None = None,
) -> dict[str, Any]:
    """`text` (notification fallback) and `blocks` for chat.postMessage / chat.update.

    One primary button (the next stage), "People" while the review runs, the rest in a menu.
    `sent_back` (mrkdwn from `sent_back_text`) explains why the current stage is open again;
    `consumer_guarantees` offers the assessment where the workflow deals with goods or services
    sold; `escalated` (mrkdwn) says who was told about a systemic issue; `participants` are
    named in a context line; `waiting_on` is the user the current stage is assigned to;
    `survey` (mrkdwn) how many answered the feedback survey, and `send_survey` offers to send
    the current stage's survey.
    """
    blocks: list[Any] = [
        HeaderBlock(block_id="title", text=clip(title, 150)),
        SectionBlock(
            block_id="facts",
            fields=[
                MarkdownTextObject(text=f"*Workflow*\n{escape(workflow.name)}"),
                MarkdownTextObject(text=f"*Owner*\n{mention(owner_id)}"),
                MarkdownTextObject(text=f"*Status*\n{status_label(status)}"),
                MarkdownTextObject(text=f"*Open action items*\n{open_items}"),
            ],
        ),
        ContextBlock(
            block_id="progress",
            elements=[MarkdownTextObject(text=clip(progress_line(workflow, current, done), 3000))],
        ),
    ]
    if participants:
        blocks.append(
            ContextBlock(
                block_id="people",
                elements=[MarkdownTextObject(text=clip(people_line(participants), 3000))],
            )
        )
    if escalated:
        blocks.append(
            ContextBlock(
                block_id="escalated", elements=[MarkdownTextObject(text=clip(escalated, 3000))]
            )
        )
    if survey:
        blocks.append(
            ContextBlock(block_id="survey", elements=[MarkdownTextObject(text=clip(survey, 3000))])
        )
    if sent_back and current is not None:
        blocks.append(SectionBlock(block_id="sent_back", text=MarkdownTextObject(text=sent_back)))
    if tasks:  # the review's tasks in the team's tracker (`tasks_text`)
        blocks.append(
            ContextBlock(block_id="tasks", elements=[MarkdownTextObject(text=clip(tasks, 3000))])
        )
    more: list[menu.Item] = []
    if send_survey and current is not None:
        more.append(("Send survey", SEND_SURVEY, str(review_id)))
    if done:
        more.append(("Edit a stage", EDIT_STAGE, str(review_id)))
    more.append(("Add action item", ADD_ITEM, str(review_id)))
    if done:
        more.append(("Export", EXPORT_ACTION, str(review_id)))
    if consumer_guarantees:
        more.append(("Consumer guarantees", ASSESS_ACL, str(review_id)))
    ahead = workflow.stages[workflow.index(current) :] if current is not None else ()
    if any(s.async_input and s.key not in done for s in ahead):  # the team's items are wanted
        more.append(("Add to team sync", TEAM_SYNC_ADD, str(review_id)))
    if current is not None:
        more.append(("Assign stage", ASSIGN_STAGE, str(review_id)))
    elements: list[Any] = menu.secondary(more)
    if current is not None:
        elements.insert(
            0, ButtonElement(text="People", action_id=PEOPLE, value=str(review_id)).to_dict()
        )
        stage = workflow.stage(current)
        # The message is the same for everyone: an admin's step is not a green "go" for all.
        admins_only = stage.role == Role.ADMIN
        elements.insert(
            0,
            ButtonElement(
                text=clip(f"Continue: {stage.name}", 75),
                action_id=CONTINUE,
                value=str(review_id),
                style=None if admins_only else "primary",
            ),
        )
        if waiting_on and not admins_only:
            blocks.append(
                ContextBlock(
                    block_id="waiting",
                    elements=[
                        MarkdownTextObject(
                            text=f":hourglass_flowing_sand: *Waiting on {mention(waiting_on)}* "
                            f"for {escape(stage.name)}."
                        )
                    ],
                )
            )
        if admins_only:
            blocks.append(
                ContextBlock(
                    block_id="waiting",
                    elements=[
                        MarkdownTextObject(
                            text=f":hourglass_flowing_sand: *Waiting on an admin* to complete "
                            f"“{escape(stage.name)}”. The admins have been told."
                        )
                    ],
                )
            )
        fallback = f"{escape(title)}: {status_label(status)}, next: {escape(stage.name)}"
    else:
        posted = "report" if any(s.report for s in workflow.stages) else "summary"
        blocks.append(
            SectionBlock(
                block_id="done",
                text=MarkdownTextObject(
                    text=f":tada: *Review {status_label(status).lower()}.* The {posted} is in the "
                    "thread."
                ),
            )
        )
        fallback = f"{escape(title)}: {status_label(status)}"
    blocks.append(ActionsBlock(block_id="actions", elements=elements))
    return {"text": clip(fallback, 3000), "blocks": [b.to_dict() for b in blocks]}


def tasks_text(tasks: list[tuple[str, str, str | None, str]], shown: int = 8) -> str | None:
    """The review's tasks in the team's tracker, (label, url, title, state) each: one line of
    links for the status message, or None when it has none."""
    if not tasks:
        return None
    parts = [
        f"{link(url, label)}"
        + (f" “{escape(clip(title, 80))}”" if title else "")
        + f" · {escape(state)}"
        for label, url, title, state in tasks[:shown]
    ]
    more = f" and {len(tasks) - shown} more" if len(tasks) > shown else ""
    return ":link: *Tasks:* " + "  |  ".join(parts) + more

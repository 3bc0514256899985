"""Action items in Slack: the owner's DM (rewritten in place), nudges, the status modal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UrlInputElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.text import clip, escape, link, mention
from storage.trackers import TaskLink

DONE, SNOOZE, SNOOZE_DATE, STATUS, OPEN = (
    "item_done", "item_snooze", "item_snooze_date", "item_status", "item_open")
CONFIRM_IMPROVEMENTS = "improvements_confirm"
STATUS_CALLBACK = "item_status"
STATUS_LABELS = {"open": "Open", "in_progress": "In progress", "blocked": "Blocked",
                 "done": "Done", "cancelled": "Cancelled"}
SNOOZE_CHOICES = (("1_working_day", "1 working day"), ("1_week", "1 week"))


@dataclass(frozen=True)
class ItemView:
    id: int
    title: str
    status: str
    due: date | None
    owner_id: str
    review_title: str
    permalink: str | None
    note: str | None = None
    snoozed_until: datetime | None = None  # already in the owner's timezone
    task: TaskLink | None = None  # its task in the team's tracker (bot/trackers)


def due_text(due: date | None) -> str:
    return due.strftime("%a %-d %b %Y") if due else "no due date"


def _review(item: ItemView) -> str:
    return link(item.permalink, item.review_title) if item.permalink else (
        f"*{escape(item.review_title)}*")


def task_text(task: TaskLink) -> str:
    """The tracker's name for the task, linked when its URL is safe inside mrkdwn."""
    label = task.label + (" (closed)" if task.closed else "")
    if task.url.startswith(("https://", "http://")) and not set(task.url) & set("<>| "):
        return link(task.url, label)
    return escape(label)


def item_blocks(item: ItemView, headline: str) -> dict[str, Any]:
    """The DM for one item: what, which review, due date, state, and what the owner can do."""
    state = STATUS_LABELS.get(item.status, item.status)
    lines = [f"{escape(headline)}", f"*{escape(clip(item.title, 150))}*",
             f"Review: {_review(item)} · Due: {due_text(item.due)} · Status: {state}"]
    if item.task:
        lines.append(f"Task: {task_text(item.task)}")
    if item.note:
        lines.append(f"_Note:_ {escape(clip(item.note, 500))}")
    if item.snoozed_until and item.status not in ("done", "cancelled"):
        lines.append(f"Snoozed until {item.snoozed_until.strftime('%a %-d %b %H:%M')}")
    blocks: list[Any] = [SectionBlock(block_id="item", text=MarkdownTextObject(
        text=clip("\n".join(lines), 3000)))]
    value = str(item.id)
    elements: list[Any] = []
    if item.status not in ("done", "cancelled"):
        elements += [
            ButtonElement(text="Mark done", action_id=DONE, value=value, style="primary"),
            StaticSelectElement(action_id=SNOOZE, placeholder="Snooze", options=[
                Option(value=f"{value}:{k}", label=label) for k, label in SNOOZE_CHOICES]),
            DatePickerElement(action_id=SNOOZE_DATE, placeholder="Snooze until…"),
            ButtonElement(text="Update status", action_id=STATUS, value=value),
        ]
    if item.permalink:
        elements.append(ButtonElement(text="Open review", action_id=OPEN, url=item.permalink,
                                      value=value))
    if elements:
        blocks.append(ActionsBlock(block_id=f"item.{item.id}", elements=elements))
    if item.status == "done":
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=":white_check_mark: Done. Thank you!")]))
    fallback = f"{headline}: {item.title} (due {due_text(item.due)})"
    return {"text": clip(fallback, 3000), "blocks": [b.to_dict() for b in blocks]}


NUDGE_HEADLINES = {
    "due_soon": ":alarm_clock: Coming up soon",
    "due_today": ":calendar: Due today",
    "overdue": ":warning: Overdue",
    "snoozed": ":bell: Reminder (you snoozed this)",
}


def escalation_blocks(item: ItemView, days_overdue: int) -> dict[str, Any]:
    text = (f":rotating_light: An action item in your review {_review(item)} is "
            f"{days_overdue} working days overdue: *{escape(clip(item.title, 150))}*, owned by "
            f"{mention(item.owner_id)}, due {due_text(item.due)}.")
    return {"text": clip(f"Overdue action item: {item.title}", 3000),
            "blocks": [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]}


def delivery_failed_blocks(item: ItemView, reason: str) -> dict[str, Any]:
    text = (f":no_entry: I could not remind {mention(item.owner_id)} about "
            f"*{escape(clip(item.title, 150))}* in {_review(item)}: Slack said `{escape(reason)}`. "
            "The item may need a new owner.")
    return {"text": clip(f"Reminder failed: {item.title}", 3000),
            "blocks": [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]}


def improvements_blocks(review_id: int, review_title: str, permalink: str | None,
                        confirmed_by: str | None = None) -> dict[str, Any]:
    review = link(permalink, review_title) if permalink else f"*{escape(review_title)}*"
    if confirmed_by:
        text = (f":white_check_mark: {mention(confirmed_by)} confirmed the improvements of "
                f"{review} were implemented.")
        return {"text": "Improvements confirmed", "blocks": [
            SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]}
    text = (f":tada: Every action item of {review} is done. Were the improvements implemented? "
            "Confirming records it on the review.")
    return {"text": clip(f"All action items done: {review_title}", 3000), "blocks": [
        SectionBlock(text=MarkdownTextObject(text=text)).to_dict(),
        ActionsBlock(elements=[ButtonElement(text="Yes, improvements implemented",
                                             action_id=CONFIRM_IMPROVEMENTS,
                                             value=str(review_id), style="primary")]).to_dict()]}


def status_modal(item: ItemView) -> dict[str, Any]:
    options = [Option(value=k, label=STATUS_LABELS[k]) for k in ("open", "in_progress",
                                                                  "blocked")]
    current = next((o for o in options if o.value == item.status), None)
    title = escape(clip(item.title, 150))
    return View(type="modal", callback_id=STATUS_CALLBACK, title="Update status",
                submit="Save", close="Cancel", private_metadata=str(item.id), blocks=[
                    SectionBlock(text=MarkdownTextObject(text=f"*{title}*")),
                    InputBlock(block_id="status", label="Status", element=RadioButtonsElement(
                        action_id="v", options=options, initial_option=current)),
                    InputBlock(block_id="note", label="Note", optional=True,
                               hint="What is blocking it, or how far along it is.",
                               element=PlainTextInputElement(
                                   action_id="v", multiline=True, max_length=1000,
                                   initial_value=item.note or None)),
                ]).to_dict()


ADD_CALLBACK = "item_add"


def add_item_modal(review_id: int, review_title: str, user_id: str) -> dict[str, Any]:
    """An action item added to a review after its stages (its owner is DMed at once)."""
    return View(type="modal", callback_id=ADD_CALLBACK, title="Add action item",
                submit="Add", close="Cancel", private_metadata=str(review_id), blocks=[
                    SectionBlock(text=MarkdownTextObject(
                        text=f"*{escape(clip(review_title, 200))}*")),
                    InputBlock(block_id="title", label="Action item", element=(
                        PlainTextInputElement(action_id="v", max_length=150))),
                    InputBlock(block_id="owner", label="Owner", element=UserSelectElement(
                        action_id="v", initial_user=user_id)),
                    InputBlock(block_id="due", label="Due date",
                               element=DatePickerElement(action_id="v")),
                    InputBlock(block_id="link", label="Tracking link", optional=True,
                               element=UrlInputElement(action_id="v")),
                ]).to_dict()

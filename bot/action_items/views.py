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
    OverflowMenuElement,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UrlInputElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.text import clip, day_text, escape, link, mention
from storage.trackers import TaskLink

DONE, SNOOZE, SNOOZE_DATE, STATUS, OPEN = (
    "item_done",
    "item_snooze",
    "item_snooze_date",
    "item_status",
    "item_open",
)
CONFIRM_IMPROVEMENTS = "improvements_confirm"
CREATE_TASK = "tracker_create_task"  # handled by bot/trackers/listeners.py
STATUS_CALLBACK = "item_status"
STATUS_LABELS = {
    "open": "Open",
    "in_progress": "In progress",
    "blocked": "Blocked",
    "done": "Done",
    "cancelled": "Cancelled",
}
SNOOZE_CHOICES = (("1_working_day", "1 working day"), ("1_week", "1 week"))


@dataclass(frozen=True)
class ItemView:
    """An item as its owner sees it at one moment (`today`, in the owner's timezone)."""

    id: int
    title: str
    status: str
    due: date | None
    owner_id: str
    review_title: str
    permalink: str | None
    note: str | None = None
    snoozed_until: datetime | None = None  # in the owner's timezone; None once it has passed
    today: date | None = None  # the owner's today, so dates read "Fri 11 Dec" in their year
    completed: date | None = None
    tracking_link: str | None = None
    task: TaskLink | None = None  # its task in the team's tracker (bot/trackers)
    tracker: str | None = None  # the tracker in use ("Jira"), to offer "Create task" when no task


def due_text(due: date | None, today: date | None = None) -> str:
    return day_text(due, today) if due else "no due date"


def _review(item: ItemView) -> str:
    return (
        link(item.permalink, item.review_title)
        if item.permalink
        else (f"*{escape(item.review_title)}*")
    )


def task_text(task: TaskLink) -> str:
    """The tracker's name for the task, linked when its URL is safe inside mrkdwn."""
    label = task.label + (" (closed)" if task.closed else "")
    if task.url.startswith(("https://", "http://")) and not set(task.url) & set("<>| "):
        return link(task.url, label)
    return escape(label)


def item_blocks(
    item: ItemView, headline: str, *, buttons: bool = True, card_link: str | None = None
) -> dict[str, Any]:
    """The item's card: what, which review, due date, state, and what the owner can do.

    An item has one card, its assignment DM, rewritten in place whenever the item changes, so
    it always shows the current state; reminders are short notes pointing to it
    (`note_blocks`). The same blocks list the item in `/postmortem actions` and on Home.
    An older message clicked after the item moved on is rewritten with `buttons=False` and a
    link to the card."""
    state = STATUS_LABELS.get(item.status, item.status)
    lines = [escape(headline)] if headline else []
    lines += [
        f"*{escape(clip(item.title, 150))}*",
        f"Review: {_review(item)} · Due: {due_text(item.due, item.today)} · Status: {state}",
    ]
    if item.task:
        lines.append(f"Task: {task_text(item.task)}")
    if item.note:
        lines.append(f"_Note:_ {escape(clip(item.note, 500))}")
    if item.snoozed_until and item.status not in ("done", "cancelled"):
        until = item.snoozed_until
        lines.append(f"Snoozed until {day_text(until.date(), item.today)} {until:%H:%M}")
    # Block ids are unique per item: a list of several items is one message, and Slack refuses
    # a message that repeats a block id (invalid_blocks).
    blocks: list[Any] = [
        SectionBlock(
            block_id=f"item.{item.id}.about",
            text=MarkdownTextObject(text=clip("\n".join(lines), 3000)),
        )
    ]
    value = str(item.id)
    elements: list[Any] = []
    if buttons and item.status not in ("done", "cancelled"):
        elements += [
            ButtonElement(text="Mark done", action_id=DONE, value=value, style="primary"),
            StaticSelectElement(
                action_id=SNOOZE,
                placeholder="Snooze",
                options=[Option(value=f"{value}:{k}", label=label) for k, label in SNOOZE_CHOICES],
            ),
            DatePickerElement(action_id=SNOOZE_DATE, placeholder="Snooze until…"),
            ButtonElement(text="Update status", action_id=STATUS, value=value),
        ]
        if item.tracker and item.task is None:  # bot/trackers files it (its listener)
            elements.append(
                ButtonElement(
                    text=f"Create task in {item.tracker}", action_id=CREATE_TASK, value=value
                )
            )
    if item.permalink:
        elements.append(
            ButtonElement(text="Open review", action_id=OPEN, url=item.permalink, value=value)
        )
    if elements:
        blocks.append(ActionsBlock(block_id=f"item.{item.id}", elements=elements))
    if item.status == "done":
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=":white_check_mark: Done. Thank you!")])
        )
    elif item.status == "cancelled":
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Cancelled: it was taken out of the review's action items."
                    )
                ]
            )
        )
    if card_link:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"This message is out of date: <{card_link}|the item's card> "
                        "shows it as it is now."
                    )
                ]
            )
        )
    # The fallback `text` (notifications) is mrkdwn too: user text in it is escaped.
    fallback = f"{escape(headline)}: {escape(item.title)} (due {due_text(item.due, item.today)})"
    return {"text": clip(fallback, 3000), "blocks": [b.to_dict() for b in blocks]}


def handed_over_blocks(item: ItemView) -> dict[str, Any]:
    """The former owner's card once the item is someone else's: no buttons left to press."""
    text = (
        f"*{escape(clip(item.title, 150))}*\nReview: {_review(item)} · Due: "
        f"{due_text(item.due, item.today)}\nNow owned by {mention(item.owner_id)}: you will "
        "get no more reminders about it."
    )
    return {
        "text": clip(f"{escape(item.title)}: now owned by someone else", 3000),
        "blocks": [
            SectionBlock(
                block_id=f"item.{item.id}.about", text=MarkdownTextObject(text=clip(text, 3000))
            ).to_dict()
        ],
    }


NUDGE_HEADLINES = {
    "due_soon": ":alarm_clock: Coming up soon",
    "due_today": ":calendar: Due today",
    "overdue": ":warning: Overdue",
    "snoozed": ":bell: Reminder (you snoozed this)",
}


def note_blocks(item: ItemView, kind: str, card_link: str) -> dict[str, Any]:
    """A reminder: a short note pointing to the item's card, with no buttons of its own, so an
    old reminder can never act on an item that has moved on (the card shows its state)."""
    headline = NUDGE_HEADLINES.get(kind, "Reminder")
    title = f"*{escape(clip(item.title, 150))}*"
    due = due_text(item.due, item.today)
    what = {
        "due_soon": f"{title} is due {due}.",
        "due_today": f"{title} is due today.",
        "overdue": f"{title} was due {due}.",
    }.get(kind, f"{title}, due {due}.")
    text = (
        f"{headline}: {what}\n<{card_link}|Open the item> to mark it done, snooze it or "
        f"update its status. Review: {_review(item)}"
    )
    return {
        "text": clip(f"{headline}: {escape(item.title)} (due {due})", 3000),
        "blocks": [
            SectionBlock(
                block_id=f"note.{item.id}", text=MarkdownTextObject(text=clip(text, 3000))
            ).to_dict()
        ],
    }


NUDGE_OWNER, REASSIGN, REASSIGN_CALLBACK = "item_nudge", "item_reassign", "item_reassign"


def owner_actions(item: ItemView) -> ActionsBlock | None:
    """What the review's owner can do about someone else's open item: nudge its owner again,
    give it to someone else, open the review."""
    value = str(item.id)
    elements: list[Any] = []
    if item.status not in ("done", "cancelled"):
        elements += [
            ButtonElement(text="Nudge the owner", action_id=NUDGE_OWNER, value=value),
            ButtonElement(text="Reassign", action_id=REASSIGN, value=value),
        ]
    if item.permalink:
        elements.append(
            ButtonElement(text="Open review", action_id=OPEN, url=item.permalink, value=value)
        )
    return ActionsBlock(block_id=f"owner.{item.id}", elements=elements) if elements else None


def _overdue_text(days: int, item: ItemView) -> str:
    if days <= 0:
        return f"was due {due_text(item.due, item.today)}"
    return f"is {days} working day{'' if days == 1 else 's'} overdue"


BLOCKED = "blocked"  # the kind of the review owner's notice that an item is blocked


def owner_notice_blocks(item: ItemView, kind: str, days_overdue: int = 0) -> dict[str, Any]:
    """A notice to the review's owner about someone else's item: "escalation" (long overdue)
    or "blocked" (its owner marked it blocked). It is rewritten as the item changes, so it
    always shows the item as it is now, and its buttons go when there is nothing left to do.

    `days_overdue` is counted from the due date on the owner's calendar (never negative)."""
    state = STATUS_LABELS.get(item.status, item.status)
    review = _review(item)
    if item.status in ("done", "cancelled"):
        what = "An overdue action item" if kind == "escalation" else "An action item"
        head = f":white_check_mark: {what} in your review {review} is now {state.lower()}:"
    elif kind == "escalation":
        head = (
            f":rotating_light: An action item in your review {review} "
            f"{_overdue_text(days_overdue, item)}:"
        )
    elif item.status == "blocked":
        head = (
            f":no_entry: {mention(item.owner_id)} is blocked on an action item in your "
            f"review {review}:"
        )
    else:
        head = f":arrow_forward: An action item in your review {review} is no longer blocked:"
    lines = [
        head,
        f"*{escape(clip(item.title, 150))}*",
        f"Owner: {mention(item.owner_id)} · "
        f"Due: {due_text(item.due, item.today)} · Status: {state}",
    ]
    if item.note:
        label = "Blocked by" if item.status == "blocked" else "Note"
        lines.append(f"_{label}:_ {escape(clip(item.note, 500))}")
    if item.tracking_link:
        lines.append(f"Tracked at: {escape(item.tracking_link)}")
    blocks: list[Any] = [
        SectionBlock(
            block_id=f"{kind}.{item.id}", text=MarkdownTextObject(text=clip("\n".join(lines), 3000))
        )
    ]
    actions = owner_actions(item)
    if actions is not None:
        blocks.append(actions)
    fallback = (
        f"Overdue action item: {escape(item.title)}"
        if kind == "escalation"
        else f"Blocked action item: {escape(item.title)}"
    )
    return {"text": clip(fallback, 3000), "blocks": [b.to_dict() for b in blocks]}


def escalation_blocks(item: ItemView, days_overdue: int) -> dict[str, Any]:
    """To the review's owner when an item is long overdue (see `owner_notice_blocks`)."""
    return owner_notice_blocks(item, "escalation", days_overdue)


OWNER_MENU = "item_owner_menu"


def owned_item_blocks(item: ItemView) -> list[dict[str, Any]]:
    """An item of a review of mine that someone else owns, on Home: who has it, its state, and
    a menu to nudge them or reassign it."""
    state = STATUS_LABELS.get(item.status, item.status)
    icon = ":no_entry: " if item.status == "blocked" else ""
    text = (
        f"{icon}*{escape(clip(item.title, 150))}*\n{mention(item.owner_id)} · {state} · due "
        f"{due_text(item.due, item.today)} · {_review(item)}"
    )
    if item.note and item.status == "blocked":
        text += f"\n_Blocked by:_ {escape(clip(item.note, 500))}"
    menu = OverflowMenuElement(
        action_id=OWNER_MENU,
        options=[
            Option(value=f"nudge:{item.id}", label="Nudge the owner"),
            Option(value=f"reassign:{item.id}", label="Reassign…"),
        ],
    )
    return [
        SectionBlock(
            block_id=f"owned.{item.id}",
            text=MarkdownTextObject(text=clip(text, 3000)),
            accessory=menu,
        ).to_dict()
    ]


def asked_blocks(item: ItemView, asker: str, days_overdue: int, card_link: str) -> dict[str, Any]:
    """The review owner's nudge, to the item's owner: a note pointing to the card."""
    when = (
        _overdue_text(days_overdue, item)
        if days_overdue > 0
        else f"is due {due_text(item.due, item.today)}"
    )
    text = (
        f":wave: {mention(asker)} is asking about *{escape(clip(item.title, 150))}*, which "
        f"{when}."
        f"\n<{card_link}|Open the item> to mark it done, snooze it or update its status. "
        f"Review: {_review(item)}"
    )
    return {
        "text": clip(f"A nudge about {escape(item.title)}", 3000),
        "blocks": [
            SectionBlock(
                block_id=f"note.{item.id}", text=MarkdownTextObject(text=clip(text, 3000))
            ).to_dict()
        ],
    }


def reassign_modal(item: ItemView, *, home: bool = False) -> dict[str, Any]:
    metadata = f"{item.id}:{HOME}" if home else str(item.id)
    return View(
        type="modal",
        callback_id=REASSIGN_CALLBACK,
        title="Reassign action item",
        submit="Reassign",
        close="Cancel",
        private_metadata=metadata,
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{escape(clip(item.title, 150))}*\nOwned by {mention(item.owner_id)}, "
                        f"due {due_text(item.due, item.today)}. The new owner gets its card and "
                        "its reminders from now on."
                    )
                )
            ),
            InputBlock(
                block_id="owner",
                label="New owner",
                element=UserSelectElement(action_id="v", initial_user=item.owner_id),
            ),
        ],
    ).to_dict()


def delivery_failed_blocks(item: ItemView, reason: str) -> dict[str, Any]:
    text = (
        f":no_entry: I could not remind {mention(item.owner_id)} about "
        f"*{escape(clip(item.title, 150))}* in {_review(item)}: Slack said `{escape(reason)}`. "
        "The item may need a new owner."
    )
    return {
        "text": clip(f"Reminder failed: {escape(item.title)}", 3000),
        "blocks": [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()],
    }


def improvements_blocks(
    review_id: int, review_title: str, permalink: str | None, confirmed_by: str | None = None
) -> dict[str, Any]:
    review = link(permalink, review_title) if permalink else f"*{escape(review_title)}*"
    if confirmed_by:
        text = (
            f":white_check_mark: {mention(confirmed_by)} confirmed the improvements of "
            f"{review} were implemented."
        )
        return {
            "text": "Improvements confirmed",
            "blocks": [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()],
        }
    text = (
        f":tada: Every action item of {review} is done. Were the improvements implemented? "
        "Confirming records it on the review."
    )
    return {
        "text": clip(f"All action items done: {escape(review_title)}", 3000),
        "blocks": [
            SectionBlock(text=MarkdownTextObject(text=text)).to_dict(),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Yes, improvements implemented",
                        action_id=CONFIRM_IMPROVEMENTS,
                        value=str(review_id),
                        style="primary",
                    )
                ]
            ).to_dict(),
        ],
    }


REOPEN, HOME = "reopen", "home"  # private_metadata flags: "<id>[:reopen][:home]"


def status_modal(item: ItemView, *, home: bool = False) -> dict[str, Any]:
    """Change the status; for a done item (a click on an older message) it asks first: saving
    reopens it, and says so in the title, the text and the button."""
    options = [Option(value=k, label=STATUS_LABELS[k]) for k in ("open", "in_progress", "blocked")]
    current = next((o for o in options if o.value == item.status), None)
    title = escape(clip(item.title, 150))
    heading, submit, metadata = "Update status", "Save", str(item.id)
    text = f"*{title}*"
    if item.status == "done":
        heading, submit, metadata = "Reopen action item", "Reopen", f"{item.id}:{REOPEN}"
        when = f" on {day_text(item.completed, item.today)}" if item.completed else ""
        text += (
            f"\n:warning: This item was marked done{when}. Saving reopens it, and its "
            "reminders start again."
        )
    metadata += f":{HOME}" if home else ""
    return View(
        type="modal",
        callback_id=STATUS_CALLBACK,
        title=heading,
        submit=submit,
        close="Cancel",
        private_metadata=metadata,
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=text)),
            InputBlock(
                block_id="status",
                label="Status",
                element=RadioButtonsElement(action_id="v", options=options, initial_option=current),
            ),
            InputBlock(
                block_id="note",
                label="Note",
                optional=True,
                hint="What is blocking it, or how far along it is.",
                element=PlainTextInputElement(
                    action_id="v", multiline=True, max_length=1000, initial_value=item.note or None
                ),
            ),
        ],
    ).to_dict()


ADD_CALLBACK = "item_add"


def add_item_modal(review_id: int, review_title: str, user_id: str) -> dict[str, Any]:
    """An action item added to a review after its stages (its owner is DMed at once)."""
    return View(
        type="modal",
        callback_id=ADD_CALLBACK,
        title="Add action item",
        submit="Add",
        close="Cancel",
        private_metadata=str(review_id),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"*{escape(clip(review_title, 200))}*")),
            InputBlock(
                block_id="title",
                label="Action item",
                element=(PlainTextInputElement(action_id="v", max_length=150)),
            ),
            InputBlock(
                block_id="owner",
                label="Owner",
                element=UserSelectElement(action_id="v", initial_user=user_id),
            ),
            InputBlock(block_id="due", label="Due date", element=DatePickerElement(action_id="v")),
            InputBlock(
                block_id="link",
                label="Tracking link",
                optional=True,
                element=UrlInputElement(action_id="v"),
            ),
        ],
    ).to_dict()

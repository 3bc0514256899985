"""The meeting digest as a Slack message: Block Kit rendered from overridable Jinja2 templates.

Pure: takes the collected content, returns the chat.postMessage arguments. Every section is
one block, filled most important entry first until Slack's 3,000 characters (or `per_section`
entries) are reached, then "and N more" points to `/postmortem list`; the whole message stays
well inside 50 blocks however busy the period was.

Templates are looked up first in the folder the caller names (POSTMORTEM_TEMPLATES_DIR), then in
bot/templates, so an organisation overrides one file by dropping a file of the same name there.
Every `{{ expression }}` is mrkdwn-escaped unless the code built it as Markup (links, mentions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    pass_context,
)
from jinja2.runtime import Context
from markupsafe import Markup
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.text import clip, day_text, escape, link, mention

SECTION_LIMIT = 3000
PER_SECTION = 10
POST_NOW, SKIP, SCHEDULE = "digest_post_now", "digest_skip", "digest_schedule"
SKIP_CALLBACK, SCHEDULE_CALLBACK = "digest_skip", "digest_schedule"
DEFAULT_SKIP_REASON = "A dedicated meeting is already booked"

# Most important first: what the meeting is for (lessons, systemic issues), then what needs
# someone (reviews waiting, overdue items), then the record of the period.
SECTIONS = (
    ("lessons", ":bulb: Lessons to share"),
    ("systemic", ":rotating_light: Systemic issues needing organisational change"),
    ("in_review", ":hourglass_flowing_sand: Support post-mortems waiting In Review"),
    ("overdue", ":warning: Action items overdue"),
    ("completed", ":white_check_mark: Reviews completed"),
    ("due_soon", ":calendar: Action items due before the next meeting"),
    ("done", ":heavy_check_mark: Action items completed"),
)


@dataclass(frozen=True)
class ReviewEntry:
    title: str
    workflow: str
    owner_id: str
    summary: str
    permalink: str | None


@dataclass(frozen=True)
class IssueEntry:
    title: str
    detail: str
    review: ReviewEntry


@dataclass(frozen=True)
class ItemEntry:
    title: str
    owner_id: str
    due: date | None
    review: ReviewEntry


@dataclass(frozen=True)
class Listing:
    """The entries to show, most important first, and how many there are in all.

    `elsewhere` of the total are listed in an earlier section (a completed review whose lesson
    is shared): counted here, not repeated.
    """

    entries: tuple[Any, ...] = ()
    total: int = 0
    elsewhere: int = 0


@dataclass(frozen=True)
class Figures:
    by_workflow: tuple[tuple[str, int], ...] = ()
    by_category: tuple[tuple[str, int], ...] = ()
    closed_on_time: int = 0
    closed_with_due_date: int = 0
    ces_average: float | None = None
    ces_count: int = 0
    feature_requests: int = 0  # support post-mortems that found a missing feature


@dataclass(frozen=True)
class DigestContent:
    meeting_starts_at: datetime  # local to the meeting's time zone
    covered_from: datetime  # local
    covered_to: datetime  # local
    next_meeting: date | None
    sections: dict[str, Listing] = field(default_factory=dict)
    figures: Figures = field(default_factory=Figures)

    @property
    def quiet(self) -> bool:
        return not any(listing.total for listing in self.sections.values())


def _finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return str(value)
    return escape(value) if isinstance(value, str) else value


@cache
def templates(folder: Path | None = None) -> Environment:
    loaders: list[Any] = [FileSystemLoader(str(folder))] if folder else []
    loaders.append(PackageLoader("bot", "templates"))
    # mrkdwn needs only &, < and > escaped, which `_finalize` does for every expression.
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=False,  # noqa: S701
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["day"] = _day_filter
    env.filters["when"] = _when_filter
    return env


def day(value: date, today: date | None = None) -> str:
    """ "Fri 11 Dec"; with the year when it is not `today`'s (bot/slack/text.py day_text)."""
    return day_text(value, today or value)


def when(value: datetime, today: date | None = None) -> str:
    return f"{day(value, today)} {value:%H:%M %Z}"


@pass_context
def _day_filter(context: Context, value: date) -> str:
    return day(value, context.get("today"))


@pass_context
def _when_filter(context: Context, value: datetime) -> str:
    return when(value, context.get("today"))


def _ref(review: ReviewEntry) -> Markup:
    title = clip(review.title, 150)
    return Markup(  # noqa: S704 - link() and escape() escape the title
        link(review.permalink, title) if review.permalink else f"*{escape(title)}*"
    )


def _owner_of(entry: Any) -> str:
    review = entry if isinstance(entry, ReviewEntry) else entry.review
    return str(getattr(entry, "owner_id", review.owner_id))


class People:
    """Who the message has @-mentioned so far: the first time a person appears they are
    mentioned (notified), after that their name is plain text, so one busy owner is not pinged
    seven times by one digest."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self.names = dict(names or {})
        self.mentioned: set[str] = set()

    def show(self, user_id: str, mentioned: set[str]) -> Markup:
        if user_id in mentioned and user_id in self.names:
            return Markup(escape(self.names[user_id]))  # noqa: S704 - escaped
        mentioned.add(user_id)
        return Markup(mention(user_id))  # noqa: S704 - a Slack user id


def _context(env: Environment, entry: Any, owner: Markup) -> dict[str, Any]:
    """What a line template sees: the entry, its linked review title and its owner."""
    review = entry if isinstance(entry, ReviewEntry) else entry.review
    return {"entry": entry, "review": review, "review_link": _ref(review), "owner": owner}


def _lines(
    env: Environment, key: str, entries: tuple[Any, ...], today: date, people: People
) -> list[str]:
    template = env.get_template(f"digest_{key}.mrkdwn.j2")
    mentioned = set(people.mentioned)  # tentative: only the lines kept count (section_text)
    return [
        template.render(
            **_context(env, e, people.show(_owner_of(e), mentioned)), today=today, clip=clip
        ).strip()
        for e in entries
    ]


def section_text(
    env: Environment,
    key: str,
    heading: str,
    listing: Listing,
    today: date,
    per_section: int = PER_SECTION,
    limit: int = SECTION_LIMIT,
    people: People | None = None,
) -> str:
    """The section's mrkdwn: as many entries as fit, then "and N more"."""
    people = people or People()
    entries = listing.entries[:per_section]
    template = env.get_template("digest_section.mrkdwn.j2")
    while True:
        lines = _lines(env, key, entries, today, people)
        more = listing.total - listing.elsewhere - len(lines)
        text = template.render(
            heading=heading,
            count=listing.total,
            lines=[Markup(x) for x in lines],  # noqa: S704
            more=more,
            elsewhere=listing.elsewhere,
        ).strip()
        if len(text) <= limit or not entries:
            people.mentioned.update(_owner_of(e) for e in entries)
            return clip(text, limit)
        entries = entries[:-1]


def digest_message(
    content: DigestContent,
    *,
    every_weeks: int,
    templates_dir: Path | None = None,
    per_section: int = PER_SECTION,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """chat.postMessage arguments: header, intro, one block per non-empty section, figures.

    `names` (user id to display name) lets a person mentioned once appear by name after that.
    """
    env = templates(templates_dir)
    today = content.covered_to.date()
    meeting = content.meeting_starts_at
    people = People(names)
    blocks: list[Any] = [
        HeaderBlock(
            block_id="digest.header",
            text=clip(f"Post-mortem meeting · {day(meeting, today)}, {meeting:%H:%M}", 150),
        )
    ]
    intro = (
        env.get_template("digest_intro.mrkdwn.j2")
        .render(content=content, quiet=content.quiet, every_weeks=every_weeks, today=today)
        .strip()
    )
    blocks.append(
        ContextBlock(
            block_id="digest.intro", elements=[MarkdownTextObject(text=clip(intro, SECTION_LIMIT))]
        )
    )
    if content.quiet:
        text = env.get_template("digest_quiet.mrkdwn.j2").render(content=content).strip()
        blocks.append(
            SectionBlock(
                block_id="digest.quiet", text=MarkdownTextObject(text=clip(text, SECTION_LIMIT))
            )
        )
    for key, heading in SECTIONS:
        listing = content.sections.get(key)
        if not listing or not listing.total:
            continue
        blocks.append(
            SectionBlock(
                block_id=f"digest.{key}",
                text=MarkdownTextObject(
                    text=section_text(env, key, heading, listing, today, per_section, people=people)
                ),
            )
        )
    figures = (
        ""
        if content.quiet
        else env.get_template("digest_figures.mrkdwn.j2")
        .render(f=content.figures, content=content, today=today)
        .strip()
    )
    if figures:
        blocks.append(DividerBlock(block_id="digest.divider"))
        blocks.append(
            SectionBlock(
                block_id="digest.figures",
                text=MarkdownTextObject(text=clip(figures, SECTION_LIMIT)),
            )
        )
    blocks.append(
        ContextBlock(
            block_id="digest.footer",
            elements=[
                MarkdownTextObject(
                    text="Everything in progress: `/postmortem list` · "
                    "this digest: `/postmortem digest`"
                )
            ],
        )
    )
    fallback = (
        env.get_template("digest_fallback.txt.j2")
        .render(
            content=content, counts={k: v.total for k, v in content.sections.items()}, today=today
        )
        .strip()
    )
    return {
        "text": clip(fallback, SECTION_LIMIT),
        "blocks": [b.to_dict() for b in blocks],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def as_mrkdwn(message: dict[str, Any]) -> str:
    """The message as one mrkdwn text (`postmortem-bot digest --dry-run`, the golden file)."""
    parts: list[str] = []
    for block in message["blocks"]:
        kind = block["type"]
        if kind == "header":
            parts.append(f"*{block['text']['text']}*")
        elif kind == "section":
            parts.append(block["text"]["text"])
        elif kind == "context":
            parts.append("\n".join(e["text"] for e in block["elements"] if "text" in e))
        elif kind == "divider":
            parts.append("———")
    return "\n\n".join(parts) + "\n"


# --- `/postmortem digest`: the preview and the admin's buttons and modals ----------------------


def preview_message(
    *,
    next_line: str,
    schedule_lines: list[str],
    digest: dict[str, Any] | None,
    admin: bool,
    meeting_key: str | None,
) -> dict[str, Any]:
    """The ephemeral answer: the next meeting, the coming schedule, the digest as it stands."""
    lines = "\n".join(f"• {escape(line)}" for line in schedule_lines)
    blocks: list[Any] = [
        SectionBlock(
            block_id="preview.next",
            text=MarkdownTextObject(
                text=clip(f"{next_line}\n{lines}" if lines else next_line, SECTION_LIMIT)
            ),
        ),
    ]
    if admin:
        buttons = [
            ButtonElement(
                text="Post now", action_id=POST_NOW, value=meeting_key or "", style="primary"
            ),
            ButtonElement(text="Skip this meeting", action_id=SKIP, value=meeting_key or ""),
            ButtonElement(text="Change schedule", action_id=SCHEDULE, value="schedule"),
        ]
        if not meeting_key:
            buttons = buttons[2:]
        blocks.append(ActionsBlock(block_id="preview.admin", elements=buttons))
    out = [b.to_dict() for b in blocks]
    if digest:
        out.append(DividerBlock(block_id="preview.divider").to_dict())
        out.append(
            ContextBlock(
                block_id="preview.label",
                elements=[
                    MarkdownTextObject(text="*Preview:* the digest as it would be posted now")
                ],
            ).to_dict()
        )
        # The preview keeps a few blocks for the lines above, inside the 50-block message.
        out += digest["blocks"][: 50 - len(out)]
    return {"text": clip(next_line, SECTION_LIMIT), "blocks": out}


def skip_modal(meeting_key: str, meeting_label: str) -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=SKIP_CALLBACK,
        private_metadata=meeting_key,
        title="Skip or move meeting",
        submit="Save",
        close="Cancel",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=escape(meeting_label))),
            InputBlock(
                block_id="reason",
                label="Why is there no meeting?",
                element=PlainTextInputElement(
                    action_id="v", initial_value=DEFAULT_SKIP_REASON, max_length=200
                ),
            ),
            InputBlock(
                block_id="move_to",
                optional=True,
                label="Or move it to another day instead",
                hint="Leave empty to skip the meeting.",
                element=DatePickerElement(action_id="v"),
            ),
        ],
    ).to_dict()


def schedule_modal(
    *,
    channel: str | None,
    every_weeks: int,
    first_meeting: date,
    time: str,
    tz: str,
    hours_before: int,
) -> dict[str, Any]:
    weeks = [
        Option(value=str(n), label="Every week" if n == 1 else f"Every {n} weeks")
        for n in (1, 2, 3, 4)
    ]
    channel_element: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": "v",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel:
        channel_element["initial_conversation"] = channel
    blocks: list[Any] = [
        {
            "type": "input",
            "block_id": "channel",
            "label": {"type": "plain_text", "text": "Digest channel"},
            "element": channel_element,
        },
        InputBlock(
            block_id="every_weeks",
            label="Meetings",
            element=StaticSelectElement(
                action_id="v", options=weeks, initial_option=weeks[every_weeks - 1]
            ),
        ),
        InputBlock(
            block_id="first_meeting",
            label="First meeting (a Wednesday)",
            hint="Meetings are counted from this date.",
            element=DatePickerElement(action_id="v", initial_date=first_meeting.isoformat()),
        ),
        {
            "type": "input",
            "block_id": "time",
            "label": {"type": "plain_text", "text": "Meeting time"},
            "element": {"type": "timepicker", "action_id": "v", "initial_time": time},
        },
        InputBlock(
            block_id="tz",
            label="Time zone",
            hint="e.g. Australia/Sydney",
            element=PlainTextInputElement(action_id="v", initial_value=tz, max_length=64),
        ),
        {
            "type": "input",
            "block_id": "hours_before",
            "label": {"type": "plain_text", "text": "Post the digest this many hours before"},
            "element": {
                "type": "number_input",
                "action_id": "v",
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": "168",
                "initial_value": str(hours_before),
            },
        },
    ]
    return View(
        type="modal",
        callback_id=SCHEDULE_CALLBACK,
        title="Meeting schedule",
        submit="Save",
        close="Cancel",
        blocks=[b if isinstance(b, dict) else b.to_dict() for b in blocks],
    ).to_dict()

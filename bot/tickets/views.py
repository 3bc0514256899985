"""Support post-mortems in Slack: the owner's "Start" DM, the stale-ticket suggestion, the review
loop's DMs and the admins' list of missing-feature requests. Pure builders of message payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.reviews.views.review_message import CONTINUE
from bot.slack.text import clip, escape, link, mention

START_STALE = "ticket_postmortem"
MAX_FEATURES = 40


@dataclass(frozen=True)
class TicketView:
    ticket_id: str
    subject: str
    url: str | None
    ces: str | None = None  # "4/7"


def _ticket(t: TicketView) -> str:
    name = f"ticket {t.ticket_id}" + (f" “{t.subject}”" if t.subject else "")
    return link(t.url, clip(name, 150)) if t.url else escape(clip(name, 150))


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _message(text: str, blocks: list[Any]) -> dict[str, Any]:
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def start_dm(review_id: int, ticket: TicketView, title: str) -> dict[str, Any]:
    """The owner's DM for a post-mortem a low CES created: its Start button opens stage 1."""
    return _message(
        f"New support post-mortem for you: {escape(clip(title, 150))}",
        [
            _section(
                f":clipboard: A customer rated {_ticket(ticket)} "
                f"*CES {escape(ticket.ces or '?')}*. You own the ticket, so its post-mortem is "
                "yours: the ticket's metadata is "
                "filled in; check it, then analyse the ticket and write the report."
            ),
            ActionsBlock(
                block_id="start",
                elements=[
                    ButtonElement(
                        text="Start", action_id=CONTINUE, value=str(review_id), style="primary"
                    )
                ],
            ),
        ],
    )


def stale_dm(row_id: int, ticket: TicketView, days: int) -> dict[str, Any]:
    """A one-off suggestion for a ticket open more than 14 days."""
    return _message(
        f"Ticket {escape(clip(ticket.ticket_id, 100))} has been open {days} days: a post-mortem?",
        [
            _section(
                f":hourglass: {_ticket(ticket)} has been open for *{days} days*. If it could "
                "have been handled better, a post-mortem helps the next one go faster."
            ),
            ActionsBlock(
                block_id="stale",
                elements=[
                    ButtonElement(
                        text="Start a post-mortem", action_id=START_STALE, value=str(row_id)
                    )
                ],
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="I suggest this once per ticket; "
                        "ignore it if there is nothing to learn."
                    )
                ]
            ),
        ],
    )


def changes_requested_dm(
    review_id: int, title: str, permalink: str | None, admin: str, comment: str, stage_name: str
) -> dict[str, Any]:
    name = link(permalink, title) if permalink else f"“{escape(title)}”"
    return _message(
        f"Changes requested on {escape(clip(title, 150))}",
        [
            _section(
                f":leftwards_arrow_with_hook: {mention(admin)} requested changes on {name}; "
                f"it is back In Progress at *{escape(stage_name)}*."
            ),
            _section(">" + escape(clip(comment, 2800)).replace("\n", "\n>")),
            ActionsBlock(
                block_id="changes",
                elements=[
                    ButtonElement(
                        text=clip(f"Continue: {stage_name}", 75),
                        action_id=CONTINUE,
                        value=str(review_id),
                        style="primary",
                    )
                ],
            ),
        ],
    )


def closed_dm(title: str, permalink: str | None, admin: str, comment: str = "") -> dict[str, Any]:
    """The owner's news that an admin closed the post-mortem, with what the admin wrote."""
    name = link(permalink, title) if permalink else f"“{escape(title)}”"
    blocks = [
        _section(f":white_check_mark: {mention(admin)} reviewed and closed {name}. Thank you!")
    ]
    if comment.strip():
        blocks.append(_section(">" + escape(clip(comment.strip(), 2800)).replace("\n", "\n>")))
    return _message(f"Closed: {escape(clip(title, 150))}", blocks)


def in_progress_reminder(
    review_id: int, title: str, permalink: str | None, days: int, stage_name: str
) -> dict[str, Any]:
    name = link(permalink, title) if permalink else f"“{escape(title)}”"
    return _message(
        f"Reminder: {escape(clip(title, 150))} has not moved for {days} working days",
        [
            _section(
                f":hourglass_flowing_sand: {name} has waited at *{escape(stage_name)}* for "
                f"{days} working days."
            ),
            ActionsBlock(
                block_id="remind",
                elements=[
                    ButtonElement(
                        text=clip(f"Continue: {stage_name}", 75),
                        action_id=CONTINUE,
                        value=str(review_id),
                    )
                ],
            ),
        ],
    )


def in_review_reminder(
    review_id: int, title: str, permalink: str | None, owner: str, days: int
) -> dict[str, Any]:
    name = link(permalink, title) if permalink else f"“{escape(title)}”"
    waited = "is waiting" if days == 0 else f"has waited {days} working days"
    return _message(
        f"In Review: {escape(clip(title, 150))} {waited} for an admin",
        [
            _section(f":mag: {name} by {mention(owner)} {waited} for an admin's review."),
            ActionsBlock(
                block_id="review",
                elements=[
                    ButtonElement(
                        text="Review it", action_id=CONTINUE, value=str(review_id), style="primary"
                    )
                ],
            ),
        ],
    )


@dataclass(frozen=True)
class FeatureRequest:
    title: str
    permalink: str | None
    owner: str
    request: str
    admin_comment: str


def features_message(requests: list[FeatureRequest]) -> dict[str, Any]:
    """`/postmortem features`: the missing features post-mortems found (admins only)."""
    if not requests:
        return {"text": "No post-mortem has reported a missing feature yet."}
    blocks: list[Any] = [
        _section(f"*Missing-feature requests from post-mortems* ({len(requests)})")
    ]
    for r in requests[:MAX_FEATURES]:
        name = link(r.permalink, r.title) if r.permalink else escape(r.title)
        text = f"• *{name}* ({mention(r.owner)})\n{escape(clip(r.request, 1500))}"
        if r.admin_comment:
            text += f"\n_Comment for admins:_ {escape(clip(r.admin_comment, 800))}"
        blocks.append(_section(clip(text, 3000)))
    if len(requests) > MAX_FEATURES:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"…and {len(requests) - MAX_FEATURES} more.")]
            )
        )
    return _message(f"{len(requests)} missing-feature request(s)", blocks)

"""The App Home tab: what waits on me, my action items (with their buttons), the items of my
reviews that others own (blocked first), and my reviews.

Pure Block Kit builders. Each item is drawn by the action items' own views, so an item looks and
acts the same on Home as on its card; block ids carry the item's id, so they are unique.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.action_items.service import Listed
from bot.action_items.views import item_blocks, owned_item_blocks
from bot.reviews.views.review_message import CONTINUE
from bot.slack.text import clip, escape, mention

MAX_WAITING, MAX_MINE, MAX_OWNED, MAX_REVIEWS = 15, 10, 10, 15  # within Home's 100 blocks
TRACKER_SETTINGS = "home_tracker_settings"  # handled by bot/trackers/listeners.py (admins only)


def _heading(text: str) -> dict[str, Any]:
    return SectionBlock(text=MarkdownTextObject(text=f"*{text}*")).to_dict()


def _note(text: str) -> dict[str, Any]:
    return ContextBlock(elements=[MarkdownTextObject(text=text)]).to_dict()


def home_view(
    *,
    waiting: list[tuple[int, str, str]],
    reviews: list[str],
    mine: Listed,
    owned: Listed,
    admin: bool = False,
    waiting_on: dict[int, str] | None = None,
) -> dict[str, Any]:
    """Home for one person; `admin` adds "Tracker settings" (its listener checks again, since a
    button can be replayed). `waiting_on`: review id -> the person its current stage is assigned
    to (not the viewer), said next to the stage ("Waiting on @bob for Quality Review")."""
    waiting_on = waiting_on or {}
    blocks: list[dict[str, Any]] = [
        HeaderBlock(text="Your post-mortems").to_dict(),
        _heading("Waiting on you"),
    ]
    for review_id, title, stage in waiting[:MAX_WAITING]:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{escape(clip(title, 200))}*\n"
                    + (
                        f"Waiting on {mention(waiting_on[review_id])} for {escape(stage)}"
                        if review_id in waiting_on
                        else escape(stage)
                    )
                ),
                accessory=ButtonElement(
                    text="Continue", action_id=CONTINUE, value=str(review_id), style="primary"
                ),
            ).to_dict()
        )
    blocked = owned.blocked
    if blocked:
        blocks.append(
            _note(
                f":no_entry: {blocked} action item{'s' if blocked > 1 else ''} in "
                "your reviews "
                + ("are" if blocked > 1 else "is")
                + " blocked: see *Action items in your reviews* below."
            )
        )
    elif not waiting:
        blocks.append(_note("Nothing right now."))

    blocks += [DividerBlock().to_dict(), _heading("Your action items")]
    for item in mine.items[:MAX_MINE]:
        blocks += item_blocks(item, "")["blocks"]
    if mine.total > MAX_MINE:
        blocks.append(
            _note(f"and {mine.total - MAX_MINE} more: `/postmortem actions` lists them all")
        )
    if not mine.items:
        blocks.append(_note("No open action items."))

    if owned.items:
        blocks += [DividerBlock().to_dict(), _heading("Action items in your reviews")]
        for item in owned.items[:MAX_OWNED]:
            blocks += owned_item_blocks(item)
        if owned.total > MAX_OWNED:
            blocks.append(_note(f"and {owned.total - MAX_OWNED} more"))

    blocks += [DividerBlock().to_dict(), _heading("Your reviews")]
    for line in reviews[:MAX_REVIEWS] or [
        "You have no reviews yet. Start one with `/postmortem start`."
    ]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(line, 3000))).to_dict())
    buttons = [ButtonElement(text="Start a review", action_id="home_start")]
    if admin:
        buttons.append(ButtonElement(text="Tracker settings", action_id=TRACKER_SETTINGS))
    blocks.append(ActionsBlock(elements=buttons).to_dict())
    return View(type="home", blocks=blocks).to_dict()

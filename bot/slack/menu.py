"""An overflow menu whose options stand for buttons: secondary actions leave a message with one
primary button.

Each option's value names the action id of the button it replaces and that button's value
(`export_review|12`). `as_button`, a global middleware the reviews feature installs, turns the
choice into the click of that button before Bolt matches listeners, so every feature keeps one
listener per action id whether the action arrives as a button or from the menu, and no feature
needs to know which menu offered it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt import BoltResponse

from bot.slack.text import clip

MENU = "more_actions"
SEPARATOR = "|"
MAX_OPTIONS = 5  # Slack's limit for an overflow menu
MAX_SELECT_OPTIONS = 100  # Slack's limit for a static select

Item = tuple[str, str, str]
"""(label, action id of the button it stands for, that button's value)."""


def _option(label: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "text": {"type": "plain_text", "text": clip(label, 75)},
        "value": f"{action_id}{SEPARATOR}{value}"[:150],
    }


def secondary(items: Sequence[Item]) -> list[dict[str, Any]]:
    """One plain button for a single action, an overflow menu for two to five (Slack's limit),
    and a "More actions" select beyond that, so no action is ever dropped from a message."""
    if len(items) > MAX_SELECT_OPTIONS:
        raise ValueError(f"{len(items)} secondary actions: Slack's select takes at most 100")
    if len(items) > MAX_OPTIONS:
        return [
            {
                "type": "static_select",
                "action_id": MENU,
                "placeholder": {"type": "plain_text", "text": "More actions…"},
                "options": [_option(*item) for item in items],
            }
        ]
    if not items:
        return []
    if len(items) == 1:
        label, action_id, value = items[0]
        return [
            {
                "type": "button",
                "action_id": action_id,
                "value": value,
                "text": {"type": "plain_text", "text": clip(label, 75)},
            }
        ]
    return [
        {
            "type": "overflow",
            "action_id": MENU,
            "options": [_option(*item) for item in items],
        }
    ]


def as_button(
    body: dict[str, Any],
    next: Callable[[], BoltResponse],  # noqa: A002 - Bolt's name
) -> BoltResponse:
    """A choice from the menu becomes the click of the button it stands for."""
    actions = body.get("actions") if body.get("type") == "block_actions" else None
    action = actions[0] if actions else None
    menu_types = ("overflow", "static_select")
    if actions and action and action.get("type") in menu_types and action.get("action_id") == MENU:
        chosen = action.get("selected_option") or {}
        action_id, _, value = str(chosen.get("value") or "").partition(SEPARATOR)
        if action_id:
            actions[0] = {
                **action,
                "type": "button",
                "action_id": action_id,
                "value": value,
                "text": chosen.get("text") or {"type": "plain_text", "text": action_id},
            }
    return next()

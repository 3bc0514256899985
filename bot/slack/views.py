"""Modals every feature shows the same way."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.slack.text import clip, escape


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only explains (replaces a form that can no longer be submitted)."""
    return View(
        type="modal",
        title=clip(title, 24),
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=escape(text)))],
    ).to_dict()

"""A task in a tracker, as someone pastes it into a `tracker_task` field: a link or an id.

Pure: this only says whether the text is plausibly a task reference (in ClickUp, Jira, Linear or
GitHub Issues), so a typo is caught in the form; whether the task exists is the bot's check,
against the tracker the workspace uses (bot/trackers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workflows.links import link_problem

MAX_LENGTH = 300
HINT = "Paste the task's link, or its id: PM-12, #12, 86a1b2c3d"

_URLS = (
    ("clickup", re.compile(r"^https?://(?:app\.)?clickup\.com/t/(?:\d+/)?([\w-]+)/?$", re.I)),
    ("jira", re.compile(r"^https?://[^/]+/browse/([A-Z][A-Z0-9_]+-\d+)/?(?:\?.*)?$", re.I)),
    (
        "linear",
        re.compile(r"^https?://linear\.app/[^/]+/issue/([A-Z][A-Z0-9]*-\d+)(?:/.*)?$", re.I),
    ),
    ("github", re.compile(r"^https?://[^/]+/[\w.-]+/[\w.-]+/issues/(\d+)/?(?:[?#].*)?$")),
)
_IDS = (
    ("key", re.compile(r"^([A-Z][A-Z0-9_]*-\d+)$", re.I)),  # Jira PM-12, Linear ENG-7
    ("github", re.compile(r"^(?:[\w.-]+/[\w.-]+)?#(\d+)$")),  # #12, acme/support#12
    ("clickup", re.compile(r"^#?([0-9a-z]*\d[0-9a-z]*)$")),  # 86a1b2c3d (lower case, a digit)
)


@dataclass(frozen=True)
class TaskReference:
    """What was pasted, and which tracker it looks like ("key": Jira or Linear)."""

    text: str
    kind: str
    id: str

    @property
    def is_link(self) -> bool:
        return self.text.lower().startswith(("https://", "http://"))


def parse_task_reference(text: str) -> TaskReference | None:
    """The reference in `text`, or None when it does not look like a task at all."""
    text = text.strip()
    if not text or len(text) > MAX_LENGTH:
        return None
    if text.lower().startswith(("https://", "http://")):
        if link_problem(text):
            return None
        for kind, pattern in _URLS:
            if found := pattern.match(text):
                return TaskReference(text, kind, found.group(1))
        return None
    for kind, pattern in _IDS:
        found = pattern.match(text)
        if found is None or (kind == "clickup" and not 5 <= len(found.group(1)) <= 15):
            continue
        return TaskReference(text, kind, found.group(1))
    return None


def task_reference_problem(text: str) -> str | None:
    """Why `text` is not a task reference, in the form's words, or None."""
    if len(text.strip()) > MAX_LENGTH:
        return f"Keep this under {MAX_LENGTH} characters."
    if parse_task_reference(text) is None:
        return f"That does not look like a task. {HINT}."
    return None

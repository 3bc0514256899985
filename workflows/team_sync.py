"""Async team sync: the rules of the items a team adds before a stage opens, and their votes.

Pure (no Slack, no SQL) so that the order the facilitator reads, the clipping to Slack's
3000-character input and who may add or vote are decided in one place and tested with tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from workflows.model import AsyncInput, Stage, Workflow

TEXT_MAX = 500
"""An item is a sticky note, not an essay; it must also fit a thread message comfortably."""

INPUT_MAX = 3000  # Slack's plain_text_input max_length


@dataclass(frozen=True)
class Item:
    """One item as the rules see it: its column, words and votes (id keeps ties stable)."""

    id: int
    column: str
    text: str
    votes: int = 0


def votes_label(votes: int) -> str:
    return "1 vote" if votes == 1 else f"{votes} votes"


def ordered(items: Iterable[Item], spec: AsyncInput) -> list[tuple[str, list[Item]]]:
    """The items by column (in the definition's order), most votes first, then oldest first.

    Columns without items are left out; an item of a column the definition no longer has
    (edited YAML) is kept at the end under its key, so nothing the team wrote disappears.
    """
    by_column: dict[str, list[Item]] = {c.value: [] for c in spec.columns}
    for item in items:
        by_column.setdefault(item.column, []).append(item)
    return [
        (spec.label(column), sorted(found, key=lambda i: (-i.votes, i.id)))
        for column, found in by_column.items()
        if found
    ]


def compiled(items: Sequence[Item], spec: AsyncInput, limit: int = INPUT_MAX) -> str:
    """The text the stage's field opens with: each column a heading, its items as bullets.

    "Went well:\\n• Launch email copy (3 votes)\\n…". What does not fit in `limit` characters
    (the field's own max_length, at most Slack's 3000) is cut whole items at a time and counted
    in a last line, "… and N more", so the facilitator knows the thread holds more.
    """
    flat = [
        (label, n, item) for label, found in ordered(items, spec) for n, item in enumerate(found)
    ]
    lines: list[str] = []
    shown = 0
    for label, position, item in flat:
        votes = f" ({votes_label(item.votes)})" if item.votes else ""
        bullet = f"• {' '.join(item.text.split())}{votes}"  # one line per item
        new = [*([""] if lines else []), f"{label}:", bullet] if position == 0 else [bullet]
        left = len(flat) - shown - 1
        reserve = len(f"\n… and {left} more") if left else 0
        if len("\n".join([*lines, *new])) + reserve > limit:
            break
        lines.extend(new)
        shown += 1
    total = len(flat)
    text = "\n".join(lines)
    if shown < total:
        more = f"… and {total - shown} more"
        text = f"{text}\n{more}" if text else more
    return text[:limit]


def open_for_input(
    workflow: Workflow, current: str | None, submitted: Iterable[str]
) -> Stage | None:
    """The stage that takes items now: the first one from the current stage on that declares
    `async_input` and has not been submitted. None when the review is complete or past it."""
    if current is None:
        return None
    done = set(submitted)
    for stage in workflow.stages[workflow.index(current) :]:
        if stage.async_input is not None and stage.key not in done:
            return stage
    return None


def add_refusal(
    *, stage: Stage | None, is_participant: bool, is_owner: bool, is_admin: bool
) -> str | None:
    """Why this person may not add an item now, or None."""
    if not (is_participant or is_owner or is_admin):
        return (
            "Only the review's participants, its owner or an admin can add to the team sync. "
            "Ask the owner to add you as a participant."
        )
    if stage is None:
        return "The team sync for this review is done: items can no longer be added."
    return None


def vote_refusal(
    *, stage_open: bool, on_review: bool, is_owner: bool, is_admin: bool
) -> str | None:
    """Why this person may not +1 an item, or None."""
    if not (on_review or is_owner or is_admin):
        return "Only the people on this review (participants, its owner or an admin) can +1 items."
    if not stage_open:
        return "The team sync for this review is done: votes are closed."
    return None


def text_problem(text: str) -> str | None:
    """What is wrong with an item's words, or None."""
    if not text.strip():
        return "Write the item."
    if len(text) > TEXT_MAX:
        return f"Keep it under {TEXT_MAX} characters ({len(text)} now)."
    return None


def column_problem(column: str | None, spec: AsyncInput) -> str | None:
    if column not in {c.value for c in spec.columns}:
        return "Choose where it goes."
    return None

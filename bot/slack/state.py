"""Reading a submitted modal's `view.state.values`, the same way in every feature.

Every input block's element has the action id `v` (one element per input block), so a value is
found by its block id alone. Slack leaves untouched inputs out of `state.values` and sends
`null` for cleared selects; these accessors turn both into "nothing chosen".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

Values = dict[str, Any]
C = TypeVar("C", bound=str)


def raw(values: Values, block: str, key: str) -> Any:
    """The element's `key` field as Slack sent it (None when absent)."""
    return ((values.get(block) or {}).get("v") or {}).get(key)


def text(values: Values, block: str) -> str:
    """A text input's value, trimmed ("" when empty)."""
    return str(raw(values, block, "value") or "").strip()


def option(values: Values, block: str) -> str | None:
    """The chosen option's value of a select or radio group."""
    chosen = raw(values, block, "selected_option") or {}
    return chosen.get("value")


def one_of(value: str | None, allowed: Iterable[C]) -> C | None:
    """`value` as one of `allowed` (a Literal type's values), or None when it is none of them:
    a chosen option checked against what the domain accepts, and typed as such."""
    return next((a for a in allowed if a == value), None)


def options(values: Values, block: str) -> list[str]:
    """The chosen options' values of checkboxes or a multi-select."""
    return [o["value"] for o in raw(values, block, "selected_options") or []]


def date(values: Values, block: str) -> str | None:
    return raw(values, block, "selected_date")


def time(values: Values, block: str) -> str | None:
    return raw(values, block, "selected_time")


def user(values: Values, block: str) -> str | None:
    return raw(values, block, "selected_user")


def conversation(values: Values, block: str) -> str | None:
    return raw(values, block, "selected_conversation")

"""Building ``view.state.values`` and ``actions[]`` entries the way Slack does.

Slack reports each stateful element as ``{block_id: {action_id: {"type": ..., <key>: ...}}}``
where ``<key>`` depends on the element type (``value`` for text inputs,
``selected_option`` for single selects, ``selected_date`` for date pickers, ...).
These helpers find the element in the stored view and turn a Python value into
that exact shape, refusing values the Slack client could not produce (an option
that is not in the list, a malformed date, ...).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

# element type -> the key carrying its value in state / actions entries
VALUE_KEYS: dict[str, str] = {
    "plain_text_input": "value",
    "email_text_input": "value",
    "url_text_input": "value",
    "number_input": "value",
    "rich_text_input": "rich_text_value",
    "static_select": "selected_option",
    "external_select": "selected_option",
    "radio_buttons": "selected_option",
    "overflow": "selected_option",
    "multi_static_select": "selected_options",
    "multi_external_select": "selected_options",
    "checkboxes": "selected_options",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "file_input": "files",
}
STATEFUL_TYPES = frozenset(VALUE_KEYS) - {"overflow"}
TEXT_TYPES = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input", "rich_text_input"}
)
MULTI_KEYS = frozenset(
    {"selected_options", "selected_users", "selected_conversations", "selected_channels", "files"}
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class StateError(ValueError):
    """A value the Slack client could not have produced for this view."""


def iter_elements(blocks: list[dict]) -> Iterator[tuple[dict, dict]]:
    """Yield ``(block, element)`` for every interactive element in ``blocks``."""
    for block in blocks or []:
        btype = block.get("type")
        if btype == "input" and isinstance(block.get("element"), dict):
            yield block, block["element"]
        elif btype == "actions":
            for el in block.get("elements") or []:
                if isinstance(el, dict):
                    yield block, el
        elif btype == "section" and isinstance(block.get("accessory"), dict):
            yield block, block["accessory"]


def find_element(
    blocks: list[dict],
    action_id: str,
    *,
    block_id: str | None = None,
    value: Any = None,
) -> tuple[dict, dict]:
    """Find one element by action_id (and block_id / button value to disambiguate)."""
    matches = [
        (b, e)
        for b, e in iter_elements(blocks)
        if e.get("action_id") == action_id and (block_id is None or b.get("block_id") == block_id)
    ]
    if len(matches) > 1 and value is not None:
        narrowed = [(b, e) for b, e in matches if e.get("value") == value]
        matches = narrowed or matches
    if not matches:
        where = f" in block {block_id!r}" if block_id else ""
        raise LookupError(f"no element with action_id {action_id!r}{where} is on screen")
    if len(matches) > 1:
        raise LookupError(
            f"{len(matches)} elements have action_id {action_id!r}; pass block_id= or value="
        )
    return matches[0]


def all_options(element: dict) -> list[dict]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _option(element: dict, value: Any) -> dict:
    if isinstance(value, dict):
        value = value.get("value")
    options = all_options(element)
    if not options and element.get("type") in ("external_select", "multi_external_select"):
        return {"text": {"type": "plain_text", "text": str(value)}, "value": value}
    for opt in options:
        if opt.get("value") == value:
            return copy.deepcopy(opt)
    offered = [o.get("value") for o in options]
    raise StateError(
        f"{element.get('action_id')!r} has no option with value {value!r} (offered: {offered})"
    )


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and _DATE.match(value):
        dt.date.fromisoformat(value)
        return value
    raise StateError(f"not a date (YYYY-MM-DD): {value!r}")


def _time(value: Any) -> str:
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, str) and _TIME.match(value):
        return value
    raise StateError(f"not a time (HH:MM): {value!r}")


def _ids(value: Any, prefix: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str) or not value.startswith(prefix):
        raise StateError(f"not a {what} id: {value!r}")
    return value


def _many(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return [value]


def rich_text(text: str) -> dict:
    """The ``rich_text`` object Slack sends for plain typed text."""
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


def convert(element: dict, value: Any) -> Any:
    """Python value -> the value Slack puts under the element's value key."""
    etype = element.get("type")
    if etype not in VALUE_KEYS:
        raise StateError(f"element type {etype!r} holds no value")
    if value is None:
        return [] if VALUE_KEYS[etype] in MULTI_KEYS else None
    if etype in ("plain_text_input", "email_text_input", "url_text_input"):
        if not isinstance(value, str):
            raise StateError(f"{etype} takes text, not {type(value).__name__}")
        return value
    if etype == "number_input":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise StateError(f"number_input takes a number, not {value!r}")
        text = str(value)
        try:
            number = float(text)
        except ValueError as exc:
            raise StateError(f"not a number: {value!r}") from exc
        if not element.get("is_decimal_allowed") and not number.is_integer():
            raise StateError(f"{element.get('action_id')!r} does not allow decimals: {value!r}")
        return text
    if etype == "rich_text_input":
        return rich_text(value) if isinstance(value, str) else value
    if etype in ("static_select", "external_select", "radio_buttons", "overflow"):
        return _option(element, value)
    if etype in ("multi_static_select", "multi_external_select", "checkboxes"):
        return [_option(element, v) for v in _many(value)]
    if etype == "datepicker":
        return _date(value)
    if etype == "timepicker":
        return _time(value)
    if etype == "datetimepicker":
        if isinstance(value, dt.datetime):
            return int(value.timestamp())
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise StateError(f"datetimepicker takes a datetime or epoch int, not {value!r}")
    if etype == "users_select":
        return _ids(value, ("U", "W"), "user")
    if etype == "multi_users_select":
        return [_ids(v, ("U", "W"), "user") for v in _many(value)]
    if etype in ("conversations_select", "channels_select"):
        return _ids(value, ("C", "G", "D"), "conversation")
    if etype in ("multi_conversations_select", "multi_channels_select"):
        return [_ids(v, ("C", "G", "D"), "conversation") for v in _many(value)]
    if etype == "file_input":
        return _many(value)
    raise StateError(f"unsupported element type {etype!r}")  # pragma: no cover


def entry(element: dict, value: Any) -> dict:
    """One ``state.values[block_id][action_id]`` entry built from a Python value."""
    etype = element["type"]
    return {"type": etype, VALUE_KEYS[etype]: convert(element, value)}


def initial_entry(element: dict) -> dict:
    """The entry Slack reports for an element the user has not touched."""
    etype = element["type"]
    key = VALUE_KEYS[etype]
    if etype in ("static_select", "external_select", "radio_buttons"):
        value = element.get("initial_option")
    elif key == "selected_options":
        value = element.get("initial_options") or []
    elif etype in TEXT_TYPES:
        value = element.get("initial_value")
    elif etype == "datepicker":
        value = element.get("initial_date")
    elif etype == "timepicker":
        value = element.get("initial_time")
    elif etype == "datetimepicker":
        value = element.get("initial_date_time")
    elif etype == "users_select":
        value = element.get("initial_user")
    elif etype == "multi_users_select":
        value = element.get("initial_users") or []
    elif etype == "conversations_select":
        value = element.get("initial_conversation")
    elif etype == "multi_conversations_select":
        value = element.get("initial_conversations") or []
    elif etype == "channels_select":
        value = element.get("initial_channel")
    elif etype == "multi_channels_select":
        value = element.get("initial_channels") or []
    else:
        value = [] if key in MULTI_KEYS else None
    return {"type": etype, key: copy.deepcopy(value)}


def full_state(blocks: list[dict], entered: dict[str, dict[str, dict]]) -> dict:
    """``view.state`` as Slack sends it: every input element plus anything touched."""
    values: dict[str, dict[str, dict]] = {}
    for block, el in iter_elements(blocks):
        etype = el.get("type")
        if etype not in STATEFUL_TYPES:
            continue
        # make_view gave every block and every stateful element an id
        bid, aid = block["block_id"], el["action_id"]
        touched = entered.get(bid, {}).get(aid)
        if touched is not None:
            values.setdefault(bid, {})[aid] = copy.deepcopy(touched)
        elif block.get("type") == "input":
            values.setdefault(bid, {})[aid] = initial_entry(el)
    return {"values": values}


def build_values(
    blocks: list[dict], values: dict[str, dict[str, Any]]
) -> dict[str, dict[str, dict]]:
    """``{block_id: {action_id: python value}}`` -> Slack state entries, strictly checked."""
    by_block: dict[str, dict[str, dict]] = {}
    for block, element in iter_elements(blocks):
        # make_view gave every block an id; an image accessory has no action_id (nor a value)
        elements = by_block.setdefault(block["block_id"], {})
        if element.get("action_id") is not None:
            elements[element["action_id"]] = element
    out: dict[str, dict[str, dict]] = {}
    for bid, actions in values.items():
        if bid not in by_block:
            raise StateError(
                f"the view has no block {bid!r} with an input element "
                f"(blocks: {sorted(b for b in by_block if b)})"
            )
        if not isinstance(actions, dict):
            raise StateError(f"values[{bid!r}] must be {{action_id: value}}")
        for aid, value in actions.items():
            el = by_block[bid].get(aid)
            if el is None:
                raise StateError(
                    f"block {bid!r} has no element {aid!r} (has: {sorted(by_block[bid])})"
                )
            if el.get("type") not in STATEFUL_TYPES:
                raise StateError(f"{bid}/{aid} is a {el.get('type')}, which holds no value")
            out.setdefault(bid, {})[aid] = entry(el, value)
    return out


def _is_empty(item: dict) -> bool:
    key = next(k for k in item if k != "type")
    value = item[key]
    return value is None or value == "" or value == []


def client_errors(blocks: list[dict], state_values: dict) -> dict[str, str]:
    """What the Slack client itself refuses before sending a view_submission."""
    errors: dict[str, str] = {}
    for block in blocks or []:
        if block.get("type") != "input" or not isinstance(block.get("element"), dict):
            continue
        el = block["element"]
        item = state_values.get(block.get("block_id"), {}).get(el.get("action_id"))
        if item is None:
            continue
        if _is_empty(item):
            if not block.get("optional"):
                errors[block["block_id"]] = "Please complete this required field."
            continue
        if el.get("type") == "plain_text_input":
            text = item.get("value") or ""
            if el.get("min_length") and len(text) < el["min_length"]:
                errors[block["block_id"]] = f"Must be at least {el['min_length']} characters."
            elif len(text) > el.get("max_length", 3000):
                limit = el.get("max_length", 3000)
                errors[block["block_id"]] = f"Must be at most {limit} characters."
        elif el.get("type") == "number_input":
            number = float(item["value"])
            if "min_value" in el and number < float(el["min_value"]):
                errors[block["block_id"]] = f"Must be at least {el['min_value']}."
            elif "max_value" in el and number > float(el["max_value"]):
                errors[block["block_id"]] = f"Must be at most {el['max_value']}."
        elif el.get("type") == "email_text_input" and "@" not in (item.get("value") or ""):
            errors[block["block_id"]] = "Please enter a valid email address."
    return errors


def action_payload(block: dict, element: dict, value: Any, action_ts: str) -> dict:
    """One ``actions[]`` entry of a block_actions payload."""
    etype = element.get("type")
    action: dict[str, Any] = {
        "type": etype,
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
    }
    if etype in ("button", "workflow_button"):
        action["text"] = copy.deepcopy(element.get("text"))
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
        if "url" in element:
            action["url"] = element["url"]
    elif etype in VALUE_KEYS:
        action[VALUE_KEYS[etype]] = convert(element, value)
        if "placeholder" in element:
            action["placeholder"] = copy.deepcopy(element["placeholder"])
    action["action_ts"] = action_ts
    return action

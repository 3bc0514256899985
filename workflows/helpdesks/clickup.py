"""ClickUp: the task an Automation's "Call webhook" action sends, as a ticket event.

ClickUp's plain task webhooks (`taskCreated`, `taskUpdated`...) carry only the task id and what
changed, never the custom fields a CES lives in, so the team points an Automation ("when CES
changes" / "when status changes", then "Call webhook") at `/hooks/clickup`. Its body is
`{"id", "trigger_id", "date", "payload": <the task>}`; a bare task (the REST API's shape) works too.

Options (`Workspace.settings["tickets"]["clickup"]`) name the custom fields: `ces_field`
("CES"), `customer_type_field` ("Customer type"), `category_field` ("Category").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from workflows.tickets import TicketError

DEFAULT_FIELDS = {
    "ces_field": "CES",
    "customer_type_field": "Customer type",
    "category_field": "Category",
}


def _task(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TicketError("the body must be a JSON object")
    if isinstance(data.get("payload"), dict):
        return data["payload"]
    if "task_id" in data and "history_items" in data:
        raise TicketError(
            "ClickUp task webhooks carry only the task id: send the task with an "
            "Automation's “Call webhook” action instead",
            "payload",
        )
    if "custom_fields" in data or "date_created" in data:
        return data
    raise TicketError(
        "payload is required (the task from ClickUp's “Call webhook” action)", "payload"
    )


def _millis(value: Any, path: str) -> str | None:
    """ClickUp's times are Unix milliseconds, often as strings."""
    if value in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC).isoformat()
    except (TypeError, ValueError, OverflowError):
        raise TicketError(f"{path}: is not a time in Unix milliseconds", path) from None


def _option_name(field: dict[str, Any]) -> str | None:
    """A drop-down's value is its option's orderindex (older API) or its id."""
    value = field.get("value")
    if value is None:
        return None
    for option in (field.get("type_config") or {}).get("options") or []:
        if value in (option.get("id"), option.get("orderindex")) or str(value) == str(
            option.get("orderindex")
        ):
            return option.get("name") or option.get("label")
    return str(value)


def _custom(task: dict[str, Any], name: str) -> dict[str, Any] | None:
    wanted = name.strip().lower()
    for field in task.get("custom_fields") or []:
        if isinstance(field, dict) and str(field.get("name", "")).strip().lower() == wanted:
            return field
    return None


def _text(field: dict[str, Any] | None) -> str | None:
    if field is None or field.get("value") in (None, ""):
        return None
    if field.get("type") in ("drop_down", "labels"):
        return _option_name(field)
    return str(field["value"])


def _owner(task: dict[str, Any]) -> str:
    for person in task.get("assignees") or []:
        if isinstance(person, dict) and person.get("email"):
            return person["email"]
    creator = task.get("creator") or {}
    if isinstance(creator, dict) and creator.get("email"):
        return creator["email"]
    raise TicketError(
        "payload.assignees: assign the task to someone with an e-mail address", "payload.assignees"
    )


def to_event(data: Any, options: dict[str, Any]) -> dict[str, Any]:
    task = _task(data)
    names = {**DEFAULT_FIELDS, **{k: v for k, v in (options or {}).items() if v}}
    task_id = task.get("custom_id") or task.get("id")
    if not task_id:
        raise TicketError("payload.id is required", "payload.id")
    ces = _custom(task, names["ces_field"])
    score = None if ces is None else ces.get("value")
    scale = None
    if ces is not None and ces.get("type") == "emoji":  # a rating field: its count is the scale
        scale = (ces.get("type_config") or {}).get("count")
    customer = _text(_custom(task, names["customer_type_field"]))
    category = _text(_custom(task, names["category_field"]))
    opened = _millis(task.get("date_created"), "payload.date_created")
    if opened is None:
        raise TicketError("payload.date_created is required", "payload.date_created")
    status = task.get("status") or {}
    closed = _millis(task.get("date_closed") or task.get("date_done"), "payload.date_closed")
    if closed is None and isinstance(status, dict) and status.get("type") in ("closed", "done"):
        closed = _millis(task.get("date_updated"), "payload.date_updated")
    return {
        "ticket_id": str(task_id),
        "url": task.get("url") or f"https://app.clickup.com/t/{task.get('id') or task_id}",
        "subject": str(task.get("name") or ""),
        "customer_type": customer,
        "category": re.sub(r"[^a-z0-9]+", "_", category.lower()).strip("_") if category else None,
        "ces_score": score if score not in ("", None) else None,
        "ces_scale": scale,
        "owner": _owner(task),
        "opened_at": opened,
        "closed_at": closed,
    }

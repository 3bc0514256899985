"""Our own format: the body already is a ticket event (`workflows.tickets.TicketEvent`)."""

from __future__ import annotations

from typing import Any

from workflows.tickets import TicketError


def to_event(data: Any, options: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TicketError("the body must be a JSON object")
    return data

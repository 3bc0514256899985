"""Helpdesk adapters: each maps one helpdesk's webhook body onto our ticket event format.

An adapter is a module with `to_event(data, options) -> dict` (the generic JSON format, which
`workflows.tickets.parse_event` then validates). Adding a helpdesk is one module plus one line in
ADAPTERS; the webhook serves it at `POST /hooks/<name>`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workflows.helpdesks import clickup, generic

Adapter = Callable[[Any, dict[str, Any]], dict[str, Any]]

ADAPTERS: dict[str, Adapter] = {
    "tickets": generic.to_event,
    "clickup": clickup.to_event,
}

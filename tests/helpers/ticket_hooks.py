"""Calling the bot's helpdesk webhook as a helpdesk would: shared by tests/tickets."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

TOKEN = "test-webhook-token-0123456789"  # noqa: S105 - a test credential


@dataclass
class HookReply:
    status: int
    body: dict[str, Any]


def post(
    bot: Any, path: str, body: Any, token: str | None = TOKEN, raw: bytes | None = None
) -> HookReply:
    """POST to the running bot as a helpdesk would."""
    url = bot.url.replace("/slack/events", path)
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - local URL
            reply = HookReply(response.status, json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        reply = HookReply(exc.code, json.loads(exc.read()))
    bot.settle()  # what the webhook promised (status message, DMs) has been delivered
    return reply


def event(**overrides: Any) -> dict[str, Any]:
    """The README's example ticket event."""
    body = {
        "ticket_id": "T-1234",
        "url": "https://help.example.com/t/1234",
        "subject": "Order arrived broken",
        "customer_type": "reseller",
        "category": "delivery",
        "ces_score": 4,
        "ces_scale": 7,
        "owner": "alice@example.com",
        "opened_at": "2026-11-01T09:00:00+11:00",
        "closed_at": "2026-11-03T09:00:00+11:00",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def clickup_task(**overrides: object) -> dict:
    """A task as ClickUp's Automation "Call webhook" action sends it (trimmed)."""
    task = {
        "id": "8687096vn",
        "custom_id": "SUP-43",
        "name": "Order arrived broken",
        "status": {"status": "complete", "type": "closed"},
        "date_created": "1761948000000",
        "date_updated": "1762120800000",
        "date_closed": "1762120800000",
        "creator": {"id": 1, "username": "Carol", "email": "carol@example.com"},
        "assignees": [{"id": 2, "username": "Alice", "email": "alice@example.com"}],
        "custom_fields": [
            {
                "id": "f1",
                "name": "CES",
                "type": "emoji",
                "value": 4,
                "type_config": {"count": 7, "code_point": "2b50"},
            },
            {
                "id": "f2",
                "name": "Customer type",
                "type": "drop_down",
                "value": 1,
                "type_config": {
                    "options": [
                        {"id": "o1", "name": "Reseller", "orderindex": 0},
                        {"id": "o2", "name": "End-user", "orderindex": 1},
                    ]
                },
            },
            {
                "id": "f3",
                "name": "Category",
                "type": "drop_down",
                "value": "o9",
                "type_config": {
                    "options": [{"id": "o9", "name": "Product defect", "orderindex": 0}]
                },
            },
        ],
        "url": "https://app.clickup.com/t/8687096vn",
    }
    task.update(overrides)
    return {
        "id": "b4ced072:main",
        "trigger_id": "6f612d16",
        "date": "2026-11-03T09:00:00.000Z",
        "payload": task,
    }

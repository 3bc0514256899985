"""What every tracker adapter offers, and the plain values that cross between them and the bot.

Adapters know their tracker's API and nothing of Slack or the database; the service
(bot/trackers/service.py) knows the items and nothing of any one tracker's API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from bot.features import PermanentError, RetryLater

MARKER_LABEL = "postmortem-bot"


def marker(item_id: int) -> str:
    """The text every task carries in its description, so it can be found again."""
    return f"[postmortem-bot item {item_id}]"


def item_label(item_id: int) -> str:
    """A per-item label, for trackers whose search is by label (Jira)."""
    return f"postmortem-bot-item-{item_id}"


@dataclass(frozen=True)
class NewTask:
    """A task to file for an action item, before any tracker's wording is applied."""

    item_id: int
    title: str
    review_title: str
    review_url: str | None
    details: tuple[str, ...] = ()
    due: date | None = None
    assignee: str | None = None  # the tracker's own user id (or GitHub login), already looked up

    @property
    def marker(self) -> str:
        return marker(self.item_id)


@dataclass(frozen=True)
class Task:
    """A task as the tracker reports it."""

    external_id: str
    reference: str  # what people call it: the ClickUp id, PM-12, ENG-7, #12
    url: str
    title: str = ""
    status: str = ""  # the tracker's own status name, for display
    closed: bool = False
    due: date | None = None
    cancelled: bool = False  # closed without being done (GitHub: "not planned")


@dataclass(frozen=True)
class Change:
    """What a webhook delivery says happened to one task."""

    external_id: str
    closed: bool | None = None  # True: closed as done; False: reopened; None: not about it
    due_changed: bool = False
    due: date | None = None
    cancelled: bool = False  # closed as not done (GitHub's "not planned"): the item is cancelled


# --- errors ------------------------------------------------------------------------------------


class TrackerError(Exception):
    """A tracker call failed; the message is safe to show (it never holds the token)."""


class TrackerUnavailable(TrackerError):
    """Down, slow or answering 5xx: worth retrying later with backoff."""


class TrackerRateLimited(TrackerError, RetryLater):
    """Rate-limited (or told to come back): retried after the wait the tracker asked for."""

    def __init__(self, message: str, wait: timedelta) -> None:
        RetryLater.__init__(self, message, wait)


class TrackerRefused(TrackerError, PermanentError):
    """A 4xx that waiting will not change (bad token, missing field, unknown project)."""


class WebhookRefused(Exception):
    """A webhook delivery that is not signed right or not understood: answered with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def json_object(body: bytes) -> dict[str, Any]:
    """A webhook's body as a JSON object, or a 400."""
    try:
        data = json.loads(body)
    except ValueError:
        raise WebhookRefused(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise WebhookRefused(400, "the body is not a JSON object")
    return data


def parse_date(value: Any) -> date | None:
    """A tracker's `YYYY-MM-DD` (or ISO date-time) due date, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def signature_matches(secret: str | None, body: bytes, given: str, prefix: str = "") -> bool:
    """Whether `given` is `prefix` + the hex HMAC-SHA256 of the raw body with `secret`."""
    if not secret or not given:
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.strip().lower().encode(), f"{prefix}{digest}".encode())


@dataclass(frozen=True)
class Headers:
    """Request headers with case-insensitive lookup (WSGI, http.server and urllib differ)."""

    values: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        wanted = name.lower()
        for key, value in self.values.items():
            if key.lower() == wanted:
                return value
        return default


class Tracker(Protocol):
    """One tracker's API, as the service uses it."""

    name: str

    def check(self) -> str:
        """Sign in and find the target (list, project, team, repository) with the cheapest
        calls there are; what was found, for a person to read. Raises TrackerError."""

    def find_user(self, email: str) -> str | None:
        """The tracker's user id for this e-mail address, or None when nobody matches."""

    def create(self, task: NewTask) -> Task:
        """File the task (its description carries `task.marker`)."""

    def find(self, item_id: int) -> Task | None:
        """The task an earlier attempt filed for this item, found by its marker."""

    def get(self, external_id: str) -> Task | None:
        """The task as it is now, or None when it no longer exists."""

    def close(self, external_id: str) -> None:
        """Close the task as done (the tracker's own "done" or "completed" state)."""

    def assign(self, external_id: str, assignee: str | None) -> None:
        """Make `assignee` (a `find_user` id, or GitHub login) the task's only assignee; None
        leaves it unassigned."""

    def parse_reference(self, text: str) -> str | None:
        """The id to `get` for a task URL or reference someone pasted, or None."""

    def parse_webhook(self, headers: Headers, body: bytes) -> list[Change]:
        """Check the delivery's signature and read what changed; raises WebhookRefused."""

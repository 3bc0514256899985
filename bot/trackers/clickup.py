"""ClickUp API v2: tasks in one list, the personal token as it is (no "Bearer").

Due dates are Unix milliseconds; an action item's due date has no time of day, so it is sent as
noon in the bot's timezone with `due_date_time: false`, which reads back as the same date in
any timezone within twelve hours. Tasks carry the `postmortem-bot` tag and the item's marker in
their description, which is how an interrupted creation is found again.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import TrackerSettings
from bot.trackers.base import (
    MARKER_LABEL,
    Change,
    Headers,
    NewTask,
    Task,
    TrackerRefused,
    WebhookRefused,
    json_object,
    marker,
    signature_matches,
)
from bot.trackers.http import Client, Response, Transport, seconds

CLOSED_TYPES = ("closed", "done")
MAX_PAGES = 20  # 100 tasks a page
URL = re.compile(r"^https?://[^/]*clickup\.com/t/(?:[0-9]+/)?([A-Za-z0-9_-]+)/?$")
ID = re.compile(r"^#?([0-9a-z]{5,15})$")


def rate_limit(response: Response) -> timedelta | None:
    """429 with X-RateLimit-Reset (Unix seconds when the window refills)."""
    if response.status != 429:
        return None
    reset = response.headers.get("X-RateLimit-Reset")
    if reset.strip().isdigit():
        return timedelta(seconds=max(int(reset) - time.time(), 1))
    return seconds(response.headers.get("Retry-After")) or timedelta(minutes=1)


def error_text(body: Any) -> str | None:
    if isinstance(body, dict) and body.get("err"):
        return f"{body['err']} ({body.get('ECODE', '')})".replace(" ()", "")
    return None


class ClickUp:
    name = "clickup"

    def __init__(
        self, settings: TrackerSettings, timezone: str, transport: Transport | None = None
    ) -> None:
        self.list_id, self.secret = settings.list_id, settings.webhook_secret
        self.tz = ZoneInfo(timezone)
        self.http = Client(
            "ClickUp",
            settings.api_url,
            {"Authorization": settings.token},
            secrets=(settings.token,),
            rate_limit=rate_limit,
            error_text=error_text,
            transport=transport,
        )

    # --- dates: Unix milliseconds ---

    def to_ms(self, due: date) -> int:
        return int(datetime(due.year, due.month, due.day, 12, tzinfo=self.tz).timestamp() * 1000)

    def from_ms(self, value: Any) -> date | None:
        if not str(value or "").isdigit():
            return None  # no due date (null), or not a time ClickUp would send
        return datetime.fromtimestamp(int(value) / 1000, UTC).astimezone(self.tz).date()

    def _task(self, data: dict[str, Any]) -> Task:
        status = data.get("status") or {}
        return Task(
            external_id=str(data["id"]),
            reference=str(data["id"]),
            url=str(data.get("url") or f"https://app.clickup.com/t/{data['id']}"),
            title=str(data.get("name") or ""),
            status=str(status.get("status") or ""),
            closed=status.get("type") in CLOSED_TYPES,
            due=self.from_ms(data.get("due_date")),
        )

    # --- the Tracker protocol ---

    def check(self) -> str:
        found = self.http.call("GET", f"/list/{self.list_id}").json() or {}
        return f"ClickUp list “{found.get('name') or self.list_id}” found with this token."

    def find_user(self, email: str) -> str | None:
        teams = self.http.call("GET", "/team").json().get("teams") or []
        for team in teams:
            for member in team.get("members") or []:
                user = member.get("user") or {}
                if str(user.get("email") or "").lower() == email.lower():
                    return str(user["id"])
        return None

    def create(self, task: NewTask) -> Task:
        lines = [f"Action item from the post-mortem “{task.review_title}”."]
        if task.review_url:
            lines.append(f"Review in Slack: {task.review_url}")
        lines += [*task.details, "", task.marker]
        body: dict[str, Any] = {
            "name": task.title,
            "description": "\n".join(lines),
            "tags": [MARKER_LABEL],
        }
        if task.due:
            body |= {"due_date": self.to_ms(task.due), "due_date_time": False}
        if task.assignee:
            body["assignees"] = [int(task.assignee)]
        return self._task(self.http.call("POST", f"/list/{self.list_id}/task", body=body).json())

    def find(self, item_id: int) -> Task | None:
        wanted = marker(item_id)
        for page in range(MAX_PAGES):
            answer = self.http.call(
                "GET",
                f"/list/{self.list_id}/task",
                query={"tags[]": MARKER_LABEL, "include_closed": "true", "page": page},
            ).json()
            for data in answer.get("tasks") or []:
                if wanted in str(data.get("description") or ""):
                    return self._task(data)
            if answer.get("last_page", True) or not answer.get("tasks"):
                return None
        return None

    def get(self, external_id: str) -> Task | None:
        answer = self.http.call("GET", f"/task/{external_id}", allow=(404,))
        return None if answer.status == 404 else self._task(answer.json())

    def assign(self, external_id: str, assignee: str | None) -> None:
        data = self.http.call("GET", f"/task/{external_id}").json() or {}
        current = [int(a["id"]) for a in data.get("assignees") or [] if str(a.get("id")).isdigit()]
        wanted = [int(assignee)] if assignee and assignee.isdigit() else []
        change = {
            "add": [a for a in wanted if a not in current],
            "rem": [a for a in current if a not in wanted],
        }
        if change["add"] or change["rem"]:
            self.http.call("PUT", f"/task/{external_id}", body={"assignees": change})

    def close(self, external_id: str) -> None:
        data = self.http.call("GET", f"/task/{external_id}").json()
        if (data.get("status") or {}).get("type") in CLOSED_TYPES:
            return
        list_id = (data.get("list") or {}).get("id") or self.list_id
        statuses = self.http.call("GET", f"/list/{list_id}").json().get("statuses") or []
        closed = next(
            (s for kind in ("closed", "done") for s in statuses if s.get("type") == kind), None
        )
        if closed is None:
            raise TrackerRefused(f"ClickUp list {list_id} has no closed status")
        self.http.call("PUT", f"/task/{external_id}", body={"status": closed["status"]})

    def parse_reference(self, text: str) -> str | None:
        text = text.strip()
        found = URL.match(text) or ID.match(text)
        return found.group(1) if found else None

    def parse_webhook(self, headers: Headers, body: bytes) -> list[Change]:
        if not self.secret:
            raise WebhookRefused(404, "the ClickUp webhook is off: set CLICKUP_WEBHOOK_SECRET")
        if not signature_matches(self.secret, body, headers.get("X-Signature")):
            raise WebhookRefused(401, "X-Signature does not match CLICKUP_WEBHOOK_SECRET")
        data = json_object(body)
        task_id = data.get("task_id")
        if not task_id:
            return []  # not about a task (a list or folder event)
        changes = []
        for item in data.get("history_items") or []:
            if not isinstance(item, dict):
                continue
            after = item.get("after")
            if item.get("field") == "status" and isinstance(after, dict):
                changes.append(Change(str(task_id), closed=after.get("type") in CLOSED_TYPES))
            elif item.get("field") == "due_date":
                changes.append(Change(str(task_id), due_changed=True, due=self.from_ms(after)))
        return changes

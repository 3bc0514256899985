"""GitHub's REST API: issues in one repository (GitHub Enterprise: set GITHUB_API_URL).

Requests carry a Bearer token, `Accept: application/vnd.github+json`, the API version and a
User-Agent (GitHub refuses requests without one). Issues have no due date, so the date is written
in the body and a change made on GitHub is never read back. Issues carry the `postmortem-bot`
label and the item's marker in the body; an interrupted creation is found by listing the
labelled issues (the list is consistent at once, unlike the search API).
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

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

API_VERSION = "2022-11-28"
MAX_PAGES = 10  # 100 issues a page


def rate_limit(response: Response) -> timedelta | None:
    """403 or 429 with `retry-after` (secondary limits) or `x-ratelimit-remaining: 0`."""
    if response.status not in (403, 429):
        return None
    wait = seconds(response.headers.get("retry-after"))
    if wait is not None:
        return wait
    if response.headers.get("x-ratelimit-remaining").strip() == "0":
        reset = response.headers.get("x-ratelimit-reset")
        if reset.strip().isdigit():
            return timedelta(seconds=max(int(reset) - time.time(), 1))
        return timedelta(minutes=1)
    return timedelta(minutes=1) if response.status == 429 else None  # 403: no permission


def error_text(body: Any) -> str | None:
    if not isinstance(body, dict) or not body.get("message"):
        return None
    fields = [
        str(e.get("field") or e.get("code") or "")
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    named = ", ".join(f for f in fields if f)
    return f"{body['message']}" + (f" ({named})" if named else "")


class GitHub:
    name = "github"

    def __init__(
        self, settings: TrackerSettings, timezone: str, transport: Transport | None = None
    ) -> None:
        self.repository, self.secret = settings.repository, settings.webhook_secret
        self.http = Client(
            "GitHub",
            settings.api_url,
            {
                "Authorization": f"Bearer {settings.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
            secrets=(settings.token,),
            rate_limit=rate_limit,
            error_text=error_text,
            transport=transport,
        )
        owner, _, repo = self.repository.partition("/")
        self.url = re.compile(
            rf"^https?://[^/]+/{re.escape(owner)}/{re.escape(repo)}"
            r"/issues/([0-9]+)/?(?:[?#].*)?$",
            re.IGNORECASE,
        )
        self.short = re.compile(rf"^(?:{re.escape(self.repository)})?#?([0-9]+)$", re.IGNORECASE)

    @staticmethod
    def _task(data: dict[str, Any]) -> Task:
        shut = data.get("state") == "closed"
        not_planned = shut and data.get("state_reason") == "not_planned"
        return Task(
            external_id=str(data["number"]),
            reference=f"#{data['number']}",
            url=str(data.get("html_url") or ""),
            title=str(data.get("title") or ""),
            status="closed as not planned" if not_planned else str(data.get("state") or ""),
            closed=shut and not not_planned,
            cancelled=not_planned,
        )

    def check(self) -> str:
        repo = self.http.call("GET", f"/repos/{self.repository}").json() or {}
        name = repo.get("full_name") or self.repository
        if not (repo.get("has_issues", True)):
            raise TrackerRefused(f"GitHub repository {name} has its issues turned off")
        return f"GitHub repository {name} found with this token."

    def find_user(self, email: str) -> str | None:
        return None  # GitHub does not look people up by e-mail: the workspace maps logins

    def create(self, task: NewTask) -> Task:
        review = (
            f"[{task.review_title}]({task.review_url})"
            if task.review_url
            else f"“{task.review_title}”"
        )
        lines = [f"Action item from the post-mortem {review}."]
        if task.due:
            lines.append(f"**Due:** {task.due.isoformat()}")
        lines += ["", *task.details, "", f"<!-- {task.marker} -->"]
        body: dict[str, Any] = {
            "title": task.title,
            "body": "\n".join(lines),
            "labels": [MARKER_LABEL],
        }
        if task.assignee:
            body["assignees"] = [task.assignee]
        created = self.http.call("POST", f"/repos/{self.repository}/issues", body=body).json()
        return self._task(created)

    def find(self, item_id: int) -> Task | None:
        wanted = marker(item_id)
        for page in range(1, MAX_PAGES + 1):
            issues = self.http.call(
                "GET",
                f"/repos/{self.repository}/issues",
                query={"labels": MARKER_LABEL, "state": "all", "per_page": 100, "page": page},
            ).json()
            for data in issues or []:
                if "pull_request" not in data and wanted in str(data.get("body") or ""):
                    return self._task(data)
            if not issues or len(issues) < 100:
                return None
        return None

    def get(self, external_id: str) -> Task | None:
        answer = self.http.call(
            "GET", f"/repos/{self.repository}/issues/{external_id}", allow=(404, 410)
        )
        return None if answer.status in (404, 410) else self._task(answer.json())

    def close(self, external_id: str) -> None:
        self.http.call(
            "PATCH",
            f"/repos/{self.repository}/issues/{external_id}",
            body={"state": "closed", "state_reason": "completed"},
        )

    def assign(self, external_id: str, assignee: str | None) -> None:
        self.http.call(
            "PATCH",
            f"/repos/{self.repository}/issues/{external_id}",
            body={"assignees": [assignee] if assignee else []},
        )

    def parse_reference(self, text: str) -> str | None:
        text = text.strip()
        found = self.url.match(text) or self.short.match(text)
        return found.group(1) if found else None

    def parse_webhook(self, headers: Headers, body: bytes) -> list[Change]:
        if not self.secret:
            raise WebhookRefused(404, "the GitHub webhook is off: set GITHUB_WEBHOOK_SECRET")
        if not signature_matches(self.secret, body, headers.get("X-Hub-Signature-256"), "sha256="):
            raise WebhookRefused(401, "X-Hub-Signature-256 does not match GITHUB_WEBHOOK_SECRET")
        data = json_object(body)
        if headers.get("X-GitHub-Event") != "issues":
            return []  # `ping` when the webhook is set up, and events we did not ask for
        issue = data.get("issue")
        if not isinstance(issue, dict) or not issue.get("number"):
            return []
        number = str(issue["number"])
        if data.get("action") == "closed":
            if issue.get("state_reason") == "not_planned":
                return [Change(number, cancelled=True)]  # not done: the item is cancelled
            return [Change(number, closed=True)]
        if data.get("action") == "reopened":
            return [Change(number, closed=False)]
        return []

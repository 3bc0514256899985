"""Jira: issues in one project. Cloud: REST API v3, Basic auth with the e-mail and API token.
Data Center / Server (JIRA_AUTH=bearer): REST API v2 with a personal access token as Bearer.

In v3 a description is an Atlassian Document Format object, never a string. Status names are
per project, so "done" is read from the status *category* (`done`), and closing takes whichever
transition leads into that category. Each issue carries two labels: `postmortem-bot` (what the
bot filed) and `postmortem-bot-item-<id>` (which item), found again with JQL.
"""

from __future__ import annotations

import base64
import re
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
    item_label,
    json_object,
    parse_date,
    signature_matches,
)
from bot.trackers.http import Client, Response, Transport, seconds

FIELDS = "summary,status,duedate"
KEY = re.compile(r"^([A-Z][A-Z0-9_]+-[0-9]+)$")
URL = re.compile(r"^https?://[^/]+/browse/([A-Z][A-Z0-9_]+-[0-9]+)/?(?:\?.*)?$")


def rate_limit(response: Response) -> timedelta | None:
    """429 (and a 503 that says when) with Retry-After in seconds."""
    if response.status not in (429, 503):
        return None
    wait = seconds(response.headers.get("Retry-After"))
    if response.status == 429:
        return wait or timedelta(minutes=1)
    return wait  # a 503 without Retry-After is an outage: the outbox's own backoff


def error_text(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    messages, fields = body.get("errorMessages"), body.get("errors")
    parts = [str(m) for m in messages] if isinstance(messages, list) else []
    parts += [f"{k}: {v}" for k, v in fields.items()] if isinstance(fields, dict) else []
    return "; ".join(parts) or None


def adf(task: NewTask) -> dict[str, Any]:
    """The description as an Atlassian Document Format document."""

    def paragraph(*content: dict[str, Any]) -> dict[str, Any]:
        return {"type": "paragraph", "content": list(content)}

    def text(value: str, link: str | None = None) -> dict[str, Any]:
        node: dict[str, Any] = {"type": "text", "text": value}
        if link:
            node["marks"] = [{"type": "link", "attrs": {"href": link}}]
        return node

    review = text(task.review_title, task.review_url)
    content = [paragraph(text("Action item from the post-mortem "), review, text("."))]
    content += [paragraph(text(line)) for line in task.details if line]
    content.append(paragraph(text(task.marker)))
    return {"type": "doc", "version": 1, "content": content}


def plain_text(task: NewTask) -> str:
    """The description for Jira Data Center / Server (REST v2 takes text, not ADF)."""
    review = f"{task.review_title} ({task.review_url})" if task.review_url else task.review_title
    lines = [f"Action item from the post-mortem {review}.", *task.details, task.marker]
    return "\n\n".join(line for line in lines if line)


class Jira:
    name = "jira"

    def __init__(
        self, settings: TrackerSettings, timezone: str, transport: Transport | None = None
    ) -> None:
        self.site, self.project = settings.api_url, settings.project_key
        self.issue_type, self.secret = settings.issue_type, settings.webhook_secret
        # Cloud: REST v3, Basic e-mail:token, users by accountId. Data Center / Server: REST v2,
        # a personal access token as Bearer, users by name, descriptions as plain text.
        self.data_center = settings.auth == "bearer"
        self.api = "/rest/api/2" if self.data_center else "/rest/api/3"
        self.user_key = "name" if self.data_center else "accountId"
        basic = base64.b64encode(f"{settings.email}:{settings.token}".encode()).decode()
        auth = f"Bearer {settings.token}" if self.data_center else f"Basic {basic}"
        self.http = Client(
            "Jira",
            settings.api_url,
            {"Authorization": auth},
            secrets=(settings.token, basic),
            rate_limit=rate_limit,
            error_text=error_text,
            transport=transport,
        )

    def _task(self, data: dict[str, Any]) -> Task:
        fields = data.get("fields") or {}
        status = fields.get("status") or {}
        category = (status.get("statusCategory") or {}).get("key")
        key = str(data.get("key") or data["id"])
        return Task(
            external_id=str(data["id"]),
            reference=key,
            url=f"{self.site}/browse/{key}",
            title=str(fields.get("summary") or ""),
            status=str(status.get("name") or ""),
            closed=category == "done",
            due=parse_date(fields.get("duedate")),
        )

    def check(self) -> str:
        me = self.http.call("GET", f"{self.api}/myself").json() or {}
        project = self.http.call("GET", f"{self.api}/project/{self.project}").json() or {}
        return (
            f"Signed in to Jira as {me.get('displayName') or 'the token’s user'}; "
            f"project {project.get('key') or self.project} “{project.get('name') or ''}” found."
        )

    def find_user(self, email: str) -> str | None:
        param = "username" if self.data_center else "query"
        users = self.http.call("GET", f"{self.api}/user/search", query={param: email}).json()
        users = [u for u in users or [] if isinstance(u, dict) and u.get(self.user_key)]
        exact = [u for u in users if str(u.get("emailAddress") or "").lower() == email.lower()]
        chosen = exact or (users if len(users) == 1 else [])
        return str(chosen[0][self.user_key]) if chosen else None

    def create(self, task: NewTask) -> Task:
        fields: dict[str, Any] = {
            "project": {"key": self.project},
            "summary": task.title,
            "issuetype": {"name": self.issue_type},
            "description": plain_text(task) if self.data_center else adf(task),
            "labels": [MARKER_LABEL, item_label(task.item_id)],
        }
        if task.due:
            fields["duedate"] = task.due.isoformat()
        if task.assignee:
            fields["assignee"] = {self.user_key: task.assignee}
        created = self.http.call("POST", f"{self.api}/issue", body={"fields": fields}).json()
        return Task(
            external_id=str(created["id"]),
            reference=str(created["key"]),
            url=f"{self.site}/browse/{created['key']}",
            title=task.title,
            due=task.due,
        )

    def find(self, item_id: int) -> Task | None:
        jql = f'project = "{self.project}" AND labels = "{item_label(item_id)}" ORDER BY created'
        search = f"{self.api}/search" if self.data_center else f"{self.api}/search/jql"
        answer = self.http.call(
            "GET", search, query={"jql": jql, "fields": FIELDS, "maxResults": 5}
        ).json()
        issues = answer.get("issues") or []
        return self._task(issues[0]) if issues else None

    def get(self, external_id: str) -> Task | None:
        answer = self.http.call(
            "GET", f"{self.api}/issue/{external_id}", query={"fields": FIELDS}, allow=(404,)
        )
        return None if answer.status == 404 else self._task(answer.json())

    def close(self, external_id: str) -> None:
        task = self.get(external_id)
        if task is None or task.closed:
            return
        path = f"{self.api}/issue/{external_id}/transitions"
        transitions = self.http.call("GET", path).json().get("transitions") or []
        done = next(
            (
                t
                for t in transitions
                if ((t.get("to") or {}).get("statusCategory") or {}).get("key") == "done"
            ),
            None,
        )
        if done is None:
            raise TrackerRefused(
                f"Jira offers no transition into a Done status from "
                f"“{task.status}” for {task.reference}"
            )
        self.http.call("POST", path, body={"transition": {"id": str(done["id"])}})

    def assign(self, external_id: str, assignee: str | None) -> None:
        self.http.call(
            "PUT", f"{self.api}/issue/{external_id}/assignee", body={self.user_key: assignee}
        )

    def parse_reference(self, text: str) -> str | None:
        text = text.strip()
        found = URL.match(text) or KEY.match(text.upper())
        return found.group(1) if found else None

    def parse_webhook(self, headers: Headers, body: bytes) -> list[Change]:
        if not self.secret:
            raise WebhookRefused(404, "the Jira webhook is off: set JIRA_WEBHOOK_SECRET")
        if not signature_matches(self.secret, body, headers.get("X-Hub-Signature"), "sha256="):
            raise WebhookRefused(401, "X-Hub-Signature does not match JIRA_WEBHOOK_SECRET")
        data = json_object(body)
        issue = data.get("issue")
        if not isinstance(issue, dict) or not issue.get("id"):
            return []
        issue_id = str(issue["id"])
        fields = issue.get("fields") or {}
        category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
        items = [i for i in (data.get("changelog") or {}).get("items") or [] if isinstance(i, dict)]
        changed = {str(i.get("field") or "").lower() for i in items}
        changes = []
        if "status" in changed or (not items and category):
            changes.append(Change(issue_id, closed=category == "done"))
        if "duedate" in changed:
            changes.append(
                Change(issue_id, due_changed=True, due=parse_date(fields.get("duedate")))
            )
        return changes

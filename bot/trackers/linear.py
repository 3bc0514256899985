"""Linear's GraphQL API: issues in one team, the personal API key as it is (no "Bearer").

GraphQL answers errors in the body (HTTP 200 or 400) with `extensions.code`; `RATELIMITED` is
waited out until `X-RateLimit-Requests-Reset` (Unix milliseconds). "Done" is the team's
workflow state of type `completed`. Issues are found again by the marker in their description.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

from bot.config import TrackerSettings
from bot.trackers.base import (
    Change,
    Headers,
    NewTask,
    Task,
    TrackerRefused,
    WebhookRefused,
    json_object,
    marker,
    parse_date,
    signature_matches,
)
from bot.trackers.http import Client, Response, Transport, seconds

ISSUE_FIELDS = "id identifier url title dueDate state { name type }"
IDENTIFIER = re.compile(r"^([A-Za-z][A-Za-z0-9]{0,9}-[0-9]+)$")
URL = re.compile(r"^https?://linear\.app/[^/]+/issue/([A-Za-z][A-Za-z0-9]{0,9}-[0-9]+)(?:/.*)?$")
REPLAY_WINDOW = 60  # seconds: Linear's advice for webhookTimestamp


def _codes(body: Any) -> set[str]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return {
        str((e.get("extensions") or {}).get("code") or "")
        for e in errors or []
        if isinstance(e, dict)
    }


def rate_limit(response: Response) -> timedelta | None:
    """A RATELIMITED error (Linear answers it with 400, some proxies with 429)."""
    if response.status != 429 and "RATELIMITED" not in _codes(response.json()):
        return None
    reset = response.headers.get("X-RateLimit-Requests-Reset")
    if reset.strip().isdigit():
        return timedelta(seconds=max(int(reset) / 1000 - time.time(), 1))
    return seconds(response.headers.get("Retry-After")) or timedelta(minutes=1)


def error_text(body: Any) -> str | None:
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return None
    return "; ".join(str(e.get("message") or e) for e in errors if isinstance(e, dict)) or None


class Linear:
    name = "linear"

    def __init__(
        self, settings: TrackerSettings, timezone: str, transport: Transport | None = None
    ) -> None:
        self.team_id, self.secret = settings.team_id, settings.webhook_secret
        self.http = Client(
            "Linear",
            settings.api_url,
            {"Authorization": settings.token},
            secrets=(settings.token,),
            rate_limit=rate_limit,
            error_text=error_text,
            transport=transport,
        )

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The `data` of an answer without errors; errors raise (not found: see `get`)."""
        body = self.http.call("POST", "", body={"query": query, "variables": variables}).json()
        if not isinstance(body, dict):
            raise TrackerRefused("Linear answered something that is not GraphQL")
        if body.get("errors"):
            raise TrackerRefused(f"Linear refused the request: {error_text(body)}")
        return body.get("data") or {}

    @staticmethod
    def _task(data: dict[str, Any]) -> Task:
        state = data.get("state") or {}
        return Task(
            external_id=str(data["id"]),
            reference=str(data.get("identifier") or ""),
            url=str(data.get("url") or ""),
            title=str(data.get("title") or ""),
            status=str(state.get("name") or ""),
            closed=state.get("type") == "completed",
            due=parse_date(data.get("dueDate")),
        )

    def check(self) -> str:
        data = self.graphql(
            "query($team: String!) { viewer { id name } team(id: $team) { id name } }",
            {"team": self.team_id},
        )
        viewer, team = data.get("viewer") or {}, data.get("team") or {}
        if not team:
            raise TrackerRefused(f"Linear has no team {self.team_id} this key can see")
        who = viewer.get("name") or "the key’s user"
        return f"Signed in to Linear as {who}; team “{team.get('name')}” found."

    def find_user(self, email: str) -> str | None:
        data = self.graphql(
            "query($email: String!) { users(filter: {email: {eq: $email}}) "
            "{ nodes { id email } } }",
            {"email": email},
        )
        nodes = (data.get("users") or {}).get("nodes") or []
        return str(nodes[0]["id"]) if nodes else None

    def create(self, task: NewTask) -> Task:
        review = (
            f"[{task.review_title}]({task.review_url})"
            if task.review_url
            else f"“{task.review_title}”"
        )
        lines = [f"Action item from the post-mortem {review}.", "", *task.details, "", task.marker]
        data: dict[str, Any] = {
            "title": task.title,
            "teamId": self.team_id,
            "description": "\n".join(lines),
        }
        if task.due:
            data["dueDate"] = task.due.isoformat()
        if task.assignee:
            data["assigneeId"] = task.assignee
        answer = self.graphql(
            "mutation($input: IssueCreateInput!) { issueCreate(input: $input) "
            f"{{ success issue {{ {ISSUE_FIELDS} }} }} }}",
            {"input": data},
        )
        created = answer.get("issueCreate") or {}
        if not created.get("success") or not created.get("issue"):
            raise TrackerRefused("Linear did not create the issue")
        return self._task(created["issue"])

    def find(self, item_id: int) -> Task | None:
        data = self.graphql(
            "query($team: ID!, $marker: String!) { issues(filter: {team: {id: {eq: $team}}, "
            f"description: {{contains: $marker}}}}) {{ nodes {{ {ISSUE_FIELDS} }} }} }}",
            {"team": self.team_id, "marker": marker(item_id)},
        )
        nodes = (data.get("issues") or {}).get("nodes") or []
        return self._task(nodes[0]) if nodes else None

    def get(self, external_id: str) -> Task | None:
        body = self.http.call(
            "POST",
            "",
            body={
                "query": f"query($id: String!) {{ issue(id: $id) {{ {ISSUE_FIELDS} }} }}",
                "variables": {"id": external_id},
            },
            allow=(400,),
        ).json()
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            if any("not found" in str(e.get("message", "")).lower() for e in errors):
                return None
            raise TrackerRefused(f"Linear refused the request: {error_text(body)}")
        issue = ((body or {}).get("data") or {}).get("issue")
        return self._task(issue) if issue else None

    def close(self, external_id: str) -> None:
        task = self.get(external_id)
        if task is None or task.closed:
            return
        data = self.graphql(
            "query($team: ID!) { workflowStates(filter: {team: {id: {eq: $team}}, "
            'type: {eq: "completed"}}) { nodes { id name type position } } }',
            {"team": self.team_id},
        )
        states = sorted(
            (data.get("workflowStates") or {}).get("nodes") or [],
            key=lambda s: float(s.get("position") or 0),
        )
        if not states:
            raise TrackerRefused("the Linear team has no completed state")
        answer = self.graphql(
            "mutation($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, "
            "input: $input) { success } }",
            {"id": external_id, "input": {"stateId": states[0]["id"]}},
        )
        if not (answer.get("issueUpdate") or {}).get("success"):
            raise TrackerRefused("Linear did not update the issue")

    def assign(self, external_id: str, assignee: str | None) -> None:
        answer = self.graphql(
            "mutation($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, "
            "input: $input) { success } }",
            {"id": external_id, "input": {"assigneeId": assignee}},
        )
        if not (answer.get("issueUpdate") or {}).get("success"):
            raise TrackerRefused("Linear did not update the issue")

    def parse_reference(self, text: str) -> str | None:
        text = text.strip()
        found = URL.match(text) or IDENTIFIER.match(text)
        return found.group(1).upper() if found else None

    def parse_webhook(self, headers: Headers, body: bytes) -> list[Change]:
        if not self.secret:
            raise WebhookRefused(404, "the Linear webhook is off: set LINEAR_WEBHOOK_SECRET")
        if not signature_matches(self.secret, body, headers.get("Linear-Signature")):
            raise WebhookRefused(401, "Linear-Signature does not match LINEAR_WEBHOOK_SECRET")
        data = json_object(body)
        stamp = data.get("webhookTimestamp")
        if not isinstance(stamp, int | float) or abs(time.time() - stamp / 1000) > REPLAY_WINDOW:
            raise WebhookRefused(401, "webhookTimestamp is missing or over a minute old")
        issue = data.get("data")
        if data.get("type") != "Issue" or not isinstance(issue, dict) or not issue.get("id"):
            return []
        before = data.get("updatedFrom") or {}
        state = issue.get("state") or {}
        changes = []
        if "stateId" in before or (data.get("action") == "update" and not before):
            changes.append(Change(str(issue["id"]), closed=state.get("type") == "completed"))
        if "dueDate" in before:
            changes.append(
                Change(str(issue["id"]), due_changed=True, due=parse_date(issue.get("dueDate")))
            )
        return changes

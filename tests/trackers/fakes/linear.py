"""A fake of Linear's GraphQL API (linear.app/developers), for one team.

It is not a GraphQL server: it recognises the operations the documentation describes by their
root field and reads their variables, and refuses what Linear refuses: a personal API key sent
with "Bearer" (that prefix is for OAuth tokens) or a wrong key, a request that is not
`{query, variables}` JSON, an `issueCreate` without `title` or `teamId`, an unknown team,
assignee or state, a `dueDate` that is not a TimelessDate (YYYY-MM-DD). Errors come in an
`errors` array with `extensions.code`; a rate limit is a 400 with `RATELIMITED` and
`X-RateLimit-Requests-Reset` (Unix milliseconds).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import date
from typing import Any

from trackers.fakes.server import Answer, Call, FakeTracker, Refuse, sign

KEY = "lin_api_FAKELINEARKEY0123456789abcdef"
SECRET = "linear-webhook-secret"
TEAM_ID = "9cfb482a-81e3-4154-b5b9-2c805e70a02d"
TEAM_KEY = "ENG"
USERS = {
    "a1f0c2e4-0000-4000-8000-00000000a11c": "alice@example.com",
    "b0b0c2e4-0000-4000-8000-000000000b0b": "bob@example.com",
}
STATES = [
    {"id": "st-backlog", "name": "Backlog", "type": "backlog", "position": 0},
    {"id": "st-todo", "name": "Todo", "type": "unstarted", "position": 1},
    {"id": "st-done", "name": "Done", "type": "completed", "position": 3},
    {"id": "st-cancel", "name": "Canceled", "type": "canceled", "position": 4},
]


def gql_error(status: int, message: str, code: str) -> Refuse:
    return Refuse(status, {"errors": [{"message": message, "extensions": {"code": code}}]})


class FakeLinear(FakeTracker):
    name = "linear"
    CREATE = {"method": "POST", "contains": "issueCreate"}

    def __init__(self) -> None:
        super().__init__()
        self.issues: dict[str, dict[str, Any]] = {}

    @property
    def url(self) -> str:
        return self.origin + "/graphql"

    def env(self) -> dict[str, str]:
        return {
            "POSTMORTEM_TRACKER": "linear",
            "LINEAR_API_KEY": KEY,
            "LINEAR_TEAM_ID": TEAM_ID,
            "LINEAR_API_URL": self.url,
            "LINEAR_WEBHOOK_SECRET": SECRET,
        }

    def rate_limit(self, times: int = 1, wait: int = 30) -> None:
        reset = str(int((time.time() + wait) * 1000))
        self.fail(
            400,
            times,
            headers={"X-RateLimit-Requests-Reset": reset},
            body={
                "errors": [
                    {"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}
                ]
            },
        )

    def bad_content_type(self) -> tuple[int, Any]:
        return 400, {
            "errors": [
                {
                    "message": "POST body missing, invalid Content-Type, or JSON "
                    "object has no keys.",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ]
        }

    def authorised(self, call: Call) -> None:
        given = call.headers.get("authorization", "")
        if given != KEY:  # "Bearer lin_api_…" included: personal keys go without a prefix
            raise gql_error(
                401, "Authentication required, not authenticated", "AUTHENTICATION_ERROR"
            )

    def route(self, call: Call) -> Answer:
        if call.path.rstrip("/") != "/graphql" or call.method != "POST":
            raise Refuse(404, {"errors": [{"message": "Not found"}]})
        body = call.body if isinstance(call.body, dict) else {}
        query, variables = body.get("query"), body.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            raise gql_error(400, "Must provide query string.", "BAD_REQUEST")
        for name in re.findall(r"\$(\w+)\s*:", query):
            if name not in variables:
                raise gql_error(
                    400,
                    f'Variable "${name}" of required type was not provided.',
                    "GRAPHQL_VALIDATION_FAILED",
                )
        if re.search(r"\bviewer\s*\{", query):
            team = variables.get("team")
            found = {"id": TEAM_ID, "name": "Engineering"} if team == TEAM_ID else None
            answer: dict[str, Any] = {
                "data": {"viewer": {"id": "viewer-1", "name": "Postmortem Bot"}, "team": found}
            }
            if found is None:
                answer["errors"] = [
                    {"message": "Entity not found: Team", "extensions": {"code": "INVALID_INPUT"}}
                ]
            return 200, {}, answer
        if "issueCreate(" in query:
            return 200, {}, {"data": {"issueCreate": self._create(variables.get("input"))}}
        if "issueUpdate(" in query:
            return 200, {}, {"data": {"issueUpdate": self._update(variables)}}
        if re.search(r"\bissues\s*\(", query):
            return 200, {}, {"data": {"issues": {"nodes": self._find(variables)}}}
        if re.search(r"\bissue\s*\(", query):
            issue = self._get(str(variables.get("id") or ""))
            if issue is None:
                return (
                    200,
                    {},
                    {
                        "data": None,
                        "errors": [
                            {
                                "message": "Entity not found: Issue",
                                "extensions": {"code": "INVALID_INPUT"},
                            }
                        ],
                    },
                )
            return 200, {}, {"data": {"issue": issue}}
        if re.search(r"\busers\s*\(", query):
            email = str(variables.get("email") or "").lower()
            return (
                200,
                {},
                {
                    "data": {
                        "users": {
                            "nodes": [
                                {"id": uid, "email": mail}
                                for uid, mail in USERS.items()
                                if mail == email
                            ]
                        }
                    }
                },
            )
        if re.search(r"\bworkflowStates\s*\(", query):
            team = variables.get("team")
            nodes = [
                s
                for s in STATES
                if team == TEAM_ID and ('"completed"' not in query or s["type"] == "completed")
            ]
            return 200, {}, {"data": {"workflowStates": {"nodes": nodes}}}
        raise gql_error(400, "Cannot query this field in the fake", "GRAPHQL_VALIDATION_FAILED")

    def _create(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise gql_error(400, 'Variable "$input" got invalid value', "INVALID_INPUT")
        if not str(data.get("title") or "").strip():
            raise gql_error(
                400, 'Field "title" of required type "String!" was not provided.', "INVALID_INPUT"
            )
        if data.get("teamId") != TEAM_ID:
            raise gql_error(
                400,
                "Argument Validation Error: teamId must be a team you can access",
                "INVALID_INPUT",
            )
        if data.get("assigneeId") is not None and data["assigneeId"] not in USERS:
            raise gql_error(400, "Entity not found: User", "INVALID_INPUT")
        due = data.get("dueDate")
        if due is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(due)):
            raise gql_error(
                400,
                'Variable "$input" got invalid value at "dueDate"; Expected type "TimelessDate".',
                "INVALID_INPUT",
            )
        number = len(self.issues) + 1
        issue_id = str(uuid.uuid4())
        identifier = f"{TEAM_KEY}-{number}"
        issue = {
            "id": issue_id,
            "identifier": identifier,
            "title": data["title"],
            "description": str(data.get("description") or ""),
            "dueDate": due,
            "assigneeId": data.get("assigneeId"),
            "url": f"https://linear.app/acme/issue/{identifier}/task",
            "state": {k: STATES[1][k] for k in ("id", "name", "type")},
        }
        self.issues[issue_id] = issue
        return {"success": True, "issue": issue}

    def _get(self, ref: str) -> dict[str, Any] | None:
        return self.issues.get(ref) or next(
            (i for i in self.issues.values() if i["identifier"] == ref.upper()), None
        )

    def _find(self, variables: dict[str, Any]) -> list[dict[str, Any]]:
        if variables.get("team") != TEAM_ID:
            return []
        marker = str(variables.get("marker") or "")
        return [i for i in self.issues.values() if marker and marker in i["description"]]

    def _update(self, variables: dict[str, Any]) -> dict[str, Any]:
        issue = self._get(str(variables.get("id") or ""))
        if issue is None:
            raise gql_error(400, "Entity not found: Issue", "INVALID_INPUT")
        data = variables.get("input") or {}
        if "stateId" in data:
            state = next((s for s in STATES if s["id"] == data["stateId"]), None)
            if state is None:
                raise gql_error(400, "Entity not found: WorkflowState", "INVALID_INPUT")
            issue["state"] = {k: state[k] for k in ("id", "name", "type")}
        if "dueDate" in data:
            issue["dueDate"] = data["dueDate"]
        if "assigneeId" in data:
            if data["assigneeId"] is not None and data["assigneeId"] not in USERS:
                raise gql_error(400, "Entity not found: User", "INVALID_INPUT")
            issue["assigneeId"] = data["assigneeId"]
        return {"success": True}

    # --- what a person does in Linear, and the webhook Linear then sends ---

    def only_task(self) -> dict[str, Any]:
        with self.lock:
            assert len(self.issues) == 1, self.issues
            return next(iter(self.issues.values()))

    def count(self) -> int:
        with self.lock:
            return len(self.issues)

    @staticmethod
    def external_id(task: dict[str, Any]) -> str:
        return str(task["id"])

    @staticmethod
    def due_of(task: dict[str, Any]) -> date | None:
        return date.fromisoformat(task["dueDate"]) if task["dueDate"] else None

    @staticmethod
    def assignees(task: dict[str, Any]) -> list[str]:
        return [USERS[task["assigneeId"]]] if task["assigneeId"] else []

    @staticmethod
    def is_closed(task: dict[str, Any]) -> bool:
        return task["state"]["type"] == "completed"

    def close_by_hand(self, issue_id: str) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            issue = self.issues[issue_id]
            before = issue["state"]["id"]
            issue["state"] = {k: STATES[2][k] for k in ("id", "name", "type")}
        return self.webhook(
            {
                "action": "update",
                "type": "Issue",
                "data": dict(issue),
                "updatedFrom": {"stateId": before},
            }
        )

    def move_due_by_hand(self, issue_id: str, due: date) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            issue = self.issues[issue_id]
            before, issue["dueDate"] = issue["dueDate"], due.isoformat()
        return self.webhook(
            {
                "action": "update",
                "type": "Issue",
                "data": dict(issue),
                "updatedFrom": {"dueDate": before},
            }
        )

    def webhook(
        self, payload: dict[str, Any], secret: str = SECRET, stamp: float | None = None
    ) -> tuple[bytes, dict[str, str]]:
        when = time.time() if stamp is None else stamp
        body = json.dumps({**payload, "webhookTimestamp": int(when * 1000)}).encode()
        return body, {"Linear-Signature": sign(secret, body), "Content-Type": "application/json"}

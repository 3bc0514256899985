"""A fake of GitHub's REST API (docs.github.com/rest), for one repository's issues.

Checks what GitHub checks: a `User-Agent` (refused with 403 without one), the token (`Bearer`
or `token`; anything else is 401 "Bad credentials"), a supported `X-GitHub-Api-Version`, a
`title` (422 "Validation Failed" naming the field), assignees who can be assigned, a valid
`state_reason`. Rate limits are a 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`,
or a 429 with `retry-after`.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date
from typing import Any

from trackers.fakes.server import Answer, Call, FakeTracker, Refuse, sign

TOKEN = "ghp_FAKEGITHUBTOKEN0123456789abcdefABCD"
SECRET = "github-webhook-secret"
REPO = "acme/support"
LOGINS = {"alice-gh": "alice@example.com", "bob-gh": "bob@example.com"}
VERSIONS = ("2022-11-28",)


def message(status: int, text: str, **extra: Any) -> Refuse:
    return Refuse(
        status, {"message": text, "documentation_url": "https://docs.github.com/rest", **extra}
    )


class FakeGitHub(FakeTracker):
    name = "github"
    CREATE = {"method": "POST", "path": "/issues", "contains": '"title"'}

    def __init__(self) -> None:
        super().__init__()
        self.issues: dict[int, dict[str, Any]] = {}

    @property
    def url(self) -> str:
        return self.origin

    def env(self) -> dict[str, str]:
        return {
            "POSTMORTEM_TRACKER": "github",
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": self.url,
            "GITHUB_WEBHOOK_SECRET": SECRET,
        }

    def rate_limit(self, times: int = 1, wait: int = 30) -> None:
        self.fail(
            403,
            times,
            headers={
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(time.time()) + wait),
            },
            body={"message": "API rate limit exceeded"},
        )

    def bad_content_type(self) -> tuple[int, Any]:
        return 415, {"message": "Unsupported Media Type"}

    def authorised(self, call: Call) -> None:
        if not call.headers.get("user-agent"):
            raise Refuse(
                403,
                {
                    "message": "Request forbidden by administrative rules. Please "
                    "make sure your request has a User-Agent header"
                },
            )
        scheme, _, token = call.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "token") or token != TOKEN:
            raise message(401, "Bad credentials")
        version = call.headers.get("x-github-api-version")
        if version is not None and version not in VERSIONS:
            raise message(400, f"API version '{version}' is not supported.")

    def route(self, call: Call) -> Answer:
        repo = re.fullmatch(r"/repos/([\w.-]+/[\w.-]+)", call.path.rstrip("/"))
        if repo and call.method == "GET":
            if repo.group(1) != REPO:
                raise message(404, "Not Found")
            return 200, {}, {"full_name": REPO, "has_issues": True, "private": True}
        match = re.fullmatch(r"/repos/([\w.-]+/[\w.-]+)/issues(?:/(\d+))?", call.path.rstrip("/"))
        if not match or match.group(1) != REPO:
            raise message(404, "Not Found")
        number = match.group(2)
        if number is None and call.method == "POST":
            return 201, {}, self._create(call.body or {})
        if number is None and call.method == "GET":
            return 200, {}, self._list(call.query)
        issue = self.issues.get(int(number or 0))
        if issue is None:
            raise message(404, "Not Found")
        if call.method == "GET":
            return 200, {}, issue
        if call.method == "PATCH":
            return 200, {}, self._update(issue, call.body or {})
        raise message(404, "Not Found")

    @staticmethod
    def _invalid(field: str, code: str = "invalid") -> Refuse:
        return message(
            422, "Validation Failed", errors=[{"resource": "Issue", "field": field, "code": code}]
        )

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        if not str(body.get("title") or "").strip():
            raise self._invalid("title", "missing_field")
        assignees = body.get("assignees", [])
        if not isinstance(assignees, list) or any(a not in LOGINS for a in assignees):
            raise self._invalid("assignees")
        labels = body.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise self._invalid("labels")
        number = len(self.issues) + 1
        issue = {
            "number": number,
            "title": body["title"],
            "body": body.get("body"),
            "state": "open",
            "state_reason": None,
            "html_url": f"https://github.com/{REPO}/issues/{number}",
            "labels": [{"name": x} for x in labels],
            "assignees": [{"login": a} for a in assignees],
        }
        self.issues[number] = issue
        return issue

    def _list(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        state = (query.get("state") or ["open"])[0]
        labels = set(filter(None, (query.get("labels") or [""])[0].split(",")))
        per_page = min(int((query.get("per_page") or ["30"])[0]), 100)
        page = int((query.get("page") or ["1"])[0])
        found = [
            i
            for i in sorted(self.issues.values(), key=lambda i: -i["number"])
            if (state == "all" or i["state"] == state)
            and labels <= {x["name"] for x in i["labels"]}
        ]
        return found[(page - 1) * per_page : page * per_page]

    def _update(self, issue: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if "assignees" in body:  # replaces the list; [] unassigns
            wanted = body["assignees"]
            if not isinstance(wanted, list) or any(a not in LOGINS for a in wanted):
                raise self._invalid("assignees")
            issue["assignees"] = [{"login": a} for a in wanted]
        if "state" in body and body["state"] not in ("open", "closed"):
            raise self._invalid("state")
        if "state_reason" in body and body["state_reason"] not in (
            "completed",
            "not_planned",
            "reopened",
            None,
        ):
            raise self._invalid("state_reason")
        if "state" in body:
            issue["state"] = body["state"]
            issue["state_reason"] = body.get("state_reason") or (
                "completed" if body["state"] == "closed" else "reopened"
            )
        return issue

    # --- what a person does on GitHub, and the webhook GitHub then sends ---

    def only_task(self) -> dict[str, Any]:
        with self.lock:
            assert len(self.issues) == 1, self.issues
            return next(iter(self.issues.values()))

    def count(self) -> int:
        with self.lock:
            return len(self.issues)

    @staticmethod
    def external_id(task: dict[str, Any]) -> str:
        return str(task["number"])

    @staticmethod
    def due_of(task: dict[str, Any]) -> date | None:
        found = re.search(r"\*\*Due:\*\* (\d{4}-\d{2}-\d{2})", task["body"] or "")
        return date.fromisoformat(found.group(1)) if found else None

    @staticmethod
    def assignees(task: dict[str, Any]) -> list[str]:
        return [LOGINS[a["login"]] for a in task["assignees"]]

    @staticmethod
    def is_closed(task: dict[str, Any]) -> bool:
        return task["state"] == "closed"

    def close_by_hand(self, number: str, reason: str = "completed") -> tuple[bytes, dict[str, str]]:
        with self.lock:
            issue = self.issues[int(number)]
            issue["state"], issue["state_reason"] = "closed", reason
        return self.webhook(
            "issues", {"action": "closed", "issue": dict(issue), "repository": {"full_name": REPO}}
        )

    def webhook(
        self, event: str, payload: dict[str, Any], secret: str = SECRET
    ) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payload).encode()
        return body, {
            "X-GitHub-Event": event,
            "X-Hub-Signature-256": "sha256=" + sign(secret, body),
            "Content-Type": "application/json",
        }

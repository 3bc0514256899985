"""A fake of the Jira Cloud platform REST API v3 (developer.atlassian.com), for one project.

Checks what Jira checks: Basic auth of `email:api_token` (a Bearer token or a wrong pair is a
401), a project key, a summary, a known issue type, a description in Atlassian Document Format
(a string is refused with `errors.description`, as v3 does), `duedate` as YYYY-MM-DD, labels
without spaces, an assignee by accountId. Errors have the `{errorMessages, errors}` shape; the
retired `/rest/api/3/search` answers 410; a rate limit is a 429 with `Retry-After`. Closing goes
through the issue's transitions, whose targets carry a status category.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from datetime import date
from typing import Any

from trackers.fakes.server import Answer, Call, FakeTracker, Refuse, sign

EMAIL = "bot@example.com"
TOKEN = "ATATT3xFfGF0FAKEJIRATOKEN0123456789"
SECRET = "jira-webhook-secret"
PROJECT = "PM"
ISSUE_TYPES = ("Task", "Bug")
USERS = [
    {
        "accountId": "5b10a2844c20165700ede21g",
        "emailAddress": "alice@example.com",
        "displayName": "Alice",
        "accountType": "atlassian",
    },
    {
        "accountId": "5b10ac8d82e05b22cc7d4ef5",
        "emailAddress": "bob@example.com",
        "displayName": "Bob",
        "accountType": "atlassian",
    },
]
PAT = "NjA4OTk0MjQ0NTc2OkZBS0VKSVJBREFUQUNFTlRFUlBBVA"  # a Data Center personal access token
DC_USERS = [
    {
        "name": "alice",
        "key": "JIRAUSER10100",
        "emailAddress": "alice@example.com",
        "displayName": "Alice",
    },
    {
        "name": "bob",
        "key": "JIRAUSER10101",
        "emailAddress": "bob@example.com",
        "displayName": "Bob",
    },
]
STATUS = {
    "To Do": {"name": "To Do", "statusCategory": {"key": "new", "name": "To Do"}},
    "In Progress": {
        "name": "In Progress",
        "statusCategory": {"key": "indeterminate", "name": "In Progress"},
    },
    "Done": {"name": "Done", "statusCategory": {"key": "done", "name": "Done"}},
}
TRANSITIONS = [
    {"id": "11", "name": "Start", "to": STATUS["In Progress"]},
    {"id": "31", "name": "Finish", "to": STATUS["Done"]},
    {"id": "41", "name": "Back to do", "to": STATUS["To Do"]},
]
JQL = re.compile(r'^project = "?(\w+)"? AND labels = "?([\w.-]+)"?(?: ORDER BY \w+)?$')


def errors(status: int, messages: list[str] | None = None, **fields: str) -> Refuse:
    return Refuse(status, {"errorMessages": messages or [], "errors": fields})


def is_adf(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


class FakeJira(FakeTracker):
    name = "jira"
    CREATE = {"method": "POST", "path": "/rest/api/3/issue", "contains": '"fields"'}
    API = "/rest/api/3"
    DATA_CENTER = False
    USER_ID = "accountId"  # how an assignee is named
    users = USERS

    def __init__(self) -> None:
        super().__init__()
        self.issues: dict[str, dict[str, Any]] = {}  # by id
        self._ids = itertools.count(10001)

    @property
    def url(self) -> str:
        return self.origin

    def env(self) -> dict[str, str]:
        return {
            "POSTMORTEM_TRACKER": "jira",
            "JIRA_BASE_URL": self.url,
            "JIRA_EMAIL": EMAIL,
            "JIRA_API_TOKEN": TOKEN,
            "JIRA_PROJECT_KEY": PROJECT,
            "JIRA_WEBHOOK_SECRET": SECRET,
        }

    def rate_limit(self, times: int = 1, wait: int = 30) -> None:
        self.fail(
            429,
            times,
            headers={"Retry-After": str(wait)},
            body={"errorMessages": ["Rate limit exceeded."], "errors": {}},
        )

    def bad_content_type(self) -> tuple[int, Any]:
        return 415, {"errorMessages": ["Unsupported Media Type"], "errors": {}}

    def authorised(self, call: Call) -> None:
        expected = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
        if call.headers.get("authorization") != expected:
            raise errors(401, ["Client must be authenticated to access this resource."])

    def _issue(self, ref: str) -> dict[str, Any]:
        issue = self.issues.get(ref) or next(
            (i for i in self.issues.values() if i["key"] == ref), None
        )
        if issue is None:
            raise errors(404, ["Issue does not exist or you do not have permission to see it."])
        return issue

    def route(self, call: Call) -> Answer:
        path = call.path.rstrip("/")
        if path == f"{self.API}/issue" and call.method == "POST":
            return 201, {}, self._create(call.body or {})
        if path == f"{self.API}/myself" and call.method == "GET":
            return 200, {}, {"accountId": "bot-account", "displayName": "Postmortem Bot"}
        if path.startswith(f"{self.API}/project/") and call.method == "GET":
            key = path.rsplit("/", 1)[1]
            if key != PROJECT:
                raise errors(404, [f"No project could be found with key '{key}'."])
            return 200, {}, {"id": "10000", "key": PROJECT, "name": "Post-mortems"}
        if path == f"{self.API}/user/search" and call.method == "GET":
            # Cloud searches by `query`; Data Center by `username` (which also matches e-mails)
            param = "username" if self.DATA_CENTER else "query"
            query = (call.query.get(param) or [""])[0].lower()
            if not query:
                raise errors(400, [f"The query parameter '{param}' is required."])
            return (
                200,
                {},
                [
                    u
                    for u in self.users
                    if query in u["emailAddress"].lower() or query in u["displayName"].lower()
                ],
            )
        if path == f"{self.API}/search" and self.DATA_CENTER:
            path = f"{self.API}/search/jql"  # Data Center's search is the one Cloud retired
        elif path == f"{self.API}/search/jql" and self.DATA_CENTER:
            raise errors(404, ["Not found"])
        elif path == "/rest/api/3/search":
            raise errors(
                410,
                [
                    "The requested API has been removed. Please migrate to the "
                    "/rest/api/3/search/jql API."
                ],
            )
        if path == f"{self.API}/search/jql" and call.method == "GET":
            jql = (call.query.get("jql") or [""])[0]
            found = JQL.match(jql)
            if not found:
                raise errors(400, [f"Error in the JQL Query: {jql!r}"])
            project, label = found.groups()
            issues = [
                i
                for i in self.issues.values()
                if i["fields"]["project"]["key"] == project and label in i["fields"]["labels"]
            ]
            return 200, {}, {"issues": issues, "isLast": True}
        assign = re.fullmatch(rf"{self.API}/issue/([\w-]+)/assignee", path)
        if assign and call.method == "PUT":
            issue = self._issue(assign.group(1))
            body = call.body if isinstance(call.body, dict) else {}
            if self.USER_ID not in body:
                raise errors(400, [f"{self.USER_ID} is required (null unassigns)"])
            account = body[self.USER_ID]
            if account is not None and account not in {u[self.USER_ID] for u in self.users}:
                raise errors(400, assignee="User cannot be assigned issues.")
            issue["fields"]["assignee"] = {self.USER_ID: account} if account else None
            return 204, {}, None
        match = re.fullmatch(rf"{self.API}/issue/([\w-]+)(/transitions)?", path)
        if match:
            issue = self._issue(match.group(1))
            if not match.group(2) and call.method == "GET":
                return 200, {}, issue
            if match.group(2) and call.method == "GET":
                current = issue["fields"]["status"]["name"]
                return (
                    200,
                    {},
                    {"transitions": [t for t in TRANSITIONS if t["to"]["name"] != current]},
                )
            if match.group(2) and call.method == "POST":
                wanted = str(((call.body or {}).get("transition") or {}).get("id") or "")
                chosen = next((t for t in TRANSITIONS if t["id"] == wanted), None)
                if chosen is None:
                    raise errors(400, ["Transition id is not valid for this issue."])
                issue["fields"]["status"] = dict(chosen["to"])
                return 204, {}, None
        raise errors(404, ["Not found"])

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise errors(400, ["fields is required"])
        problems: dict[str, str] = {}
        if ((fields.get("project") or {}).get("key")) != PROJECT:
            problems["project"] = "valid project is required"
        if not str(fields.get("summary") or "").strip():
            problems["summary"] = "You must specify a summary of the issue."
        if ((fields.get("issuetype") or {}).get("name")) not in ISSUE_TYPES:
            problems["issuetype"] = "valid issue type is required"
        if "description" in fields and self.DATA_CENTER:
            if not isinstance(fields["description"], str):  # API v2: wiki text, never ADF
                problems["description"] = "Operation value must be a string"
        elif "description" in fields and not is_adf(fields["description"]):
            problems["description"] = (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)."
            )
        due = fields.get("duedate")
        if due is not None:
            try:
                date.fromisoformat(str(due))
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(due))
            except (ValueError, AssertionError):
                problems["duedate"] = f"Error parsing date string: {due}"
        labels = fields.get("labels", [])
        if not isinstance(labels, list) or any(not isinstance(x, str) or " " in x for x in labels):
            problems["labels"] = "The label can't contain spaces."
        assignee = fields.get("assignee")
        if assignee is not None and (
            assignee.get(self.USER_ID) not in {u[self.USER_ID] for u in self.users}
        ):
            problems["assignee"] = "The user does not exist or cannot be assigned."
        if problems:
            raise errors(400, **problems)
        issue_id = str(next(self._ids))
        key = f"{PROJECT}-{len(self.issues) + 1}"
        self.issues[issue_id] = {
            "id": issue_id,
            "key": key,
            "self": f"{self.url}{self.API}/issue/{issue_id}",
            "fields": {
                "summary": fields["summary"],
                "project": {"key": PROJECT},
                "issuetype": {"name": fields["issuetype"]["name"]},
                "description": fields.get("description"),
                "duedate": due,
                "labels": labels,
                "assignee": assignee,
                "status": dict(STATUS["To Do"]),
            },
        }
        return {"id": issue_id, "key": key, "self": self.issues[issue_id]["self"]}

    # --- what a person does in Jira, and the webhook Jira then sends ---

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
        due = task["fields"]["duedate"]
        return date.fromisoformat(due) if due else None

    def assignees(self, task: dict[str, Any]) -> list[str]:
        account = (task["fields"]["assignee"] or {}).get(self.USER_ID)
        return [u["emailAddress"] for u in self.users if u[self.USER_ID] == account]

    @staticmethod
    def is_closed(task: dict[str, Any]) -> bool:
        return task["fields"]["status"]["statusCategory"]["key"] == "done"

    def close_by_hand(self, issue_id: str) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            issue = self.issues[issue_id]
            before = issue["fields"]["status"]["name"]
            issue["fields"]["status"] = dict(STATUS["Done"])
        return self._event(issue, [{"field": "status", "fromString": before, "toString": "Done"}])

    def move_due_by_hand(self, issue_id: str, due: date) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            issue = self.issues[issue_id]
            before = issue["fields"]["duedate"]
            issue["fields"]["duedate"] = due.isoformat()
        return self._event(issue, [{"field": "duedate", "from": before, "to": due.isoformat()}])

    def _event(
        self, issue: dict[str, Any], items: list[dict[str, Any]], secret: str = SECRET
    ) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "webhookEvent": "jira:issue_updated",
                "timestamp": 0,
                "issue": issue,
                "changelog": {"items": items},
            }
        ).encode()
        return body, {
            "X-Hub-Signature": "sha256=" + sign(secret, body),
            "Content-Type": "application/json",
        }


class FakeJiraDataCenter(FakeJira):
    """Jira Data Center / Server: REST API v2, a personal access token as `Bearer <PAT>` (Basic
    auth with it is refused), descriptions as plain strings (ADF is refused), users by `name`,
    `/rest/api/2/user/search?username=`, and `/rest/api/2/search` for JQL."""

    CREATE = {"method": "POST", "path": "/rest/api/2/issue", "contains": '"fields"'}
    API = "/rest/api/2"
    DATA_CENTER = True
    USER_ID = "name"
    users = DC_USERS

    def env(self) -> dict[str, str]:
        env = {**super().env(), "JIRA_AUTH": "bearer", "JIRA_API_TOKEN": PAT}
        env.pop("JIRA_EMAIL")
        return env

    def authorised(self, call: Call) -> None:
        if call.headers.get("authorization") != f"Bearer {PAT}":
            raise errors(
                401,
                ["You are not authenticated. Authentication required to perform this operation."],
            )

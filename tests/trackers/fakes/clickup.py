"""A fake of ClickUp API v2 (developer.clickup.com), for one workspace and its lists.

Checks what ClickUp checks: the personal token in `Authorization` as it is (a "Bearer" prefix is
refused, 401 OAUTH_…), a task `name`, `assignees` as integer ids of workspace members, dates as
Unix milliseconds, a status the list has. Errors have ClickUp's `{err, ECODE}` shape; a rate
limit is a 429 with `X-RateLimit-Reset`.
"""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, date, datetime
from typing import Any

from trackers.fakes.server import Answer, Call, FakeTracker, Refuse, sign

TOKEN = "pk_4242_FAKECLICKUPTOKEN0123456789"
SECRET = "clickup-webhook-secret"
LIST_ID = "901234"
TEAM_ID = "9001"
STATUSES = [
    {"status": "to do", "type": "open"},
    {"status": "in progress", "type": "custom"},
    {"status": "complete", "type": "closed"},
]
MEMBERS = {101: "alice@example.com", 102: "bob@example.com"}


def err(status: int, text: str, code: str) -> Refuse:
    return Refuse(status, {"err": text, "ECODE": code})


class FakeClickUp(FakeTracker):
    name = "clickup"
    CREATE = {"method": "POST", "path": "/task", "contains": '"name"'}

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        return self.origin + "/api/v2"

    def env(self) -> dict[str, str]:
        return {
            "POSTMORTEM_TRACKER": "clickup",
            "CLICKUP_API_TOKEN": TOKEN,
            "CLICKUP_LIST_ID": LIST_ID,
            "CLICKUP_API_URL": self.url,
            "CLICKUP_WEBHOOK_SECRET": SECRET,
        }

    def rate_limit(self, times: int = 1, wait: int = 30) -> None:
        self.fail(
            429,
            times,
            headers={"X-RateLimit-Reset": str(int(time.time()) + wait)},
            body={"err": "Rate limit reached", "ECODE": "APP_002"},
        )

    def bad_content_type(self) -> tuple[int, Any]:
        return 400, {"err": "Content-Type must be application/json", "ECODE": "INPUT_001"}

    def authorised(self, call: Call) -> None:
        given = call.headers.get("authorization")
        if not given:
            raise err(401, "Authorization header required", "OAUTH_017")
        if given != TOKEN:
            raise err(401, "Token invalid", "OAUTH_025")  # also "Bearer pk_…"

    def route(self, call: Call) -> Answer:
        parts = call.path.removeprefix("/api/v2").strip("/").split("/")
        if call.method == "GET" and parts == ["team"]:
            return (
                200,
                {},
                {
                    "teams": [
                        {
                            "id": TEAM_ID,
                            "name": "Support",
                            "members": [
                                {
                                    "user": {
                                        "id": uid,
                                        "username": email.split("@")[0],
                                        "email": email,
                                    }
                                }
                                for uid, email in MEMBERS.items()
                            ],
                        }
                    ]
                },
            )
        if len(parts) == 2 and parts[0] == "list":
            self._list(parts[1])
            if call.method == "GET":
                return 200, {}, {"id": parts[1], "name": "Action items", "statuses": STATUSES}
        if len(parts) == 3 and parts[0] == "list" and parts[2] == "task":
            self._list(parts[1])
            if call.method == "POST":
                return 200, {}, self._create(call.body or {})
            if call.method == "GET":
                return 200, {}, self._tasks(call.query)
        if len(parts) == 2 and parts[0] == "task":
            task = self.tasks.get(parts[1])
            if task is None:
                raise err(404, "Task not found", "ITEM_013")
            if call.method == "GET":
                return 200, {}, task
            if call.method == "PUT":
                return 200, {}, self._update(task, call.body or {})
        raise err(404, "Route not found", "APP_001")

    @staticmethod
    def _list(list_id: str) -> None:
        if list_id != LIST_ID:
            raise err(404, "List not found", "ITEM_013")

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise err(400, "Task name invalid", "INPUT_005")
        assignees = body.get("assignees", [])
        if not isinstance(assignees, list) or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in assignees
        ):
            raise err(400, "Assignees must be an array of user ids", "INPUT_003")
        if any(a not in MEMBERS for a in assignees):
            raise err(400, "Assignee not a member of the workspace", "ITEM_060")
        due = self._ms(body, "due_date")
        if "due_date_time" in body and not isinstance(body["due_date_time"], bool):
            raise err(400, "due_date_time must be a boolean", "INPUT_003")
        tags = body.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise err(400, "Tags must be an array of names", "INPUT_003")
        task_id = f"86{next(self._ids):07d}x"
        task = {
            "id": task_id,
            "name": name,
            "description": str(body.get("description") or ""),
            "status": dict(STATUSES[0]),
            "url": f"https://app.clickup.com/t/{task_id}",
            "due_date": str(due) if due is not None else None,
            "assignees": [{"id": a, "email": MEMBERS[a]} for a in assignees],
            "tags": [{"name": t} for t in tags],
            "list": {"id": LIST_ID},
            "date_created": str(int(time.time() * 1000)),
        }
        self.tasks[task_id] = task
        return task

    @staticmethod
    def _ms(body: dict[str, Any], key: str) -> int | None:
        value = body.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise err(400, f"{key} must be a Unix time in milliseconds", "INPUT_003")
        if value < 10**11:  # seconds, not milliseconds: a date in 1970
            raise err(400, f"{key} must be a Unix time in milliseconds", "INPUT_003")
        return value

    def _tasks(self, query: dict[str, list[str]]) -> dict[str, Any]:
        tags = set(query.get("tags[]", []))
        closed = query.get("include_closed", ["false"])[0] == "true"
        page = int(query.get("page", ["0"])[0])
        found = [
            t
            for t in self.tasks.values()
            if (closed or t["status"]["type"] != "closed")
            and (not tags or tags & {g["name"] for g in t["tags"]})
        ]
        chunk = found[page * 100 : (page + 1) * 100]
        return {"tasks": chunk, "last_page": (page + 1) * 100 >= len(found)}

    def _update(self, task: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if "status" in body:
            status = next((s for s in STATUSES if s["status"] == str(body["status"]).lower()), None)
            if status is None:
                raise err(400, "Status does not exist", "CRTSK_001")
            task["status"] = dict(status)
        if "due_date" in body:
            due = self._ms(body, "due_date")
            task["due_date"] = str(due) if due is not None else None
        if "assignees" in body:  # on update: {"add": [ids], "rem": [ids]}, never a plain list
            change = body["assignees"]
            if not isinstance(change, dict) or set(change) - {"add", "rem"}:
                raise err(400, "Assignees must be {add: [], rem: []} on update", "INPUT_003")
            ids = [*change.get("add", []), *change.get("rem", [])]
            if not all(isinstance(a, int) and not isinstance(a, bool) for a in ids):
                raise err(400, "Assignees must be an array of user ids", "INPUT_003")
            if any(a not in MEMBERS for a in change.get("add", [])):
                raise err(400, "Assignee not a member of the workspace", "ITEM_060")
            kept = [a for a in task["assignees"] if a["id"] not in change.get("rem", [])]
            added = [
                {"id": a, "email": MEMBERS[a]}
                for a in change.get("add", [])
                if a not in {k["id"] for k in kept}
            ]
            task["assignees"] = kept + added
        return task

    # --- what a person does in ClickUp, and the webhook ClickUp then sends ---

    def only_task(self) -> dict[str, Any]:
        with self.lock:
            assert len(self.tasks) == 1, self.tasks
            return next(iter(self.tasks.values()))

    def due_of(self, task: dict[str, Any], tz: str = "Australia/Sydney") -> date | None:
        from zoneinfo import ZoneInfo

        raw = task["due_date"]
        return (
            datetime.fromtimestamp(int(raw) / 1000, UTC).astimezone(ZoneInfo(tz)).date()
            if raw
            else None
        )

    def assignees(self, task: dict[str, Any]) -> list[str]:
        return [a["email"] for a in task["assignees"]]

    @staticmethod
    def external_id(task: dict[str, Any]) -> str:
        return str(task["id"])

    def count(self) -> int:
        with self.lock:
            return len(self.tasks)

    def is_closed(self, task: dict[str, Any]) -> bool:
        return task["status"]["type"] == "closed"

    def close_by_hand(self, task_id: str) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            task = self.tasks[task_id]
            before, task["status"] = task["status"], dict(STATUSES[2])
        return self.webhook(
            {
                "event": "taskStatusUpdated",
                "task_id": task_id,
                "webhook_id": "wh-1",
                "history_items": [{"field": "status", "before": before, "after": task["status"]}],
            }
        )

    def move_due_by_hand(
        self, task_id: str, due: date, tz: str = "Australia/Sydney"
    ) -> tuple[bytes, dict[str, str]]:
        from zoneinfo import ZoneInfo

        ms = int(datetime(due.year, due.month, due.day, 16, tzinfo=ZoneInfo(tz)).timestamp() * 1000)
        with self.lock:
            task = self.tasks[task_id]
            before, task["due_date"] = task["due_date"], str(ms)
        return self.webhook(
            {
                "event": "taskDueDateUpdated",
                "task_id": task_id,
                "webhook_id": "wh-1",
                "history_items": [{"field": "due_date", "before": before, "after": str(ms)}],
            }
        )

    def webhook(
        self, payload: dict[str, Any], secret: str = SECRET
    ) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(payload).encode()
        return body, {"X-Signature": sign(secret, body), "Content-Type": "application/json"}

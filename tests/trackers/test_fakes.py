"""The fakes refuse what the real trackers refuse, so a test passing against them means something.

Each row is a request a careless client could send and the documented answer it gets.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from trackers.conftest import FAKES
from trackers.fakes import clickup, github, jira, linear
from trackers.fakes.server import FakeTracker

from bot.trackers.http import USER_AGENT

JSON = {"Content-Type": "application/json"}
JIRA_AUTH = "Basic " + base64.b64encode(f"{jira.EMAIL}:{jira.TOKEN}".encode()).decode()
GH = {
    "Authorization": f"Bearer {github.TOKEN}",
    "User-Agent": USER_AGENT,
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
}
ADF = {"type": "doc", "version": 1, "content": []}
DC = {"Authorization": f"Bearer {jira.PAT}"}
CREATE_LINEAR = (
    "mutation($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id } } }"
)


def send(
    fake: FakeTracker,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - 127.0.0.1
        fake.origin + path,
        data=data,
        headers={**(JSON if data else {}), **(headers or {})},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


CASES = [
    # ClickUp: the token as it is; a Bearer prefix is refused
    (
        "clickup",
        "GET",
        "/api/v2/team",
        None,
        {"Authorization": f"Bearer {clickup.TOKEN}"},
        401,
        "OAUTH_025",
    ),
    ("clickup", "GET", "/api/v2/team", None, {}, 401, "OAUTH_017"),
    (
        "clickup",
        "POST",
        "/api/v2/list/901234/task",
        {"description": "no name"},
        {"Authorization": clickup.TOKEN},
        400,
        "INPUT_005",
    ),
    (
        "clickup",
        "POST",
        "/api/v2/list/901234/task",
        {"name": "x", "assignees": ["102"]},
        {"Authorization": clickup.TOKEN},
        400,
        "INPUT_003",
    ),
    (
        "clickup",
        "POST",
        "/api/v2/list/901234/task",
        {"name": "x", "due_date": 1796346000},
        {"Authorization": clickup.TOKEN},
        400,
        "milliseconds",
    ),  # seconds, not ms
    (
        "clickup",
        "POST",
        "/api/v2/list/999/task",
        {"name": "x"},
        {"Authorization": clickup.TOKEN},
        404,
        "List not found",
    ),
    # Jira: Basic email:token; v3 descriptions are ADF; the old search is gone
    (
        "jira",
        "GET",
        "/rest/api/3/issue/PM-1",
        None,
        {"Authorization": f"Bearer {jira.TOKEN}"},
        401,
        "must be authenticated",
    ),
    (
        "jira",
        "POST",
        "/rest/api/3/issue",
        {
            "fields": {
                "project": {"key": "PM"},
                "summary": "x",
                "issuetype": {"name": "Task"},
                "description": "plain text",
            }
        },
        {"Authorization": JIRA_AUTH},
        400,
        "description",
    ),
    (
        "jira",
        "POST",
        "/rest/api/3/issue",
        {"fields": {"project": {"key": "PM"}, "issuetype": {"name": "Task"}, "description": ADF}},
        {"Authorization": JIRA_AUTH},
        400,
        "summary",
    ),
    (
        "jira",
        "POST",
        "/rest/api/3/issue",
        {
            "fields": {
                "project": {"key": "PM"},
                "summary": "x",
                "issuetype": {"name": "Task"},
                "duedate": "04/12/2026",
            }
        },
        {"Authorization": JIRA_AUTH},
        400,
        "duedate",
    ),
    (
        "jira",
        "POST",
        "/rest/api/3/issue",
        {"fields": {"project": {"key": "PM"}, "summary": "x", "issuetype": {"name": "Epic"}}},
        {"Authorization": JIRA_AUTH},
        400,
        "issuetype",
    ),
    (
        "jira",
        "GET",
        "/rest/api/3/search?jql=project%3DPM",
        None,
        {"Authorization": JIRA_AUTH},
        410,
        "search/jql",
    ),
    # Linear: personal keys go without "Bearer"; required inputs; TimelessDate
    (
        "linear",
        "POST",
        "/graphql",
        {"query": "{ viewer { id } }"},
        {"Authorization": f"Bearer {linear.KEY}"},
        401,
        "AUTHENTICATION_ERROR",
    ),
    (
        "linear",
        "POST",
        "/graphql",
        {"query": CREATE_LINEAR, "variables": {"input": {"title": "x"}}},
        {"Authorization": linear.KEY},
        400,
        "teamId",
    ),
    (
        "linear",
        "POST",
        "/graphql",
        {
            "query": CREATE_LINEAR,
            "variables": {"input": {"title": "x", "teamId": linear.TEAM_ID, "dueDate": "4 Dec"}},
        },
        {"Authorization": linear.KEY},
        400,
        "TimelessDate",
    ),
    (
        "linear",
        "POST",
        "/graphql",
        {"query": CREATE_LINEAR},
        {"Authorization": linear.KEY},
        400,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    # GitHub: a User-Agent, the token, a supported version, a title
    (
        "github",
        "GET",
        "/repos/acme/support/issues/1",
        None,
        {**GH, "User-Agent": ""},
        403,
        "User-Agent",
    ),  # urllib would add its own
    (
        "github",
        "GET",
        "/repos/acme/support/issues/1",
        None,
        {**GH, "Authorization": "Bearer ghp_wrong"},
        401,
        "Bad credentials",
    ),
    (
        "github",
        "GET",
        "/repos/acme/support/issues/1",
        None,
        {**GH, "X-GitHub-Api-Version": "2099-01-01"},
        400,
        "not supported",
    ),
    ("github", "POST", "/repos/acme/support/issues", {"body": "no title"}, GH, 422, "title"),
    # Jira Cloud refuses a Bearer token; Data Center refuses Basic, ADF and Cloud's paths
    (
        "jira",
        "GET",
        "/rest/api/3/myself",
        None,
        {"Authorization": f"Bearer {jira.TOKEN}"},
        401,
        "authenticated",
    ),
    ("jira-dc", "GET", "/rest/api/2/myself", None, {"Authorization": JIRA_AUTH}, 401, "Authen"),
    ("jira-dc", "GET", "/rest/api/2/myself", None, DC, 200, "displayName"),
    ("jira-dc", "GET", "/rest/api/3/myself", None, DC, 404, "Not found"),
    (
        "jira-dc",
        "POST",
        "/rest/api/2/issue",
        {
            "fields": {
                "project": {"key": "PM"},
                "summary": "x",
                "issuetype": {"name": "Task"},
                "description": ADF,
            }
        },
        DC,
        400,
        "must be a string",
    ),
    ("jira-dc", "GET", "/rest/api/2/user/search?query=bob", None, DC, 400, "username"),
    (
        "jira",
        "PUT",
        "/rest/api/3/issue/10001/assignee",
        {},
        {"Authorization": JIRA_AUTH},
        404,
        "does not exist",
    ),
    (
        "github",
        "POST",
        "/repos/acme/support/issues",
        {"title": "x", "assignees": ["mallory"]},
        GH,
        422,
        "assignees",
    ),
]


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, FakeTracker]]:
    running = {name: cls().start() for name, cls in FAKES.items()}
    yield running
    for fake in running.values():
        fake.stop()


@pytest.mark.parametrize(("name", "method", "path", "body", "headers", "status", "says"), CASES)
def test_each_fake_refuses_what_its_tracker_refuses(
    fakes, name, method, path, body, headers, status, says
) -> None:
    got, answer = send(fakes[name], method, path, body, headers)
    assert (got, says in json.dumps(answer)) == (status, True), answer


def test_the_fakes_rate_limit_and_fail_as_told(fake: FakeTracker) -> None:
    fake.rate_limit(times=1, wait=30)  # type: ignore[attr-defined]
    fake.fail(503, times=1)
    first, _ = send(fake, "GET", "/anything")
    second, _ = send(fake, "GET", "/anything")
    assert (first, second) in ((429, 503), (403, 503), (400, 503))
    limited = fake.requests()[0]
    assert limited.status == first


def test_a_dropped_answer_still_does_the_work() -> None:
    fake = clickup.FakeClickUp().start()
    try:
        fake.drop_answer(**fake.CREATE)
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            send(
                fake,
                "POST",
                "/api/v2/list/901234/task",
                {"name": "x"},
                {"Authorization": clickup.TOKEN},
            )
        assert fake.count() == 1
    finally:
        fake.stop()

"""Each adapter's requests, byte for byte where it matters, with no server: a recording transport.

The expected requests follow the trackers' documented examples (paths, auth headers, field
names and formats); the answers fed back are shaped like the documented responses.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from trackers.fakes.server import sign

from bot.config import TrackerSettings
from bot.trackers.base import (
    Headers,
    NewTask,
    TrackerRateLimited,
    TrackerRefused,
    TrackerUnavailable,
    WebhookRefused,
)
from bot.trackers.clickup import ClickUp
from bot.trackers.github import GitHub
from bot.trackers.http import Request, Response
from bot.trackers.jira import Jira
from bot.trackers.linear import Linear

TASK = NewTask(
    item_id=42,
    title="Fix the promo code check",
    review_title="Black Friday email",
    review_url="https://acme.slack.com/archives/C0REVIEWS/p1700000000000100",
    details=("Owner in Slack: Bob",),
    due=date(2026, 12, 4),
    assignee=None,
)
TOKENS = {
    "clickup": "pk_4242_SECRET",
    "jira": "ATATT_SECRET",
    "linear": "lin_api_SECRET",
    "github": "ghp_SECRET",
}


class Recorder:
    """A transport that records each request and answers from a queue."""

    def __init__(self, *answers: Response) -> None:
        self.answers = list(answers)
        self.sent: list[Request] = []

    def __call__(self, request: Request, timeout: float) -> Response:
        self.sent.append(request)
        assert timeout > 0
        return self.answers.pop(0)


def ok(body: Any, status: int = 200, **headers: str) -> Response:
    return Response(
        status, Headers(headers), json.dumps(body).encode() if body is not None else b""
    )


def clickup(*answers: Response, secret: str | None = None) -> tuple[ClickUp, Recorder]:
    recorder = Recorder(*answers)
    settings = TrackerSettings(
        name="clickup",
        api_url="https://api.clickup.com/api/v2",
        token=TOKENS["clickup"],
        list_id="901234",
        webhook_secret=secret,
    )
    return ClickUp(settings, "Australia/Sydney", recorder), recorder


def jira(*answers: Response, secret: str | None = None) -> tuple[Jira, Recorder]:
    recorder = Recorder(*answers)
    settings = TrackerSettings(
        name="jira",
        api_url="https://acme.atlassian.net",
        token=TOKENS["jira"],
        email="bot@acme.com",
        project_key="PM",
        webhook_secret=secret,
    )
    return Jira(settings, "Australia/Sydney", recorder), recorder


def linear(*answers: Response, secret: str | None = None) -> tuple[Linear, Recorder]:
    recorder = Recorder(*answers)
    settings = TrackerSettings(
        name="linear",
        api_url="https://api.linear.app/graphql",
        token=TOKENS["linear"],
        team_id="team-uuid",
        webhook_secret=secret,
    )
    return Linear(settings, "Australia/Sydney", recorder), recorder


def github(*answers: Response, secret: str | None = None) -> tuple[GitHub, Recorder]:
    recorder = Recorder(*answers)
    settings = TrackerSettings(
        name="github",
        api_url="https://api.github.com",
        token=TOKENS["github"],
        repository="acme/support",
        webhook_secret=secret,
    )
    return GitHub(settings, "Australia/Sydney", recorder), recorder


# --- ClickUp -------------------------------------------------------------------------------


def test_clickup_create_sends_the_raw_token_and_milliseconds() -> None:
    adapter, sent = clickup(
        ok(
            {
                "id": "86a1b2c3d",
                "name": TASK.title,
                "status": {"status": "to do", "type": "open"},
                "url": "https://app.clickup.com/t/86a1b2c3d",
                "due_date": "1796349600000",
            }
        )
    )
    task = adapter.create(TASK.__class__(**{**TASK.__dict__, "assignee": "102"}))
    [request] = sent.sent
    assert (request.method, request.url) == (
        "POST",
        "https://api.clickup.com/api/v2/list/901234/task",
    )
    assert request.headers["Authorization"] == "pk_4242_SECRET"  # no "Bearer"
    assert request.headers["Content-Type"] == "application/json"
    body = request.json()
    noon = datetime(2026, 12, 4, 12, tzinfo=ZoneInfo("Australia/Sydney"))
    assert body["due_date"] == int(noon.timestamp() * 1000) == 1796346000000
    assert body["due_date_time"] is False
    assert (body["name"], body["assignees"], body["tags"]) == (
        "Fix the promo code check",
        [102],
        ["postmortem-bot"],
    )
    assert body["description"].splitlines() == [
        "Action item from the post-mortem “Black Friday email”.",
        "Review in Slack: https://acme.slack.com/archives/C0REVIEWS/p1700000000000100",
        "Owner in Slack: Bob",
        "",
        "[postmortem-bot item 42]",
    ]
    assert (task.external_id, task.url, task.closed) == (
        "86a1b2c3d",
        "https://app.clickup.com/t/86a1b2c3d",
        False,
    )


def test_clickup_finds_users_by_email_and_closes_with_the_lists_closed_status() -> None:
    adapter, sent = clickup(
        ok(
            {
                "teams": [
                    {
                        "id": "9001",
                        "members": [
                            {
                                "user": {
                                    "id": 101,
                                    "username": "alice",
                                    "email": "alice@example.com",
                                }
                            },
                            {"user": {"id": 102, "username": "bob", "email": "Bob@Example.com"}},
                        ],
                    }
                ]
            }
        ),
        ok({"id": "86a", "status": {"status": "to do", "type": "open"}, "list": {"id": "77"}}),
        ok(
            {
                "id": "77",
                "statuses": [
                    {"status": "to do", "type": "open"},
                    {"status": "shipped", "type": "closed"},
                ],
            }
        ),
        ok({"id": "86a", "status": {"status": "shipped", "type": "closed"}}),
    )
    assert adapter.find_user("bob@example.com") == "102"
    adapter.close("86a")
    assert [
        (r.method, r.url.removeprefix("https://api.clickup.com/api/v2")) for r in sent.sent
    ] == [("GET", "/team"), ("GET", "/task/86a"), ("GET", "/list/77"), ("PUT", "/task/86a")]
    assert sent.sent[-1].json() == {"status": "shipped"}


def test_clickup_finds_an_earlier_task_by_tag_and_marker() -> None:
    adapter, sent = clickup(
        ok(
            {
                "tasks": [
                    {"id": "1", "description": "[postmortem-bot item 4]"},
                    {
                        "id": "2",
                        "description": "x [postmortem-bot item 42]",
                        "status": {"type": "open"},
                    },
                ],
                "last_page": True,
            }
        )
    )
    assert adapter.find(42).external_id == "2"
    assert sent.sent[0].url == (
        "https://api.clickup.com/api/v2/list/901234/task?"
        "tags%5B%5D=postmortem-bot&include_closed=true&page=0"
    )


# --- Jira ----------------------------------------------------------------------------------


def test_jira_create_uses_basic_auth_and_an_adf_description() -> None:
    adapter, sent = jira(
        ok(
            {
                "id": "10042",
                "key": "PM-7",
                "self": "https://acme.atlassian.net/rest/api/3/issue/10042",
            },
            201,
        )
    )
    task = adapter.create(TASK.__class__(**{**TASK.__dict__, "assignee": "5b10ac8d"}))
    [request] = sent.sent
    assert (request.method, request.url) == ("POST", "https://acme.atlassian.net/rest/api/3/issue")
    expected = base64.b64encode(b"bot@acme.com:ATATT_SECRET").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    fields = request.json()["fields"]
    assert fields["project"] == {"key": "PM"} and fields["issuetype"] == {"name": "Task"}
    assert (fields["summary"], fields["duedate"], fields["assignee"]) == (
        "Fix the promo code check",
        "2026-12-04",
        {"accountId": "5b10ac8d"},
    )
    assert fields["labels"] == ["postmortem-bot", "postmortem-bot-item-42"]
    doc = fields["description"]
    assert (doc["type"], doc["version"]) == ("doc", 1)
    first = doc["content"][0]["content"]
    assert first[1] == {
        "type": "text",
        "text": "Black Friday email",
        "marks": [{"type": "link", "attrs": {"href": TASK.review_url}}],
    }
    assert doc["content"][-1]["content"][0]["text"] == "[postmortem-bot item 42]"
    assert (task.external_id, task.reference, task.url) == (
        "10042",
        "PM-7",
        "https://acme.atlassian.net/browse/PM-7",
    )


def test_jira_closes_through_a_transition_into_the_done_category() -> None:
    done = {"name": "Shipped", "statusCategory": {"key": "done"}}
    adapter, sent = jira(
        ok(
            {
                "id": "10042",
                "key": "PM-7",
                "fields": {
                    "summary": "x",
                    "status": {"name": "In Review", "statusCategory": {"key": "indeterminate"}},
                },
            }
        ),
        ok(
            {
                "transitions": [
                    {
                        "id": "21",
                        "name": "Done?",
                        "to": {"name": "Done?", "statusCategory": {"key": "indeterminate"}},
                    },
                    {"id": "51", "name": "Ship it", "to": done},
                ]
            }
        ),
        ok(None, 204),
    )
    adapter.close("10042")
    assert [
        (r.method, r.url.split("?")[0].removeprefix("https://acme.atlassian.net"))
        for r in sent.sent
    ] == [
        ("GET", "/rest/api/3/issue/10042"),
        ("GET", "/rest/api/3/issue/10042/transitions"),
        ("POST", "/rest/api/3/issue/10042/transitions"),
    ]
    assert sent.sent[-1].json() == {"transition": {"id": "51"}}  # by category, not by name


def test_jira_finds_by_the_item_label_with_the_new_search_endpoint() -> None:
    adapter, sent = jira(ok({"issues": [], "isLast": True}))
    assert adapter.find(42) is None
    assert (
        "/rest/api/3/search/jql?jql=project+%3D+%22PM%22+AND+labels+%3D+"
        "%22postmortem-bot-item-42%22" in sent.sent[0].url
    )


def test_jira_user_search_prefers_the_exact_email() -> None:
    adapter, _ = jira(
        ok(
            [
                {"accountId": "a1", "emailAddress": "bobby@example.com"},
                {"accountId": "a2", "emailAddress": "bob@example.com"},
            ]
        )
    )
    assert adapter.find_user("bob@example.com") == "a2"
    hidden, _ = jira(ok([{"accountId": "a3"}, {"accountId": "a4"}]))  # e-mails hidden
    assert hidden.find_user("bob@example.com") is None  # ambiguous: unassigned, never a guess


# --- Linear --------------------------------------------------------------------------------


def test_linear_create_sends_the_key_without_bearer_and_an_issue_create_mutation() -> None:
    adapter, sent = linear(
        ok(
            {
                "data": {
                    "issueCreate": {
                        "success": True,
                        "issue": {
                            "id": "uuid-1",
                            "identifier": "ENG-7",
                            "url": "https://linear.app/acme/issue/ENG-7/x",
                            "title": TASK.title,
                            "dueDate": "2026-12-04",
                            "state": {"name": "Todo", "type": "unstarted"},
                        },
                    }
                }
            }
        )
    )
    task = adapter.create(TASK.__class__(**{**TASK.__dict__, "assignee": "user-uuid"}))
    [request] = sent.sent
    assert (request.method, request.url) == ("POST", "https://api.linear.app/graphql")
    assert request.headers["Authorization"] == "lin_api_SECRET"
    body = request.json()
    assert "mutation($input: IssueCreateInput!)" in body["query"]
    assert "issueCreate(input: $input)" in body["query"]
    data = body["variables"]["input"]
    assert (data["title"], data["teamId"], data["dueDate"], data["assigneeId"]) == (
        "Fix the promo code check",
        "team-uuid",
        "2026-12-04",
        "user-uuid",
    )
    assert data["description"].startswith(
        f"Action item from the post-mortem [Black Friday email]({TASK.review_url})."
    )
    assert data["description"].endswith("[postmortem-bot item 42]")
    assert (task.external_id, task.reference, task.due) == ("uuid-1", "ENG-7", date(2026, 12, 4))


def test_linear_closes_into_the_teams_completed_state() -> None:
    adapter, sent = linear(
        ok({"data": {"issue": {"id": "uuid-1", "state": {"name": "Todo", "type": "unstarted"}}}}),
        ok(
            {
                "data": {
                    "workflowStates": {
                        "nodes": [
                            {
                                "id": "s-late",
                                "name": "Released",
                                "type": "completed",
                                "position": 5,
                            },
                            {"id": "s-done", "name": "Done", "type": "completed", "position": 3},
                        ]
                    }
                }
            }
        ),
        ok({"data": {"issueUpdate": {"success": True}}}),
    )
    adapter.close("uuid-1")
    states = sent.sent[1].json()
    assert 'type: {eq: "completed"}' in states["query"]
    assert states["variables"] == {"team": "team-uuid"}
    assert sent.sent[2].json()["variables"] == {"id": "uuid-1", "input": {"stateId": "s-done"}}


def test_linear_errors_in_a_200_answer_are_refusals_and_not_found_is_none() -> None:
    adapter, _ = linear(
        ok(
            {
                "errors": [
                    {"message": "Entity not found: Issue", "extensions": {"code": "INVALID_INPUT"}}
                ]
            }
        )
    )
    assert adapter.get("uuid-404") is None
    adapter, _ = linear(
        ok({"errors": [{"message": "teamId invalid", "extensions": {"code": "INVALID_INPUT"}}]})
    )
    with pytest.raises(TrackerRefused, match="teamId invalid"):
        adapter.create(TASK)


# --- GitHub --------------------------------------------------------------------------------


def test_github_create_sends_the_documented_headers() -> None:
    adapter, sent = github(
        ok(
            {
                "number": 12,
                "html_url": "https://github.com/acme/support/issues/12",
                "state": "open",
                "title": TASK.title,
            },
            201,
        )
    )
    task = adapter.create(TASK.__class__(**{**TASK.__dict__, "assignee": "bob-gh"}))
    [request] = sent.sent
    assert (request.method, request.url) == (
        "POST",
        "https://api.github.com/repos/acme/support/issues",
    )
    assert request.headers["Authorization"] == "Bearer ghp_SECRET"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert request.headers["User-Agent"].startswith("postmortem-bot")
    body = request.json()
    assert (body["title"], body["assignees"], body["labels"]) == (
        "Fix the promo code check",
        ["bob-gh"],
        ["postmortem-bot"],
    )
    assert "**Due:** 2026-12-04" in body["body"] and "[postmortem-bot item 42]" in body["body"]
    assert (task.external_id, task.reference) == ("12", "#12")


def test_github_closes_as_completed() -> None:
    adapter, sent = github(ok({"number": 12, "state": "closed", "state_reason": "completed"}))
    adapter.close("12")
    assert (sent.sent[0].method, sent.sent[0].json()) == (
        "PATCH",
        {"state": "closed", "state_reason": "completed"},
    )


# --- rate limits, outages, and the token kept out of messages -------------------------------


@pytest.mark.parametrize(
    ("make", "answer", "low", "high"),
    [
        (
            clickup,
            lambda now: Response(429, Headers({"X-RateLimit-Reset": str(int(now) + 40)})),
            30,
            41,
        ),
        (jira, lambda now: Response(429, Headers({"Retry-After": "17"})), 17, 17),
        (jira, lambda now: Response(503, Headers({"Retry-After": "120"})), 120, 120),
        (
            linear,
            lambda now: ok(
                {
                    "errors": [
                        {"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}
                    ]
                },
                400,
                **{"X-RateLimit-Requests-Reset": str(int((now + 90) * 1000))},
            ),
            80,
            91,
        ),
        (
            github,
            lambda now: Response(
                403,
                Headers({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 300)}),
            ),
            290,
            301,
        ),
        (github, lambda now: Response(429, Headers({"retry-after": "60"})), 60, 60),
    ],
)
def test_rate_limits_become_a_wait_of_the_trackers_choosing(make, answer, low, high) -> None:
    adapter, _ = make(answer(time.time()))  # reset times are absolute: made when the test runs
    with pytest.raises(TrackerRateLimited) as caught:
        adapter.get("1")
    assert low <= caught.value.wait.total_seconds() <= high


def test_a_github_403_without_rate_limit_headers_is_a_refusal() -> None:
    adapter, _ = github(ok({"message": "Resource not accessible by personal access token"}, 403))
    with pytest.raises(TrackerRefused, match="not accessible"):
        adapter.close("12")


@pytest.mark.parametrize("make", [clickup, jira, linear, github])
def test_the_token_never_appears_in_an_error(make) -> None:
    token = TOKENS[make.__name__]
    basic = base64.b64encode(f"bot@acme.com:{token}".encode()).decode()
    echo = {
        "message": f"bad token {token} / Basic {basic}",
        "err": f"bad {token}",
        "errorMessages": [f"no {token} {basic}"],
        "errors": [{"message": f"no {token}"}],
    }
    adapter, _ = make(ok(echo, 401))
    with pytest.raises(TrackerRefused) as caught:
        adapter.create(TASK)
    assert token not in str(caught.value)
    assert make is not jira or basic not in str(caught.value)  # Jira's own credential
    assert "[token]" in str(caught.value)


def test_a_timeout_or_a_5xx_is_worth_retrying() -> None:
    def slow(request: Request, timeout: float) -> Response:
        raise TimeoutError("timed out")

    adapter = ClickUp(
        TrackerSettings(
            name="clickup", api_url="https://api.clickup.com/api/v2", token="pk_1", list_id="1"
        ),
        "UTC",
        slow,
    )
    with pytest.raises(TrackerUnavailable, match="did not answer"):
        adapter.get("x")
    adapter, _ = clickup(ok({"err": "Internal", "ECODE": "X"}, 502))
    with pytest.raises(TrackerUnavailable, match="502"):
        adapter.get("x")


# --- webhooks: each tracker's own signature ------------------------------------------------


def test_clickup_webhook_reads_status_and_due_changes() -> None:
    adapter, _ = clickup(secret="s3")
    body = json.dumps(
        {
            "event": "taskDueDateUpdated",
            "task_id": "86a",
            "history_items": [
                {
                    "field": "due_date",
                    "before": None,
                    "after": str(int(datetime(2026, 12, 18, 5, tzinfo=UTC).timestamp() * 1000)),
                }
            ],
        }
    ).encode()
    [change] = adapter.parse_webhook(Headers({"X-Signature": sign("s3", body)}), body)
    assert (change.external_id, change.due_changed, change.due) == ("86a", True, date(2026, 12, 18))
    with pytest.raises(WebhookRefused) as refused:
        adapter.parse_webhook(Headers({"X-Signature": sign("other", body)}), body)
    assert refused.value.status == 401


def test_jira_webhook_needs_sha256_prefixed_signature() -> None:
    adapter, _ = jira(secret="s3")
    body = json.dumps(
        {
            "webhookEvent": "jira:issue_updated",
            "issue": {
                "id": "10042",
                "key": "PM-7",
                "fields": {"status": {"statusCategory": {"key": "done"}}},
            },
            "changelog": {"items": [{"field": "status"}]},
        }
    ).encode()
    bare = sign("s3", body)
    with pytest.raises(WebhookRefused):
        adapter.parse_webhook(Headers({"X-Hub-Signature": bare}), body)
    [change] = adapter.parse_webhook(Headers({"X-Hub-Signature": f"sha256={bare}"}), body)
    assert (change.external_id, change.closed) == ("10042", True)


def test_linear_webhook_refuses_an_old_timestamp() -> None:
    adapter, _ = linear(secret="s3")
    for age, ok_ in ((5, True), (3600, False)):
        body = json.dumps(
            {
                "action": "update",
                "type": "Issue",
                "data": {"id": "uuid-1", "state": {"type": "completed"}},
                "updatedFrom": {"stateId": "s1"},
                "webhookTimestamp": int((time.time() - age) * 1000),
            }
        ).encode()
        headers = Headers({"Linear-Signature": sign("s3", body)})
        if ok_:
            assert adapter.parse_webhook(headers, body)[0].closed is True
        else:
            with pytest.raises(WebhookRefused, match="webhookTimestamp"):
                adapter.parse_webhook(headers, body)


def test_github_webhook_closed_as_not_planned_is_cancelled_not_done() -> None:
    adapter, _ = github(secret="s3")

    def deliver(action: str, reason: str | None) -> list:
        body = json.dumps(
            {"action": action, "issue": {"number": 12, "state_reason": reason}}
        ).encode()
        return adapter.parse_webhook(
            Headers(
                {"X-GitHub-Event": "issues", "X-Hub-Signature-256": "sha256=" + sign("s3", body)}
            ),
            body,
        )

    assert [c.closed for c in deliver("closed", "completed")] == [True]
    [not_planned] = deliver("closed", "not_planned")
    assert (not_planned.closed, not_planned.cancelled) == (None, True)
    assert [c.closed for c in deliver("reopened", None)] == [False]


@pytest.mark.parametrize("make", [clickup, jira, linear, github])
def test_a_webhook_without_a_secret_configured_is_off(make) -> None:
    adapter, _ = make()
    with pytest.raises(WebhookRefused) as refused:
        adapter.parse_webhook(Headers({}), b"{}")
    assert refused.value.status == 404


@pytest.mark.parametrize(
    ("make", "text", "expected"),
    [
        (clickup, "https://app.clickup.com/t/86a1b2c3d", "86a1b2c3d"),
        (clickup, "https://app.clickup.com/t/9001/PROJ-12", "PROJ-12"),
        (clickup, "#86a1b2c3d", "86a1b2c3d"),
        (jira, "https://acme.atlassian.net/browse/PM-7", "PM-7"),
        (jira, "pm-7", "PM-7"),
        (linear, "https://linear.app/acme/issue/ENG-7/fix-the-check", "ENG-7"),
        (github, "https://github.com/acme/support/issues/12", "12"),
        (github, "acme/support#12", "12"),
        (github, "#12", "12"),
        (github, "https://github.com/other/repo/issues/12", None),
        (jira, "see the ticket", None),
    ],
)
def test_pasted_references_resolve_to_ids(make, text: str, expected: str | None) -> None:
    adapter, _ = make()
    assert adapter.parse_reference(text) == expected


def test_clickup_dates_read_back_as_the_same_day_in_any_nearby_timezone() -> None:
    sydney, _ = clickup()
    perth = ClickUp(
        TrackerSettings(name="clickup", api_url="https://x", token="pk", list_id="1"),
        "Australia/Perth",
    )
    ms = sydney.to_ms(date(2026, 12, 4))
    assert sydney.from_ms(str(ms)) == perth.from_ms(ms) == date(2026, 12, 4)
    assert sydney.from_ms(None) is None and sydney.from_ms("soon") is None

"""views.* (triggers, stacks, hashes) and failure injection."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from sandbox.fake_slack import FakeSlack


def modal(
    title: str = "Post-mortem", *, with_input: bool = True, submit: bool = True, **extra: object
) -> dict:
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": "Tell us"}}]
    if with_input:
        blocks.append(
            {
                "type": "input",
                "block_id": "summary",
                "label": {"type": "plain_text", "text": "Summary"},
                "element": {"type": "plain_text_input", "action_id": "summary_input"},
            }
        )
    view = {
        "type": "modal",
        "callback_id": "pm_form",
        "title": {"type": "plain_text", "text": title},
        "blocks": blocks,
        **extra,
    }
    if submit:
        view["submit"] = {"type": "plain_text", "text": "Save"}
    return view


def test_views_open_with_fresh_trigger(slack: FakeSlack, client: WebClient) -> None:
    trigger = slack.issue_trigger("U0ALICE")
    resp = client.views_open(trigger_id=trigger, view=modal(private_metadata="rev-1"))
    view = resp["view"]
    assert view["id"].startswith("V")
    assert view["team_id"] == "T0TEST"
    assert view["type"] == "modal"
    assert view["callback_id"] == "pm_form"
    assert view["private_metadata"] == "rev-1"
    assert view["state"] == {"values": {}}
    assert view["root_view_id"] == view["id"]
    assert view["previous_view_id"] is None
    assert view["hash"] and view["app_id"] and view["bot_id"]
    for key in ("clear_on_close", "notify_on_close", "external_id", "submit", "close", "title"):
        assert key in view
    assert [v["id"] for v in slack.open_views("U0ALICE")] == [view["id"]]


def test_views_open_with_expired_trigger(slack: FakeSlack, client: WebClient, clock) -> None:
    trigger = slack.issue_trigger("U0ALICE")
    clock.advance(3.01)
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=trigger, view=modal())
    assert err.value.response["error"] == "expired_trigger_id"
    assert slack.open_views("U0ALICE") == []


def test_trigger_just_inside_three_seconds_still_works(
    slack: FakeSlack, client: WebClient, clock
) -> None:
    trigger = slack.issue_trigger("U0ALICE")
    clock.advance(2.9)
    assert client.views_open(trigger_id=trigger, view=modal())["ok"]


def test_unknown_and_reused_triggers(slack: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id="123.456.abc", view=modal())
    assert err.value.response["error"] == "invalid_trigger_id"
    trigger = slack.issue_trigger("U0ALICE")
    client.views_open(trigger_id=trigger, view=modal())
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=trigger, view=modal())
    assert err.value.response["error"] == "trigger_exchanged"


def test_invalid_view_does_not_spend_the_trigger(slack: FakeSlack, client: WebClient) -> None:
    trigger = slack.issue_trigger("U0ALICE")
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=trigger, view=modal(submit=False))
    assert err.value.response["error"] == "invalid_arguments"
    assert err.value.response["response_metadata"]["messages"] == [
        "[ERROR] must define `submit` to use an `input` block in modals "
        "[json-pointer:/view/blocks/1/input]"
    ]
    assert client.views_open(trigger_id=trigger, view=modal())["ok"]


def test_modal_title_limit(slack: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=slack.issue_trigger("U0BOB"), view=modal("x" * 25))
    assert err.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]


def test_push_stack_limit(slack: FakeSlack, client: WebClient) -> None:
    root = client.views_open(trigger_id=slack.issue_trigger("U0BOB"), view=modal("Root"))
    second = client.views_push(trigger_id=slack.issue_trigger("U0BOB"), view=modal("Two"))
    third = client.views_push(trigger_id=slack.issue_trigger("U0BOB"), view=modal("Three"))
    assert second["view"]["previous_view_id"] == root["view"]["id"]
    assert third["view"]["root_view_id"] == root["view"]["id"]
    with pytest.raises(SlackApiError) as err:
        client.views_push(trigger_id=slack.issue_trigger("U0BOB"), view=modal("Four"))
    assert err.value.response["error"] == "push_limit_reached"
    assert [v["title"]["text"] for v in slack.open_views("U0BOB")] == ["Root", "Two", "Three"]
    assert slack.top_view("U0BOB")["title"]["text"] == "Three"


def test_update_by_id_external_id_and_hash(slack: FakeSlack, client: WebClient) -> None:
    opened = client.views_open(
        trigger_id=slack.issue_trigger("U0ALICE"), view=modal(external_id="pm-42")
    )["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 2"))[
        "view"
    ]
    assert updated["id"] == opened["id"]
    assert updated["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as err:  # stale hash
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Step 3"))
    assert err.value.response["error"] == "hash_conflict"
    assert slack.top_view("U0ALICE")["title"]["text"] == "Step 2"
    by_external = client.views_update(
        external_id="pm-42", view=modal("Step 3", external_id="pm-42")
    )
    assert by_external["view"]["id"] == opened["id"]
    with pytest.raises(SlackApiError) as err:
        client.views_update(view_id="VNOPE", view=modal())
    assert err.value.response["error"] == "not_found"


def test_publish_home(slack: FakeSlack, client: WebClient) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "My reviews"}}],
    }
    first = client.views_publish(user_id="U0ALICE", view=home)["view"]
    assert first["type"] == "home"
    again = client.views_publish(user_id="U0ALICE", view=home, hash=first["hash"])["view"]
    assert again["id"] == first["id"]
    with pytest.raises(SlackApiError) as err:
        client.views_publish(user_id="U0ALICE", view=home, hash=first["hash"])
    assert err.value.response["error"] == "hash_conflict"
    assert slack.home("U0ALICE")["blocks"][0]["text"]["text"] == "My reviews"
    assert slack.home("U0BOB") is None
    with pytest.raises(SlackApiError) as err:
        client.views_publish(
            user_id="U0ALICE",
            view={
                "type": "home",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 101,
            },
        )
    assert err.value.response["error"] == "invalid_arguments"


def test_rate_limit_then_retry_handler_survives(slack: FakeSlack) -> None:
    slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    plain = WebClient(token="xoxb-test", base_url=slack.api_url)
    with pytest.raises(SlackApiError) as err:
        plain.chat_postMessage(channel="C0REVIEWS", text="first try")
    assert err.value.response.status_code == 429
    assert (
        err.value.response.headers["Retry-After"] == ["0"]
        or err.value.response.headers["Retry-After"] == "0"
    )
    assert err.value.response["error"] == "ratelimited"

    slack.rate_limit("chat.postMessage", times=1, retry_after=0)
    retrying = WebClient(
        token="xoxb-test",
        base_url=slack.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    resp = retrying.chat_postMessage(channel="C0REVIEWS", text="eventually")
    assert resp["ok"]
    statuses = [c.status for c in slack.calls_to("chat.postMessage")]
    assert statuses == [429, 429, 200]
    assert [m["text"] for m in slack.messages("C0REVIEWS")] == ["eventually"]


def test_fail_injection_and_server_errors(slack: FakeSlack, client: WebClient) -> None:
    slack.fail("users.info", error="user_not_found", times=1)
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U0BOB")
    assert err.value.response["error"] == "user_not_found"
    assert client.users_info(user="U0BOB")["ok"]  # only once

    slack.fail("chat.postMessage", error="internal_error", status=503, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="C0REVIEWS", text="x")
        assert err.value.response.status_code == 503
    assert client.chat_postMessage(channel="C0REVIEWS", text="x")["ok"]


def test_delay_global_and_per_method(slack: FakeSlack, client: WebClient) -> None:
    slack.set_delay("users.info", 0.3)
    started = time.perf_counter()
    client.users_info(user="U0BOB")
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    client.auth_test()
    assert time.perf_counter() - started < 0.3
    slack.delay = 0.2
    started = time.perf_counter()
    client.auth_test()
    assert time.perf_counter() - started >= 0.2


def test_a_burst_fails_or_slows_matching_calls_until_it_ends(
    slack: FakeSlack, client: WebClient
) -> None:
    slack.burst(0.4, methods="chat.postMessage", error="internal_error", status=500)
    slack.burst(0.4, methods=["users.info"], error="ratelimited", status=429, retry_after=2)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C0REVIEWS", text="during")
    assert (err.value.response.status_code, err.value.response["error"]) == (500, "internal_error")
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U0BOB")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] in ("2", ["2"])
    assert client.auth_test()["ok"]  # other methods are untouched
    time.sleep(0.45)
    assert client.chat_postMessage(channel="C0REVIEWS", text="after")["ok"]  # it ended
    assert [m["text"] for m in slack.messages("C0REVIEWS")] == ["after"]

    slack.burst(5, delay=0.3)
    started = time.perf_counter()
    client.auth_test()
    assert time.perf_counter() - started >= 0.3
    slack.clear_faults()  # ends bursts early too
    started = time.perf_counter()
    client.auth_test()
    assert time.perf_counter() - started < 0.3


def test_open_modal_puts_a_form_on_screen_without_views_open(slack: FakeSlack) -> None:
    spec = {
        "type": "modal",
        "callback_id": "form",
        "title": {"type": "plain_text", "text": "T"},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [
            {
                "type": "input",
                "block_id": "b",
                "label": {"type": "plain_text", "text": "L"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            }
        ],
    }
    view = slack.open_modal("U0ALICE", spec)
    assert slack.top_view("U0ALICE")["id"] == view["id"]
    assert slack.calls == []
    with pytest.raises(ValueError, match="title"):
        slack.open_modal("U0ALICE", {**spec, "title": {"type": "plain_text", "text": "x" * 30}})


def test_a_user_id_is_a_dm_for_posting_but_not_a_conversation_id(
    slack: FakeSlack, client: WebClient
) -> None:
    posted = client.chat_postMessage(channel="U0BOB", text="hi")  # Slack opens the DM
    dm = posted["channel"]
    assert dm != "U0BOB"
    for call in (
        lambda c: client.conversations_history(channel=c),
        lambda c: client.conversations_replies(channel=c, ts=posted["ts"]),
        lambda c: client.chat_update(channel=c, ts=posted["ts"], text="edited"),
    ):
        with pytest.raises(SlackApiError) as err:
            call("U0BOB")
        assert err.value.response["error"] == "channel_not_found"
        assert call(dm)["ok"]

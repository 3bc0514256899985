"""The user side: signed requests into a real Bolt app, and Slack applying the answers."""

from __future__ import annotations

import json
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from sandbox.fake_slack import FakeSlack, StateError, sign

SEV_OPTIONS = [
    {"text": {"type": "plain_text", "text": "SEV1"}, "value": "sev1"},
    {"text": {"type": "plain_text", "text": "SEV2"}, "value": "sev2"},
]


def form_view(**extra: object) -> dict:
    return {
        "type": "modal",
        "callback_id": "pm_form",
        "title": {"type": "plain_text", "text": "Post-mortem"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": "review-7",
        "blocks": [
            {
                "type": "section",
                "block_id": "intro",
                "text": {"type": "mrkdwn", "text": "What happened?"},
                "accessory": {
                    "type": "button",
                    "action_id": "help",
                    "text": {"type": "plain_text", "text": "Help"},
                    "value": "h",
                },
            },
            {
                "type": "input",
                "block_id": "summary",
                "label": {"type": "plain_text", "text": "Summary"},
                "element": {"type": "plain_text_input", "action_id": "summary_input"},
            },
            {
                "type": "input",
                "block_id": "severity",
                "label": {"type": "plain_text", "text": "Severity"},
                "element": {"type": "static_select", "action_id": "sev", "options": SEV_OPTIONS},
            },
            {
                "type": "input",
                "block_id": "owner",
                "label": {"type": "plain_text", "text": "Owner"},
                "element": {"type": "users_select", "action_id": "owner_pick"},
            },
            {
                "type": "input",
                "block_id": "due",
                "optional": True,
                "label": {"type": "plain_text", "text": "Due"},
                "element": {"type": "datepicker", "action_id": "due_date"},
            },
        ],
        **extra,
    }


def test_signature_matches_slack_sdk_verifier() -> None:
    body = "token=x&team_id=T0TEST&text=hello+world"
    ts = str(int(time.time()))
    signature = sign("test-secret", ts, body)
    verifier = SignatureVerifier("test-secret")
    assert verifier.is_valid(body=body, timestamp=ts, signature=signature)
    assert not SignatureVerifier("other-secret").is_valid(
        body=body, timestamp=ts, signature=signature
    )


def test_bolt_accepts_real_and_rejects_forged_or_stale(slack: FakeSlack, bolt_app) -> None:
    app = bolt_app()
    seen: list[dict] = []

    @app.command("/postmortem")
    def handle(ack, command):
        seen.append(command)
        ack()

    ok = slack.slash_command("U0ALICE", "C0REVIEWS", text="new DB outage")
    assert ok.status == 200 and ok.ok
    assert ok.elapsed > 0
    forged = slack.slash_command("U0ALICE", "C0REVIEWS", forged=True)
    assert forged.status == 401
    stale = slack.slash_command("U0ALICE", "C0REVIEWS", timestamp=time.time() - 6 * 60)
    assert stale.status == 401
    assert len(seen) == 1


def test_slash_command_fields_exactly_like_slack(slack: FakeSlack, bolt_app) -> None:
    app = bolt_app()
    captured: list[dict] = []

    @app.command("/postmortem")
    def handle(ack, body):
        captured.append(body)
        ack()

    reply = slack.slash_command("U0BOB", "C0REVIEWS", "/postmortem", "list")
    body = captured[0]
    assert list(body) == [
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    ]
    assert body["user_id"] == "U0BOB" and body["user_name"] == "bob"
    assert body["channel_name"] == "reviews"
    assert body["text"] == "list"
    assert body["is_enterprise_install"] == "false"
    assert body["trigger_id"] == reply.trigger_id
    assert body["response_url"].startswith(slack.base_url + "/response/")


def test_slash_opens_modal_and_submit_closes_it(slack: FakeSlack, bolt_app) -> None:
    app = bolt_app()
    submissions: list[dict] = []

    @app.command("/postmortem")
    def open_form(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=form_view())

    @app.view("pm_form")
    def save(ack, body, view):
        submissions.append(body)
        ack()

    slack.slash_command("U0ALICE", "C0REVIEWS")
    view = slack.top_view("U0ALICE")
    assert view["callback_id"] == "pm_form"

    reply = slack.submit(
        "U0ALICE",
        view["id"],
        {
            "summary": {"summary_input": "Primary DB ran out of disk"},
            "severity": {"sev": "sev2"},
            "owner": {"owner_pick": "U0BOB"},
        },
    )
    assert reply.ok and reply.status == 200
    assert slack.open_views("U0ALICE") == []  # empty ack closes the modal
    body = submissions[0]
    assert body["type"] == "view_submission"
    assert body["user"]["id"] == "U0ALICE"
    assert body["response_urls"] == []
    assert body["view"]["private_metadata"] == "review-7"
    assert body["view"]["state"]["values"] == {
        "summary": {
            "summary_input": {"type": "plain_text_input", "value": "Primary DB ran out of disk"}
        },
        "severity": {"sev": {"type": "static_select", "selected_option": SEV_OPTIONS[1]}},
        "owner": {"owner_pick": {"type": "users_select", "selected_user": "U0BOB"}},
        "due": {"due_date": {"type": "datepicker", "selected_date": None}},
    }


def test_submit_refuses_impossible_input(slack: FakeSlack, bolt_app) -> None:
    app = bolt_app()
    calls: list[str] = []

    @app.view("pm_form")
    def save(ack):
        calls.append("sent")
        ack()

    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    view = client.views_open(trigger_id=slack.issue_trigger("U0ALICE"), view=form_view())["view"]
    with pytest.raises(StateError):
        slack.submit("U0ALICE", view["id"], {"no_such_block": {"x": "y"}})
    with pytest.raises(StateError):
        slack.submit("U0ALICE", view["id"], {"severity": {"sev": "sev7"}})
    missing = slack.submit("U0ALICE", view["id"], {"summary": {"summary_input": "only this"}})
    assert missing.sent is False
    assert missing.client_errors == {
        "severity": "Please complete this required field.",
        "owner": "Please complete this required field.",
    }
    assert calls == []
    assert slack.top_view("U0ALICE")["id"] == view["id"]


def test_response_action_errors_update_push_clear(slack: FakeSlack, bolt_app) -> None:
    app = bolt_app()
    answers: list[dict] = []

    @app.command("/postmortem")
    def open_form(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=form_view())

    @app.view("pm_form")
    def save(ack):
        ack(**answers.pop(0))

    values = {
        "summary": {"summary_input": "x"},
        "severity": {"sev": "sev1"},
        "owner": {"owner_pick": "U0BOB"},
    }
    slack.slash_command("U0ALICE", "C0REVIEWS")
    view_id = slack.top_view("U0ALICE")["id"]

    answers.append({"response_action": "errors", "errors": {"summary": "Too short"}})
    reply = slack.submit("U0ALICE", view_id, values)
    assert reply.errors == {"summary": "Too short"}
    assert slack.view_errors(view_id) == {"summary": "Too short"}
    assert slack.top_view("U0ALICE")["id"] == view_id

    answers.append({"response_action": "errors", "errors": {"intro": "not an input"}})
    reply = slack.submit("U0ALICE", view_id, values)
    assert not reply.ok
    assert reply.problems == [
        "[ERROR] block `intro` is not an input block [json-pointer:/errors/intro]"
    ]

    answers.append(
        {
            "response_action": "update",
            "view": form_view(title={"type": "plain_text", "text": "Step 2"}),
        }
    )
    reply = slack.submit("U0ALICE", view_id, values)
    assert reply.ok
    assert slack.top_view("U0ALICE")["title"]["text"] == "Step 2"
    assert slack.top_view("U0ALICE")["id"] == view_id

    answers.append(
        {
            "response_action": "update",
            "view": form_view(title={"type": "plain_text", "text": "A title that is far too long"}),
        }
    )
    reply = slack.submit("U0ALICE", view_id, values)
    assert reply.problems == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    assert slack.top_view("U0ALICE")["title"]["text"] == "Step 2"

    answers.append(
        {
            "response_action": "push",
            "view": form_view(title={"type": "plain_text", "text": "Confirm"}),
        }
    )
    slack.submit("U0ALICE", view_id, values)
    stack = slack.open_views("U0ALICE")
    assert [v["title"]["text"] for v in stack] == ["Step 2", "Confirm"]
    assert stack[1]["previous_view_id"] == view_id

    answers.append({"response_action": "clear"})
    slack.submit("U0ALICE", stack[1]["id"], values)
    assert slack.open_views("U0ALICE") == []


def test_click_in_modal_and_views_update_with_hash(slack: FakeSlack, bolt_app) -> None:
    app = bolt_app()
    payloads: list[dict] = []

    @app.command("/postmortem")
    def open_form(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=form_view())

    @app.action("help")
    def on_help(ack, body, client):
        ack()
        payloads.append(body)
        client.views_update(
            view_id=body["view"]["id"],
            hash=body["view"]["hash"],
            view=form_view(title={"type": "plain_text", "text": "Help"}),
        )

    slack.slash_command("U0ALICE", "C0REVIEWS")
    view_id = slack.top_view("U0ALICE")["id"]
    slack.fill("U0ALICE", view_id, {"summary": {"summary_input": "typed so far"}})
    reply = slack.click("U0ALICE", "help", view_id=view_id)
    assert reply.ok
    body = payloads[0]
    assert body["type"] == "block_actions"
    assert body["container"] == {"type": "view", "view_id": view_id}
    assert body["actions"][0]["action_id"] == "help"
    assert body["actions"][0]["block_id"] == "intro"
    assert body["actions"][0]["type"] == "button"
    assert body["actions"][0]["value"] == "h"
    assert body["view"]["state"]["values"]["summary"]["summary_input"]["value"] == "typed so far"
    updated = slack.top_view("U0ALICE")
    assert updated["title"]["text"] == "Help"
    # same block_id/action_id: Slack keeps what the user typed
    assert updated["state"]["values"]["summary"]["summary_input"]["value"] == "typed so far"
    with pytest.raises(LookupError):
        slack.click("U0ALICE", "no_such_button", view_id=view_id)


def test_a_dispatch_action_input_sends_its_answer_and_the_view_can_follow_it(
    slack: FakeSlack, bolt_app
) -> None:
    """Slack's dynamic modals: an input with dispatch_action sends block_actions as soon as it
    is used, with the view and its state; the app redraws with views.update. An input without
    it sends nothing."""
    app = bolt_app()
    payloads: list[dict] = []
    dispatching = form_view()
    dispatching["blocks"][2]["dispatch_action"] = True  # severity

    @app.command("/postmortem")
    def open_form(ack, body, client):
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=dispatching)

    @app.action("sev")
    def on_severity(ack, body, client):
        ack()
        payloads.append(body)
        chosen = body["actions"][0]["selected_option"]["value"]
        redrawn = form_view()
        redrawn["blocks"][2]["dispatch_action"] = True
        if chosen == "sev1":
            redrawn["blocks"].append(
                {
                    "type": "input",
                    "block_id": "pager",
                    "label": {"type": "plain_text", "text": "Who was paged"},
                    "element": {"type": "users_select", "action_id": "p"},
                }
            )
        client.views_update(view_id=body["view"]["id"], hash=body["view"]["hash"], view=redrawn)

    slack.slash_command("U0ALICE", "C0REVIEWS")
    view = slack.top_view("U0ALICE")
    slack.fill("U0ALICE", view["id"], {"summary": {"summary_input": "typed so far"}})
    reply = slack.click("U0ALICE", "sev", "sev1", view_id=view["id"])
    assert reply.ok
    action = payloads[0]["actions"][0]
    assert (action["type"], action["block_id"], action["selected_option"]["value"]) == (
        "static_select",
        "severity",
        "sev1",
    )
    state = payloads[0]["view"]["state"]["values"]
    assert state["severity"]["sev"]["selected_option"]["value"] == "sev1"  # the new answer
    assert state["summary"]["summary_input"]["value"] == "typed so far"
    assert payloads[0]["view"]["hash"] == view["hash"]
    redrawn = slack.top_view("U0ALICE")
    assert [b["block_id"] for b in redrawn["blocks"]][-1] == "pager"
    assert redrawn["state"]["values"]["summary"]["summary_input"]["value"] == "typed so far"
    assert redrawn["state"]["values"]["severity"]["sev"]["selected_option"]["value"] == "sev1"
    with pytest.raises(LookupError, match="no dispatch_action"):
        slack.click("U0ALICE", "owner_pick", "U0BOB", view_id=view["id"])
    assert len(payloads) == 1


def test_click_message_button_and_respond(slack: FakeSlack, bolt_app) -> None:
    app = bolt_app()
    payloads: list[dict] = []

    @app.action("done")
    def on_done(ack, body, respond):
        ack()
        payloads.append(body)
        respond(replace_original=True, text=f"Done: {body['actions'][0]['value']}")

    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    posted = client.chat_postMessage(
        channel="C0REVIEWS",
        text="Action items",
        blocks=[
            {
                "type": "section",
                "block_id": f"item{i}",
                "text": {"type": "mrkdwn", "text": name},
                "accessory": {
                    "type": "button",
                    "action_id": "done",
                    "value": name,
                    "text": {"type": "plain_text", "text": "Done"},
                },
            }
            for i, name in enumerate(["rotate keys", "add alert"])
        ],
    )
    reply = slack.click(
        "U0BOB", "done", "add alert", channel_id="C0REVIEWS", message_ts=posted["ts"]
    )
    assert reply.ok
    body = payloads[0]
    assert body["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": "C0REVIEWS",
        "is_ephemeral": False,
    }
    assert body["channel"] == {"id": "C0REVIEWS", "name": "reviews"}
    assert body["message"]["ts"] == posted["ts"]
    assert body["actions"][0]["block_id"] == "item1"
    assert body["user"] == {"id": "U0BOB", "username": "bob", "name": "bob", "team_id": "T0TEST"}
    assert slack.message("C0REVIEWS", posted["ts"])["text"] == "Done: add alert"
    assert slack.response_posts[0]["payload"]["replace_original"] is True


def test_a_reply_repeating_a_block_id_is_refused_and_recorded(slack: FakeSlack, bolt_app) -> None:
    """Slack answers 400 invalid_blocks and shows nothing; Bolt's respond() does not raise."""
    app = bolt_app()

    @app.command("/postmortem")
    def listing(ack, respond):
        ack()
        respond(
            text="Two items",
            blocks=[
                {"type": "section", "block_id": "item", "text": {"type": "mrkdwn", "text": name}}
                for name in ("rotate keys", "add alert")
            ],
        )

    slack.slash_command("U0BOB", "C0REVIEWS", "/postmortem", "actions")
    post = slack.wait_for(lambda: slack.response_posts)[0]
    assert post["error"] == "invalid_blocks"
    assert post["problems"] == [
        '[ERROR] `block_id` "item" already exists [json-pointer:/blocks/1/block_id]'
    ]
    assert slack.ephemerals("U0BOB") == []


def test_handler_too_slow_for_the_trigger(slack: FakeSlack, bolt_app, clock) -> None:
    app = bolt_app()
    errors: list[str] = []

    @app.command("/postmortem")
    def open_form(ack, body, client):
        ack()
        clock.advance(3.5)  # the bot spent too long before opening the modal
        try:
            client.views_open(trigger_id=body["trigger_id"], view=form_view())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc.response["error"])

    slack.slash_command("U0ALICE", "C0REVIEWS")
    assert errors == ["expired_trigger_id"]
    assert slack.open_views("U0ALICE") == []


def test_slow_ack_times_out_and_response_is_ignored(slack: FakeSlack, bolt_app) -> None:
    app = bolt_app()
    slack.ack_timeout = 0.2

    @app.view("pm_form")
    def save(ack):
        time.sleep(0.4)
        ack()

    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    view = client.views_open(trigger_id=slack.issue_trigger("U0ALICE"), view=form_view())["view"]
    reply = slack.submit(
        "U0ALICE",
        view["id"],
        {
            "summary": {"summary_input": "x"},
            "severity": {"sev": "sev1"},
            "owner": {"owner_pick": "U0BOB"},
        },
    )
    assert reply.timed_out and not reply.ok
    assert reply.elapsed >= 0.4
    assert slack.top_view("U0ALICE")["id"] == view["id"]


def test_close_sends_view_closed_only_when_asked(slack: FakeSlack, bolt_app) -> None:
    app = bolt_app()
    closed: list[dict] = []

    @app.view_closed("pm_form")
    def on_close(ack, body):
        closed.append(body)
        ack()

    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    quiet = client.views_open(trigger_id=slack.issue_trigger("U0BOB"), view=form_view())["view"]
    assert slack.close("U0BOB", quiet["id"]) is None
    assert closed == [] and slack.open_views("U0BOB") == []

    loud = client.views_open(
        trigger_id=slack.issue_trigger("U0BOB"), view=form_view(notify_on_close=True)
    )["view"]
    reply = slack.close("U0BOB", loud["id"])
    assert reply is not None and reply.ok
    assert closed[0]["type"] == "view_closed"
    assert closed[0]["is_cleared"] is False
    assert closed[0]["view"]["id"] == loud["id"]
    assert slack.open_views("U0BOB") == []


def test_open_home_event_envelope(slack: FakeSlack, bolt_app) -> None:
    app = bolt_app()
    envelopes: list[dict] = []

    @app.event("app_home_opened")
    def on_home(body, event, client):
        envelopes.append(body)
        client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your reviews"}}],
            },
        )

    reply = slack.open_home("U0ALICE")
    assert reply.status == 200
    env = envelopes[0]
    assert env["type"] == "event_callback"
    assert env["team_id"] == "T0TEST"
    assert env["event_id"].startswith("Ev")
    assert isinstance(env["event_time"], int)
    assert env["authorizations"][0]["user_id"] == "U0BOT"
    assert env["event"]["type"] == "app_home_opened"
    assert env["event"]["tab"] == "home"
    assert env["event"]["channel"] == "DU0ALICE"
    assert "view" not in env["event"]  # nothing published yet
    assert slack.home("U0ALICE")["blocks"][0]["text"]["text"] == "Your reviews"

    slack.open_home("U0ALICE")
    assert envelopes[1]["event"]["view"]["type"] == "home"
    assert json.dumps(envelopes[1])  # plain JSON all the way down


def test_slash_command_response_body_is_posted(slack: FakeSlack, bolt_app) -> None:
    app = bolt_app()

    @app.command("/postmortem")
    def handle(ack, command):
        if command["text"] == "public":
            ack(response_type="in_channel", text="Review started")
        else:
            ack(text="Only you can see this")

    slack.slash_command("U0ALICE", "C0REVIEWS", text="private")
    slack.slash_command("U0ALICE", "C0REVIEWS", text="public")
    assert [m["text"] for m in slack.ephemerals("U0ALICE")] == ["Only you can see this"]
    assert [m["text"] for m in slack.messages("C0REVIEWS")] == ["Review started"]

"""The fake's Web API, driven by a real slack_sdk WebClient."""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.fake_slack import FakeSlack


def section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def test_api_url_ends_with_slash_and_binds_loopback(slack: FakeSlack) -> None:
    assert slack.api_url.startswith("http://127.0.0.1:")
    assert slack.api_url.endswith("/api/")


def test_auth_test_identifies_the_bot(client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["ok"] is True
    assert resp["user_id"] == "U0BOT"
    assert resp["team_id"] == "T0TEST"
    assert resp["bot_id"]
    assert resp["url"].endswith("/")


def test_wrong_token_is_invalid_auth(slack: FakeSlack) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=slack.api_url)
    with pytest.raises(SlackApiError) as err:
        bad.chat_postMessage(channel="C0REVIEWS", text="hi")
    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "invalid_auth"
    assert slack.messages("C0REVIEWS") == []


def test_missing_token_is_not_authed(slack: FakeSlack) -> None:
    anonymous = WebClient(base_url=slack.api_url)
    with pytest.raises(SlackApiError) as err:
        anonymous.auth_test()
    assert err.value.response["error"] == "not_authed"


def test_unknown_method(client: WebClient, slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        client.api_call("chat.noSuchThing", json={"channel": "C0REVIEWS"})
    assert err.value.response["error"] == "unknown_method"
    assert slack.calls_to("chat.noSuchThing")[0].error == "unknown_method"


def test_form_body_with_token_parameter(slack: FakeSlack) -> None:
    body = "token=xoxb-test&channel=C0REVIEWS&text=form+post&blocks=" + urllib.request.quote(
        json.dumps([section("from a form", "b1")])
    )
    req = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
        slack.api_url + "chat.postMessage",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req) as resp:
        answer = json.loads(resp.read())
    assert answer["ok"] is True
    stored = slack.messages("C0REVIEWS")[0]
    assert stored["text"] == "form post"
    assert stored["blocks"][0]["block_id"] == "b1"
    # recorded params decode JSON fields and never keep the token
    call = slack.calls_to("chat.postMessage")[0]
    assert call.params["blocks"][0]["block_id"] == "b1"
    assert "token" not in call.params


def test_users_directory(client: WebClient) -> None:
    bob = client.users_info(user="U0BOB")["user"]
    assert bob["name"] == "bob"
    assert bob["real_name"] == "Bob Smith"
    assert bob["tz"] == "Australia/Perth"
    assert bob["tz_offset"] == 8 * 3600  # Perth has no daylight saving
    assert bob["profile"]["email"] == "bob@example.com"
    assert client.users_info(user="U0ADMIN")["user"]["is_admin"] is True
    assert client.users_lookupByEmail(email="alice@example.com")["user"]["id"] == "U0ALICE"
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U0NOBODY")
    assert err.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as err:
        client.users_lookupByEmail(email="nobody@example.com")
    assert err.value.response["error"] == "users_not_found"


def test_add_user_and_channel(slack: FakeSlack, client: WebClient) -> None:
    slack.add_user("U0DAVE", "dave", "Dave Jones", tz="UTC", deleted=True)
    slack.add_channel("C0OPS", "ops")
    dave = client.users_info(user="U0DAVE")["user"]
    assert dave["deleted"] is True
    assert dave["tz_offset"] == 0
    assert client.conversations_info(channel="C0OPS")["channel"]["name"] == "ops"


def test_conversations_open_and_dm_by_user_id(client: WebClient, slack: FakeSlack) -> None:
    opened = client.conversations_open(users="U0ALICE")
    assert opened["channel"]["id"] == "DU0ALICE"
    assert client.conversations_open(users="U0ALICE")["already_open"] is True
    posted = client.chat_postMessage(channel="U0ALICE", text="your action items")
    assert posted["channel"] == "DU0ALICE"
    client.chat_postMessage(channel="DU0ALICE", text="second")
    assert [m["text"] for m in slack.dms("U0ALICE")] == ["your action items", "second"]
    info = client.conversations_info(channel="DU0ALICE")["channel"]
    assert info["is_im"] is True and info["user"] == "U0ALICE"
    with pytest.raises(SlackApiError) as err:
        client.conversations_open(users="U0NOBODY")
    assert err.value.response["error"] == "user_not_found"


def test_post_message_shape_and_increasing_ts(client: WebClient) -> None:
    first = client.chat_postMessage(channel="C0REVIEWS", text="one", blocks=[section("*one*")])
    second = client.chat_postMessage(channel="#reviews", text="two")
    assert first["channel"] == second["channel"] == "C0REVIEWS"
    assert float(second["ts"]) > float(first["ts"])
    msg = first["message"]
    assert msg["type"] == "message"
    assert msg["user"] == "U0BOT"
    assert msg["bot_id"]
    assert msg["ts"] == first["ts"]
    assert msg["text"] == "one"
    assert msg["blocks"][0]["block_id"]  # Slack fills in missing block_ids
    seconds, micros = first["ts"].split(".")
    assert seconds.isdigit() and len(micros) == 6


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_post_message_refusals(client: WebClient, slack: FakeSlack) -> None:
    slack.add_channel("C0SECRET", "secret", is_member=False)
    cases = [
        ({"channel": "C0NOPE", "text": "x"}, "channel_not_found"),
        ({"channel": "C0SECRET", "text": "x"}, "not_in_channel"),
        ({"channel": "C0REVIEWS"}, "no_text"),
        ({"channel": "C0REVIEWS", "text": "x" * 40001}, "msg_too_long"),
        ({"channel": "C0REVIEWS", "text": "x", "thread_ts": "1.000001"}, "thread_not_found"),
    ]
    for kwargs, error in cases:
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(**kwargs)
        assert err.value.response["error"] == error, kwargs
    assert slack.messages("C0REVIEWS") == []


def test_threads(client: WebClient, slack: FakeSlack) -> None:
    parent = client.chat_postMessage(channel="C0REVIEWS", text="review started")
    r1 = client.chat_postMessage(channel="C0REVIEWS", text="stage 1", thread_ts=parent["ts"])
    client.chat_postMessage(channel="C0REVIEWS", text="stage 2", thread_ts=parent["ts"])
    assert r1["message"]["thread_ts"] == parent["ts"]
    assert [m["text"] for m in slack.messages("C0REVIEWS")] == ["review started"]
    thread = slack.thread("C0REVIEWS", parent["ts"])
    assert [m["text"] for m in thread] == ["review started", "stage 1", "stage 2"]
    assert thread[0]["reply_count"] == 2
    assert len(slack.messages("C0REVIEWS", include_replies=True)) == 3
    replies = client.conversations_replies(channel="C0REVIEWS", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["review started", "stage 1", "stage 2"]
    link = client.chat_getPermalink(channel="C0REVIEWS", message_ts=r1["ts"])["permalink"]
    assert f"thread_ts={parent['ts']}" in link


def test_update_replaces_in_place(client: WebClient, slack: FakeSlack) -> None:
    posted = client.chat_postMessage(
        channel="C0REVIEWS", text="draft", blocks=[section("draft", "body")]
    )
    client.chat_postMessage(channel="C0REVIEWS", text="after")
    updated = client.chat_update(channel="C0REVIEWS", ts=posted["ts"], text="final")
    assert updated["ts"] == posted["ts"]
    stored = slack.messages("C0REVIEWS")
    assert [m["text"] for m in stored] == ["final", "after"]
    assert stored[0]["blocks"][0]["block_id"] == "body"  # omitted blocks are kept
    client.chat_update(channel="C0REVIEWS", ts=posted["ts"], text="plain", blocks=[])
    assert "blocks" not in slack.message("C0REVIEWS", posted["ts"])
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C0REVIEWS", ts="1.000001", text="x")
    assert err.value.response["error"] == "message_not_found"


def test_ephemeral_permalink_and_delete(client: WebClient, slack: FakeSlack) -> None:
    eph = client.chat_postEphemeral(channel="C0REVIEWS", user="U0BOB", text="only bob")
    assert eph["message_ts"]
    assert [(m["text"], m["channel"]) for m in slack.ephemerals("U0BOB")] == [
        ("only bob", "C0REVIEWS")
    ]
    assert slack.ephemerals("U0ALICE") == []
    assert slack.messages("C0REVIEWS") == []

    posted = client.chat_postMessage(channel="C0REVIEWS", text="to delete")
    link = client.chat_getPermalink(channel="C0REVIEWS", message_ts=posted["ts"])
    assert link["permalink"] == (
        "https://fake.slack.local/archives/C0REVIEWS/p" + posted["ts"].replace(".", "")
    )
    client.chat_delete(channel="C0REVIEWS", ts=posted["ts"])
    assert slack.messages("C0REVIEWS") == []
    with pytest.raises(SlackApiError) as err:
        client.chat_getPermalink(channel="C0REVIEWS", message_ts=posted["ts"])
    assert err.value.response["error"] == "message_not_found"


def test_invalid_blocks_are_refused_with_pointers(client: WebClient, slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(
            channel="C0REVIEWS", text="x", blocks=[section(f"row {i}") for i in range(51)]
        )
    assert err.value.response["error"] == "invalid_blocks"
    assert err.value.response["response_metadata"]["messages"] == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    posted = client.chat_postMessage(channel="C0REVIEWS", text="ok", blocks=[section("fine")])
    with pytest.raises(SlackApiError) as err:
        client.chat_update(
            channel="C0REVIEWS", ts=posted["ts"], text="x", blocks=[section("y" * 3001)]
        )
    assert err.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert slack.message("C0REVIEWS", posted["ts"])["blocks"][0]["text"]["text"] == "fine"
    with pytest.raises(SlackApiError) as err:
        client.chat_postEphemeral(
            channel="C0REVIEWS", user="U0BOB", text="x", blocks=[{"type": "table"}]
        )
    assert err.value.response["error"] == "invalid_blocks"
    assert slack.ephemerals("U0BOB") == []


def test_files_upload_v2_shares_into_thread(client: WebClient, slack: FakeSlack) -> None:
    parent = client.chat_postMessage(channel="C0REVIEWS", text="report")
    result = client.files_upload_v2(
        channel="C0REVIEWS",
        thread_ts=parent["ts"],
        content=b"# Post-mortem\n",
        filename="postmortem.md",
        title="Post-mortem",
        initial_comment="Here it is",
    )
    assert result["file"]["title"] == "Post-mortem"
    [uploaded] = slack.uploaded_files()
    assert uploaded["content"] == b"# Post-mortem\n"
    assert uploaded["name"] == "postmortem.md"
    assert uploaded["channels"] == ["C0REVIEWS"]
    reply = slack.thread("C0REVIEWS", parent["ts"])[-1]
    assert reply["text"] == "Here it is"
    assert reply["files"][0]["id"] == uploaded["id"]
    assert reply["files"][0]["size"] == len(b"# Post-mortem\n")
    methods = [c.method for c in slack.calls]
    assert methods[-2:] == ["files.getUploadURLExternal", "files.completeUploadExternal"]


def test_complete_upload_without_bytes_is_refused(client: WebClient, slack: FakeSlack) -> None:
    got = client.files_getUploadURLExternal(filename="a.txt", length=3)
    assert got["upload_url"].startswith(slack.base_url + "/upload/")
    with pytest.raises(SlackApiError) as err:
        client.files_completeUploadExternal(
            files=[{"id": got["file_id"], "title": "a"}], channel_id="C0REVIEWS"
        )
    assert err.value.response["error"] == "file_not_found"
    assert slack.uploaded_files() == []


def test_calls_are_recorded_and_resettable(client: WebClient, slack: FakeSlack) -> None:
    client.chat_postMessage(channel="C0REVIEWS", text="a")
    client.users_info(user="U0BOB")
    assert [c.method for c in slack.calls] == ["chat.postMessage", "users.info"]
    call = slack.calls_to("chat.postMessage")[0]
    assert call.params["channel"] == "C0REVIEWS"
    assert call.ok and call.at > 0
    slack.reset_calls()
    assert slack.calls == []


def test_a_call_cut_off_mid_body_is_not_acted_on(slack: FakeSlack, client: WebClient) -> None:
    """A bot killed (kill -9) while sending a call: Slack never receives the whole request, so
    it neither answers nor counts it (the fake once parsed the half body and recorded an
    `invalid_arguments` call the bot never made)."""
    host, port = slack.api_url.split("//")[1].rstrip("/").split("/")[0].split(":")
    body = f"token={slack.bot_token}&email=alice%40example.com".encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /api/users.lookupByEmail HTTP/1.1\r\nHost: slack\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body) + 40}\r\n\r\n".encode()
            + body
        )
        sock.shutdown(socket.SHUT_WR)  # the sender is gone: the rest never comes
        assert sock.recv(1024) == b""  # no answer, the connection closed
    assert [c.method for c in slack.calls] == []
    # A whole call still works.
    assert client.users_lookupByEmail(email="alice@example.com")["user"]["id"] == "U0ALICE"

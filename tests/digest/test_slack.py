"""`/postmortem digest` in Slack: everyone gets the preview, only admins change anything."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from digest.seed import ADMIN, ALICE, CHANNEL
from e2e.conftest import start_bot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.digest import views
from sandbox.fake_slack import FakeSlack, problems
from storage.models import Workspace


@pytest.fixture
def bot(slack: FakeSlack, engine: Engine) -> Iterator:
    running, stop = start_bot(slack, engine, POSTMORTEM_DIGEST_CHANNEL=CHANNEL)
    yield running
    stop()


def preview(slack: FakeSlack, user: str) -> dict:
    before = len(slack.ephemerals(user))
    reply = slack.slash_command(user, CHANNEL, "/postmortem", "digest")
    assert reply.status == 200
    message = slack.wait_for(
        lambda: len(slack.ephemerals(user)) > before and slack.ephemerals(user)
    )[-1]
    assert problems("message", message) == []
    return message


def action_ids(message: dict) -> list[str]:
    return [
        e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]


def digest_setting(engine: Engine) -> dict:
    with Session(engine) as session:
        return session.scalars(select(Workspace)).one().settings["digest"]


def test_anyone_sees_the_next_meeting_and_a_preview_without_admin_buttons(
    slack: FakeSlack, bot
) -> None:
    message = preview(slack, ALICE)
    text = message["blocks"][0]["text"]["text"]
    assert text.startswith("*Next post-mortem meeting:* Wed ")
    assert f"digest in <#{CHANNEL}>" in text
    assert "Meetings every 2 weeks on Wednesday at 10:00 (Australia/Sydney)" in text
    assert any(b.get("block_id") == "digest.header" for b in message["blocks"])
    assert action_ids(message) == []
    assert slack.messages(CHANNEL) == []  # a preview posts nothing
    # The coming meetings read "Wed 9 Dec", the year only for another year's meeting.
    this_year = datetime.now(ZoneInfo("Australia/Sydney")).year
    lines = [line for line in text.split("\n") if line.startswith("• Wed ")]
    assert len(lines) == 5
    for line in lines:
        day = line.split(" —")[0].split(" 10:00")[0]  # "• Wed 9 Dec" or "• Wed 6 Jan 2027"
        assert str(this_year) not in day and (
            day.count(" ") == 3 or day.endswith(str(this_year + 1))
        )


def test_admin_posts_now_once(slack: FakeSlack, bot) -> None:
    message = preview(slack, ADMIN)
    assert action_ids(message) == [views.POST_NOW, views.SKIP, views.SCHEDULE]
    for _ in range(2):
        before = len(slack.ephemerals(ADMIN))
        slack.click(ADMIN, views.POST_NOW, channel_id=CHANNEL, message_ts=message["ts"])
        slack.wait_for(lambda b=before: len(slack.ephemerals(ADMIN)) > b)
    answers = [m["text"] for m in slack.ephemerals(ADMIN)[-2:]]
    assert answers[0].startswith("Posted the digest") and "already in" in answers[1]
    assert len(slack.messages(CHANNEL)) == 1


def test_non_admin_replaying_admin_buttons_is_refused(slack: FakeSlack, bot) -> None:
    # An admin's buttons end up in front of Alice (a shared screenshot has no buttons, but a
    # replayed or forwarded payload does): the server checks, not the client.
    admin_blocks = preview(slack, ADMIN)["blocks"]
    posted = bot.rt.client.chat_postMessage(
        channel=CHANNEL, text="buttons", blocks=admin_blocks[:2]
    )
    for action in (views.POST_NOW, views.SKIP, views.SCHEDULE):
        before = len(slack.ephemerals(ALICE))
        slack.click(ALICE, action, channel_id=CHANNEL, message_ts=posted["ts"])
        refusal = slack.wait_for(
            lambda b=before: len(slack.ephemerals(ALICE)) > b and slack.ephemerals(ALICE)
        )[-1]
        assert refusal["text"].startswith("Only admins can")
    assert slack.top_view(ALICE) is None
    assert [m["text"] for m in slack.messages(CHANNEL)] == ["buttons"]
    assert digest_setting(bot.rt.engine)["skips"] == {}


def test_admin_skips_the_next_meeting_with_the_default_reason(slack: FakeSlack, bot) -> None:
    message = preview(slack, ADMIN)
    key = next(
        e["value"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == views.SKIP
    )
    slack.click(ADMIN, views.SKIP, channel_id=CHANNEL, message_ts=message["ts"])
    view = slack.wait_for(lambda: slack.top_view(ADMIN))
    assert view["callback_id"] == views.SKIP_CALLBACK
    reply = slack.submit(ADMIN, view["id"], {})
    assert reply.ok and not reply.errors, (reply.errors, reply.body)
    assert digest_setting(bot.rt.engine)["skips"] == {key: views.DEFAULT_SKIP_REASON}
    text = preview(slack, ADMIN)["blocks"][0]["text"]["text"]
    assert f"skipped ({views.DEFAULT_SKIP_REASON})" in text


def test_admin_changes_the_schedule_and_mistakes_are_shown_next_to_the_field(
    slack: FakeSlack, bot
) -> None:
    message = preview(slack, ADMIN)
    slack.click(ADMIN, views.SCHEDULE, channel_id=CHANNEL, message_ts=message["ts"])
    view = slack.wait_for(lambda: slack.top_view(ADMIN))
    assert view["callback_id"] == views.SCHEDULE_CALLBACK
    reply = slack.submit(
        ADMIN, view["id"], {"first_meeting": {"v": "2026-12-03"}, "tz": {"v": "Mars/Olympus"}}
    )
    assert set(reply.errors) == {"first_meeting", "tz"}
    reply = slack.submit(
        ADMIN,
        view["id"],
        {
            "first_meeting": {"v": "2026-12-09"},
            "tz": {"v": "Australia/Perth"},
            "every_weeks": {"v": "1"},
            "time": {"v": "14:30"},
            "hours_before": {"v": "3"},
        },
    )
    assert reply.ok and not reply.errors, (reply.errors, reply.body)
    saved = digest_setting(bot.rt.engine)
    assert (
        saved["channel"],
        saved["every_weeks"],
        saved["first_meeting"],
        saved["time"],
        saved["tz"],
        saved["hours_before"],
    ) == (CHANNEL, 1, "2026-12-09", "14:30", "Australia/Perth", 3)

"""The digest listeners (bot/digest/listeners.py), each called directly with mocks.

The admin buttons are shown to admins only, and every one of them is checked again on the
server: a replayed button gets an ephemeral refusal and changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from unittest.mock import MagicMock

import pytest
from helpers.slack_unit import (
    ADMIN,
    BOB,
    TEAM,
    block_actions,
    button,
    make_runtime,
    opened_view,
    slack_calls,
    slash_command,
    view_submission,
)
from sqlalchemy import Engine, select

from bot.digest import listeners, views
from bot.digest import service as digest
from bot.runtime import Runtime
from storage.db import transaction
from storage.digests import Digest
from storage.models import AuditEntry

DIGEST_CHANNEL = "C0DIGEST"


@pytest.fixture
def with_channel(unit_engine: Engine, client: MagicMock) -> Runtime:
    """The digest channel set the way a deployment first sets it (its environment at start)."""
    return make_runtime(unit_engine, client, POSTMORTEM_DIGEST_CHANNEL=DIGEST_CHANNEL)


def preview(rt: Runtime, user: str, client: MagicMock) -> dict[str, Any]:
    """`/postmortem digest` as `user` sees it (ephemeral)."""
    respond = MagicMock()
    listeners.digest_command(rt, slash_command("digest", user=user), "", respond, client)
    return respond.call_args.kwargs


def admin_buttons(message: dict[str, Any]) -> dict[str, str]:
    return {
        e["action_id"]: e["value"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }


def digests(rt: Runtime) -> list[Digest]:
    with transaction(rt.sessions) as session:
        return list(session.scalars(select(Digest)))


def settings_changes(rt: Runtime) -> int:
    with transaction(rt.sessions) as session:
        return len(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == "digest.settings_changed")
            ).all()
        )


def click_post_now(rt: Runtime, ack: MagicMock, respond: MagicMock, user: str, key: str) -> None:
    body = block_actions(button(views.POST_NOW, key), user=user, channel=DIGEST_CHANNEL)
    listeners.post_now(ack=ack, body=body, action=body["actions"][0], respond=respond, rt=rt)


def test_the_preview_shows_admin_buttons_to_admins_only(
    with_channel: Runtime, client: MagicMock
) -> None:
    assert admin_buttons(preview(with_channel, BOB, client)) == {}
    buttons = admin_buttons(preview(with_channel, ADMIN, client))
    assert set(buttons) == {views.POST_NOW, views.SKIP, views.SCHEDULE}
    assert date.fromisoformat(buttons[views.POST_NOW]).weekday() == 2  # a Wednesday meeting


def test_post_now_by_a_non_admin_is_refused_and_nothing_is_posted(
    with_channel: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    key = admin_buttons(preview(with_channel, ADMIN, client))[views.POST_NOW]

    click_post_now(with_channel, ack, respond, BOB, key)  # a replayed admin button

    ack.assert_called_once_with()
    respond.assert_called_once_with(
        text="Only admins can post the digest now: ask a Slack workspace admin or one of "
        "POSTMORTEM_ADMINS.",
        response_type="ephemeral",
        replace_original=False,
    )
    client.chat_postMessage.assert_not_called()
    assert digests(with_channel) == []


def test_post_now_by_an_admin_posts_once_per_meeting(
    with_channel: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    key = admin_buttons(preview(with_channel, ADMIN, client))[views.POST_NOW]

    click_post_now(with_channel, ack, respond, ADMIN, key)
    click_post_now(with_channel, ack, respond, ADMIN, key)

    client.chat_postMessage.assert_called_once()
    assert client.chat_postMessage.call_args.kwargs["channel"] == DIGEST_CHANNEL
    first, second = (c.kwargs["text"] for c in respond.call_args_list)
    assert first.startswith("Posted the digest for the meeting on ")
    assert first.endswith(f"in <#{DIGEST_CHANNEL}>.")
    assert "is already in <#C0DIGEST>: it is posted once per meeting." in second
    [row] = digests(with_channel)
    assert (row.meeting_key, row.channel_id) == (key, DIGEST_CHANNEL)


def test_post_now_without_a_channel_says_how_to_set_one(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    key = admin_buttons(preview(rt, ADMIN, client))[views.POST_NOW]

    click_post_now(rt, ack, respond, ADMIN, key)

    respond.assert_called_once_with(
        text="No digest channel is set: choose one with *Change schedule*.", replace_original=False
    )
    client.chat_postMessage.assert_not_called()


def test_post_now_for_a_meeting_no_longer_scheduled_asks_to_look_again(
    with_channel: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    click_post_now(with_channel, ack, respond, ADMIN, "2020-01-01")

    assert respond.call_args.kwargs["text"].startswith(
        "That meeting has already started or is no longer on the schedule"
    )
    client.chat_postMessage.assert_not_called()


def test_skip_by_a_non_admin_opens_nothing(
    with_channel: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    key = admin_buttons(preview(with_channel, ADMIN, client))[views.SKIP]
    body = block_actions(button(views.SKIP, key), user=BOB, channel=DIGEST_CHANNEL)

    listeners.skip_clicked(
        ack=ack,
        body=body,
        action=body["actions"][0],
        respond=respond,
        client=client,
        rt=with_channel,
    )

    assert respond.call_args.kwargs["text"].startswith("Only admins can skip a meeting")
    client.views_open.assert_not_called()


def test_skip_submitted_by_a_non_admin_is_refused_in_the_form(
    with_channel: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    key = admin_buttons(preview(with_channel, ADMIN, client))[views.SKIP]
    body, view = view_submission(views.skip_modal(key, "The next meeting"), user=BOB)

    listeners.skip_submitted(ack=ack, body=body, view=view, rt=with_channel)

    ack.assert_called_once_with(
        response_action="errors", errors={"reason": "Only admins can skip meetings."}
    )
    assert settings_changes(with_channel) == 0


def test_an_admin_skips_the_next_meeting_with_a_reason(
    with_channel: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    key = admin_buttons(preview(with_channel, ADMIN, client))[views.SKIP]
    body = block_actions(button(views.SKIP, key), user=ADMIN, channel=DIGEST_CHANNEL)
    listeners.skip_clicked(
        ack=MagicMock(),
        body=body,
        action=body["actions"][0],
        respond=respond,
        client=client,
        rt=with_channel,
    )
    body, view = view_submission(opened_view(client), {"reason": "Team offsite"}, user=ADMIN)

    listeners.skip_submitted(ack=ack, body=body, view=view, rt=with_channel)

    ack.assert_called_once_with()
    with transaction(with_channel.sessions) as session:
        saved = digest.load_settings(session, TEAM, with_channel)[1]
    assert saved.skips == {date.fromisoformat(key): "Team offsite"}


def schedule_form() -> dict[str, Any]:
    return views.schedule_modal(
        channel=None,
        every_weeks=2,
        first_meeting=date(2026, 12, 2),
        time="10:00",
        tz="Australia/Sydney",
        hours_before=24,
    )


def test_a_schedule_with_mistakes_is_refused_next_to_each_field(
    rt: Runtime, ack: MagicMock
) -> None:
    body, view = view_submission(
        schedule_form(),
        {
            "first_meeting": "2026-12-01",  # a Tuesday
            "tz": "Mars/Olympus_Mons",
            "hours_before": "0",
        },
        user=ADMIN,
    )

    listeners.schedule_submitted(ack=ack, body=body, view=view, rt=rt)

    assert ack.call_args.kwargs["response_action"] == "errors"
    errors = ack.call_args.kwargs["errors"]
    assert set(errors) == {"channel", "first_meeting", "tz", "hours_before"}
    assert "Wednesday" in errors["first_meeting"]
    assert settings_changes(rt) == 0


def test_an_admin_saves_a_schedule(rt: Runtime, ack: MagicMock) -> None:
    body, view = view_submission(
        schedule_form(),
        {"channel": DIGEST_CHANNEL, "every_weeks": "1", "time": "09:30"},
        user=ADMIN,
    )

    listeners.schedule_submitted(ack=ack, body=body, view=view, rt=rt)

    ack.assert_called_once_with()
    with transaction(rt.sessions) as session:
        saved = digest.load_settings(session, TEAM, rt)[1]
    assert (saved.channel, saved.every_weeks, f"{saved.time:%H:%M}") == (DIGEST_CHANNEL, 1, "09:30")


def test_a_schedule_from_a_non_admin_is_refused(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    body, view = view_submission(schedule_form(), {"channel": DIGEST_CHANNEL}, user=BOB)

    listeners.schedule_submitted(ack=ack, body=body, view=view, rt=rt)

    ack.assert_called_once_with(
        response_action="errors", errors={"channel": "Only admins can change the schedule."}
    )
    assert settings_changes(rt) == 0
    assert slack_calls(client) == []

""" "Tracker settings" on an admin's App Home opens the `/postmortem tracker` modal.

Home is drawn by its own listener and the click goes to the trackers' listener, both called
directly (mocked Slack client, real runtime on SQLite).
"""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

from helpers.slack_unit import (
    ADMIN,
    BOB,
    TEAM,
    block_actions,
    button,
    home_opened_event,
    opened_view,
    slash_command,
    view_text,
)

from bot.home import listeners as home
from bot.home.views import TRACKER_SETTINGS
from bot.runtime import Runtime
from bot.trackers import listeners, views


def home_buttons(rt: Runtime, client: MagicMock, user: str) -> list[str]:
    home.home_opened(event=home_opened_event(user), context={"team_id": TEAM}, client=client, rt=rt)
    view: dict[str, Any] = client.views_publish.call_args.kwargs["view"]
    return [
        element.get("text", {}).get("text", "")
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def click_settings(rt: Runtime, client: MagicMock, user: str) -> dict[str, Any]:
    body = block_actions(button(TRACKER_SETTINGS, "", text="Tracker settings"), user=user)
    ack = MagicMock()
    listeners.settings_clicked(ack=ack, body=body, client=client, rt=rt)
    ack.assert_called_once()
    return opened_view(client)


def test_an_admin_sees_tracker_settings_on_home_and_others_do_not(
    rt: Runtime, client: MagicMock
) -> None:
    assert "Tracker settings" in home_buttons(rt, client, ADMIN)
    client.reset_mock()
    assert "Tracker settings" not in home_buttons(rt, client, BOB)


def test_the_home_button_opens_the_same_modal_as_the_command(
    rt: Runtime, client: MagicMock
) -> None:
    from_home = click_settings(rt, client, ADMIN)
    client.reset_mock()
    listeners.tracker_command(rt, slash_command("tracker", user=ADMIN), "", MagicMock(), client)

    assert from_home["callback_id"] == views.CALLBACK
    assert from_home == opened_view(client)


def test_a_replayed_click_by_a_non_admin_gets_a_notice_not_the_modal(
    rt: Runtime, client: MagicMock
) -> None:
    shown = click_settings(rt, client, BOB)

    assert shown.get("callback_id") != views.CALLBACK
    assert "Only admins can change the tracker settings" in view_text(shown)

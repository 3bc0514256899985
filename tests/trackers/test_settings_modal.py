"""`/postmortem tracker`: admins choose the tracker in Slack; the token is never shown again.

The listeners are called directly (mocked Slack client, real runtime on SQLite); "Test
connection" signs in to each tracker's fake, which refuses what the real one refuses.
"""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import MagicMock

import pytest
from helpers.slack_unit import (
    ADMIN,
    BOB,
    TEAM,
    make_runtime,
    opened_view,
    slash_command,
    view_submission,
    view_text,
)
from sqlalchemy import Engine, select
from trackers.fakes.server import FakeTracker

from bot.runtime import Runtime
from bot.trackers import listeners, service, views
from bot.trackers import settings as tracker_settings
from storage import trackers as tracker_store
from storage.db import transaction
from storage.models import AuditEntry, Workspace

TARGET_VARIABLE = {
    "clickup": "CLICKUP_LIST_ID",
    "jira": "JIRA_PROJECT_KEY",
    "linear": "LINEAR_TEAM_ID",
    "github": "GITHUB_REPOSITORY",
}
TOKEN_VARIABLE = {
    "clickup": "CLICKUP_API_TOKEN",
    "jira": "JIRA_API_TOKEN",
    "linear": "LINEAR_API_KEY",
    "github": "GITHUB_TOKEN",
}


def typed_in(fake: FakeTracker, **changes: str) -> dict[str, Any]:
    """What an admin types in the modal to use this fake (its documented settings)."""
    env = fake.env()  # type: ignore[attr-defined]
    values: dict[str, Any] = {
        "tracker": fake.name,
        "target": env[TARGET_VARIABLE[fake.name]],
        "api_url": fake.url,  # type: ignore[attr-defined]
        "token": env[TOKEN_VARIABLE[fake.name]],
    }
    if fake.name == "jira":
        values["email"] = env.get("JIRA_EMAIL", "")
        values["auth"] = env.get("JIRA_AUTH", "basic")
    return {**values, **changes}


def open_modal(rt: Runtime, client: MagicMock, user: str = ADMIN) -> MagicMock:
    respond = MagicMock()
    listeners.tracker_command(rt, slash_command("tracker", user=user), "", respond, client)
    return respond


def click_test(rt: Runtime, client: MagicMock, values: dict[str, Any], user: str = ADMIN) -> str:
    """Click "Test connection" in the open modal; the outcome the modal then shows."""
    body, view = view_submission(opened_view(client), values, user=user)
    body = {
        **body,
        "type": "block_actions",
        "container": {"type": "view", "view_id": view["id"]},
        "actions": [{"type": "button", "action_id": views.TEST, "block_id": "test"}],
    }
    client.views_update.reset_mock()
    listeners.test_clicked(ack=MagicMock(), body=body, client=client, rt=rt)
    updated = client.views_update.call_args.kwargs
    assert updated["view_id"] == view["id"]
    return view_text(updated["view"])


def submit(rt: Runtime, client: MagicMock, values: dict[str, Any], user: str = ADMIN) -> MagicMock:
    ack = MagicMock()
    body, view = view_submission(opened_view(client), values, user=user)
    listeners.settings_submitted(ack=ack, body=body, view=view, rt=rt)
    return ack


def workspace_settings(rt: Runtime) -> dict[str, Any]:
    with transaction(rt.sessions) as session:
        ws = session.scalars(select(Workspace).where(Workspace.team_id == TEAM)).one()
        return dict(ws.settings or {})


def test_a_non_admin_is_refused_clearly_and_no_modal_opens(rt: Runtime, client: MagicMock) -> None:
    respond = open_modal(rt, client, user=BOB)

    assert "Only admins can change the tracker settings" in respond.call_args.kwargs["text"]
    client.views_open.assert_not_called()


def test_a_replayed_submission_by_a_non_admin_saves_nothing(
    rt: Runtime, client: MagicMock, fake: FakeTracker
) -> None:
    open_modal(rt, client)
    ack = submit(rt, client, typed_in(fake), user=BOB)

    assert ack.call_args.kwargs["response_action"] == "errors"
    assert "Only admins" in ack.call_args.kwargs["errors"]["tracker"]
    assert tracker_store.saved_choice(workspace_settings(rt)) is None


def test_test_connection_signs_in_to_each_tracker(
    rt: Runtime, client: MagicMock, fake: FakeTracker
) -> None:
    open_modal(rt, client)

    shown = click_test(rt, client, typed_in(fake))

    assert "Connected." in shown, shown
    assert fake.requests(), "the fake was asked"
    assert all(c.status == 200 for c in fake.calls)


def test_test_connection_with_a_wrong_token_says_so_without_the_token(
    rt: Runtime, client: MagicMock, fake: FakeTracker
) -> None:
    open_modal(rt, client)
    wrong = "wrong-" + TOKEN_VARIABLE[fake.name].lower() + "-SECRET123"

    shown = click_test(rt, client, typed_in(fake, token=wrong))

    assert "Connection failed." in shown and "401" in shown, shown
    assert "SECRET123" not in json.dumps(client.views_update.call_args.kwargs)


def test_test_connection_with_a_wrong_target_names_it(
    rt: Runtime, client: MagicMock, fake: FakeTracker
) -> None:
    wrong = {"clickup": "123", "jira": "ZZ", "linear": "no-such-team", "github": "acme/nope"}
    open_modal(rt, client)

    shown = click_test(rt, client, typed_in(fake, target=wrong[fake.name]))

    assert "Connection failed." in shown, shown


def test_saving_sets_the_workspace_tracker_and_the_token_is_never_shown_back(
    unit_engine: Engine, client: MagicMock, fake: FakeTracker
) -> None:
    rt = make_runtime(unit_engine, client)  # no tracker in the environment
    values = typed_in(fake)
    open_modal(rt, client)

    ack = submit(rt, client, values)

    assert ack.call_args.kwargs["response_action"] == "update"
    assert "Saved" in view_text(ack.call_args.kwargs["view"])
    chosen = tracker_settings.current(rt)
    assert chosen is not None and chosen.name == fake.name and chosen.token == values["token"]
    tracker = service.tracker_of(rt)
    assert tracker is not None and tracker.check()
    # the modal opened again says a token is saved, and holds no trace of it
    client.views_open.reset_mock()
    open_modal(rt, client)
    reopened = json.dumps(opened_view(client))
    assert values["token"] not in reopened and "A token is saved" in reopened
    # it is kept apart from the other settings, and never audited
    assert values["token"] not in json.dumps(
        tracker_store.without_credentials(workspace_settings(rt))
    )
    with transaction(rt.sessions) as session:
        audits = [a.detail for a in session.scalars(select(AuditEntry))]
    assert audits and values["token"] not in json.dumps(audits)


def test_an_empty_token_keeps_the_saved_one(
    unit_engine: Engine, client: MagicMock, fake: FakeTracker
) -> None:
    rt = make_runtime(unit_engine, client)
    values = typed_in(fake)
    open_modal(rt, client)
    submit(rt, client, values)

    ack = submit(rt, client, {**values, "token": ""})

    assert ack.call_args.kwargs["response_action"] == "update"
    chosen = tracker_settings.current(rt)
    assert chosen is not None and chosen.token == values["token"]


def test_a_first_choice_without_a_token_is_refused_on_the_field(
    unit_engine: Engine, client: MagicMock, fake: FakeTracker
) -> None:
    rt = make_runtime(unit_engine, client)
    open_modal(rt, client)

    ack = submit(rt, client, typed_in(fake, token=""))

    assert ack.call_args.kwargs["response_action"] == "errors"
    assert "token" in ack.call_args.kwargs["errors"]


@pytest.mark.parametrize("fake", ["jira"], indirect=True)
def test_jira_cloud_needs_the_e_mail_but_data_center_does_not(
    unit_engine: Engine, client: MagicMock, fake: FakeTracker
) -> None:
    rt = make_runtime(unit_engine, client)
    open_modal(rt, client)

    cloud = submit(rt, client, typed_in(fake, email=""))
    data_center = submit(rt, client, typed_in(fake, email="", auth="bearer"))

    assert "email" in cloud.call_args.kwargs["errors"]
    assert data_center.call_args.kwargs["response_action"] == "update"


def test_the_environment_is_the_default_until_an_admin_chooses(
    unit_engine: Engine, client: MagicMock, fake: FakeTracker
) -> None:
    rt = make_runtime(unit_engine, client, **fake.env())  # type: ignore[attr-defined]
    assert (tracker := service.tracker_of(rt)) is not None and tracker.name == fake.name
    open_modal(rt, client)
    assert "from the bot's environment" in view_text(opened_view(client))

    submit(rt, client, {"tracker": "none"})

    assert service.tracker_of(rt) is None
    assert tracker_store.CREDENTIALS_KEY not in workspace_settings(rt)

"""Calling one listener function directly, the bolt-python starter template's way.

A listener is a plain function, so a unit test calls it as Bolt would:
`listener(ack=ack, body=body, view=view, client=client, rt=rt)`, with a mocked `ack`, a
`MagicMock(spec=WebClient)` that answers like Slack (no HTTP), and a real `Runtime` on a migrated
SQLite database. The tests then assert what a person would notice: what the ack said, which Slack
method was called with what, what was saved.

Bodies follow Slack's documented payload shapes (slash command, block_actions, view_submission,
view_closed). A submitted modal's `state.values` is built from the very view the bot rendered
(sandbox/fake_slack/state.py, which refuses values the Slack client could not send), so renaming
a block in a view breaks the test that fills it in, as it would break the real form.

The fixtures (`unit_engine`, `client`, `rt`, `ack`, `respond`, `hooks`) reach a test folder
through its conftest.py: `from helpers.slack_unit import ...  # noqa: F401`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from sqlalchemy import Engine, func, select

from bot import runtime
from bot.config import load_settings
from bot.features import ReviewHooks
from bot.reviews import service
from bot.runtime import Runtime
from sandbox.fake_slack.state import build_values, full_state
from storage import reviews as store
from storage.db import make_engine, transaction, upgrade
from storage.models import ActionItem
from storage.outbox import Effect
from storage.schema import metadata
from workflows.loader import Registry
from workflows.samples import sample_answers

TEAM = "T0TEAM"
APP = "A0APP"
ALICE, BOB, ADMIN = "U0ALICE", "U0BOB", "U0ADMIN"
CHANNEL = "C0REVIEWS"
TRIGGER = "1700000000.111.abcdef"
VIEW_ID = "V0MODAL"
STATUS_TS = "1699999999.000001"

BASE_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-unit-test",
    "SLACK_SIGNING_SECRET": "unit-test-secret",
    "POSTMORTEM_ADMINS": ADMIN,
}


# --- a WebClient that answers like Slack ----------------------------------------------------


def fake_client(*, admins: Iterable[str] = (), tz: str = "Australia/Sydney") -> MagicMock:
    """`MagicMock(spec=WebClient)` whose methods return what Slack's would (dicts, not mocks).

    `admins`: users Slack itself reports as workspace admins (users.info `is_admin`).
    """
    client = MagicMock(spec=WebClient)
    admins = frozenset(admins)
    stamps = itertools.count(1)

    def ts() -> str:
        return f"1700000000.{next(stamps):06d}"

    def posted(*, channel: str, **_: Any) -> dict[str, Any]:
        # A message to a user id lands in the bot's DM with them, as on Slack.
        where = "D" + channel[1:] if channel.startswith(("U", "W")) else channel
        return {"ok": True, "channel": where, "ts": ts()}

    def updated(*, channel: str, ts: str, **_: Any) -> dict[str, Any]:
        return {"ok": True, "channel": channel, "ts": ts}

    def user_info(*, user: str, **_: Any) -> dict[str, Any]:
        return {
            "ok": True,
            "user": {
                "id": user,
                "name": user.lower(),
                "tz": tz,
                "is_admin": user in admins,
                "is_owner": False,
                "profile": {"display_name": user.lower()},
            },
        }

    def permalink(*, channel: str, message_ts: str, **_: Any) -> dict[str, Any]:
        link = f"https://example.slack.com/archives/{channel}/p{message_ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    client.chat_postMessage.side_effect = posted
    client.chat_update.side_effect = updated
    client.chat_postEphemeral.side_effect = lambda **_: {"ok": True, "message_ts": ts()}
    client.chat_getPermalink.side_effect = permalink
    client.users_info.side_effect = user_info
    client.auth_test.return_value = {"ok": True, "team_id": TEAM, "user_id": "U0BOT"}
    client.views_open.side_effect = lambda **_: {"ok": True, "view": {"id": VIEW_ID}}
    client.views_update.side_effect = lambda **_: {"ok": True, "view": {"id": VIEW_ID}}
    client.views_publish.side_effect = lambda **_: {"ok": True, "view": {"id": "V0HOME"}}
    client.conversations_open.side_effect = lambda *, users, **_: {
        "ok": True,
        "channel": {"id": "D" + str(users).split(",")[0][1:]},
    }
    return client


def slack_error(method: str, error: str) -> SlackApiError:
    """The exception slack_sdk raises when Slack answers `{"ok": false, "error": ...}`."""
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url=f"https://slack.com/api/{method}",
        req_args={},
        data={"ok": False, "error": error},
        headers={},
        status_code=200,
    )
    return SlackApiError(f"The request to the Slack API failed. (url: {method})", response)


def recording_ack(client: MagicMock) -> MagicMock:
    """An `ack` that remembers which Slack methods had been called by the time it was called.

    `ack.slack_calls_before` holds one list per ack call (as `slack_calls` lists them): a view
    submission must be acked within 3 seconds, so a listener that posts first can lose the
    user's answer. users.info lookups (cached; the admin check) are left out.
    """
    ack = MagicMock(name="ack")
    ack.slack_calls_before = []

    def record(*_: Any, **__: Any) -> None:
        ack.slack_calls_before.append(slack_calls(client))

    ack.side_effect = record
    return ack


def slack_calls(client: MagicMock) -> list[str]:
    """The Slack methods called so far, in order (users.info lookups left out)."""
    return [call[0] for call in client.method_calls if call[0] != "users_info"]


def opened_view(client: MagicMock) -> dict[str, Any]:
    """The modal the listener opened (views.open called exactly once)."""
    client.views_open.assert_called_once()
    assert client.views_open.call_args.kwargs["trigger_id"] == TRIGGER
    return client.views_open.call_args.kwargs["view"]


def view_text(view: Mapping[str, Any]) -> str:
    """Every text a person reads in a view or message, joined (title, sections, labels)."""
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                texts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(dict(view))
    return "\n".join(texts)


# --- the runtime ----------------------------------------------------------------------------


_REGISTRIES: dict[Path | None, Registry] = {}


def _registry(extra_dir: Path | None = None) -> Registry:
    """Registry.load, once per folder: parsing the definitions costs 0.4 s, they never change."""
    if extra_dir not in _REGISTRIES:
        _REGISTRIES[extra_dir] = Registry.load(extra_dir)
    return _REGISTRIES[extra_dir]


def make_runtime(engine: Engine, client: MagicMock, **env: str) -> Runtime:
    """A real Runtime (settings, registry, people, admin check) on `engine`, Slack mocked."""
    settings = load_settings(
        {**BASE_ENV, "DATABASE_URL": engine.url.render_as_string(hide_password=False), **env}
    )
    with patch.object(runtime, "Registry", SimpleNamespace(load=_registry)):
        return runtime.build_runtime(settings, engine, client=client)


OWNER_ONLY_YAML = """\
key: owner_signoff
name: Owner sign-off
description: A draft anyone may write, then a sign-off only the review's owner may give.
stages:
  - key: draft
    name: Draft
    purpose: Write what happened.
    fields:
      - {key: summary, label: Summary, type: long_text}
  - key: signoff
    name: Sign-off
    purpose: The owner signs the review off.
    role: owner
    fields:
      - {key: verdict, label: Verdict, type: text}
"""


def owner_only_workflows(folder: Path) -> Path:
    """A workflows folder (POSTMORTEM_WORKFLOWS_DIR) with a stage only the owner may fill."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "owner_signoff.yaml").write_text(OWNER_ONLY_YAML, encoding="utf-8")
    return folder


# --- rows a test starts from ------------------------------------------------------------------


def seed_review(
    rt: Runtime,
    *,
    workflow: str = "support_postmortem",
    title: str = "Refund took three weeks",
    owner: str = ALICE,
    channel: str = CHANNEL,
    posted: bool = True,
) -> int:
    """A started review; `posted`: its status message is already in the channel."""
    with transaction(rt.sessions) as session:
        review = service.start_review(
            session,
            rt.registry[workflow],
            team_id=TEAM,
            title=title,
            channel_id=channel,
            owner_id=owner,
            started_by=owner,
        )
        if posted:
            store.set_message(session, review, channel, STATUS_TS)
            review.permalink = f"https://example.slack.com/archives/{channel}/p1699999999000001"
        return review.id


def submit_current(rt: Runtime, review_id: int, *, user: str = ALICE, **answers: Any) -> str:
    """Submit the review's current stage with valid sample answers; the stage's key."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        assert review is not None and review.current_stage is not None
        stage = service.workflow_of(review).stage(review.current_stage)
        result = service.submit_stage(
            session,
            review,
            stage.key,
            sample_answers(stage, **answers),
            user_id=user,
            is_admin=rt.is_admin(user),
        )
        assert result.ok, (result.errors, result.refused)
        return stage.key


def save_stage(rt: Runtime, review_id: int, *, user: str = ALICE, **answers: Any) -> list[str]:
    """Submit the review's current stage (valid sample answers) through its modal, page by page,
    as Bolt would, with every feature's hooks: the kinds of the effects the save recorded."""
    from bot.app import review_hooks
    from bot.reviews import listeners
    from bot.reviews.views import stage_modal as sm

    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        assert review is not None and review.current_stage is not None
        stage = service.workflow_of(review).stage(review.current_stage)
        title = review.title
        before = session.scalar(select(func.max(Effect.id))) or 0
    values = sample_answers(stage, **answers)
    meta = sm.ModalMeta(review_id, stage.key)
    view: Mapping[str, Any] = sm.stage_view(stage, title=title, meta=meta, values=values)
    for _ in range(10):  # a long stage is several pages: Next, then Submit
        shown = {b.get("block_id") for b in view.get("blocks", [])}
        entered = {
            block: actions["v"]
            for block, actions in sm.entered_values(stage, values).items()
            if block in shown
        }
        body, submitted = view_submission(view, entered, user=user)
        ack = MagicMock(name="ack")
        listeners.stage_submitted(ack=ack, body=body, view=submitted, rt=rt, hooks=review_hooks())
        reply = ack.call_args.kwargs
        if not reply:
            break
        assert reply.get("response_action") == "update", reply
        view = reply["view"]
        assert view.get("callback_id") == submitted["callback_id"], view  # the next page
    else:
        raise AssertionError(f"stage {stage.key} was never saved")
    with transaction(rt.sessions) as session:
        return list(
            session.scalars(select(Effect.kind).where(Effect.id > before).order_by(Effect.id))
        )


def seed_item(
    rt: Runtime,
    review_id: int,
    *,
    owner: str = BOB,
    title: str = "Add a refund status page",
    due: date = date(2026, 12, 1),
    dm: bool = True,
) -> int:
    """An open action item; `dm`: its owner already has the assignment DM."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        item = store.add_action_item(
            session, review, title=title, owner_id=owner, due=due, tracking_link=None, actor=ALICE
        )
        if dm:
            item.dm_channel, item.dm_ts = "D" + owner[1:], "1700000001.000001"
        return item.id


def posted_with(client: MagicMock, event_type: str) -> list[dict[str, Any]]:
    """The chat.postMessage calls (their keyword arguments) whose metadata is `event_type`: the
    messages of one kind a test's bot sent, found the way the bot finds them again."""
    return [
        c.kwargs
        for c in client.chat_postMessage.call_args_list
        if (c.kwargs.get("metadata") or {}).get("event_type") == event_type
    ]


def item_row(rt: Runtime, item_id: int) -> ActionItem:
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        assert item is not None
        session.expunge(item)
        return item


# --- Slack's payloads -----------------------------------------------------------------------


def _user(user: str) -> dict[str, Any]:
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM}


def _team() -> dict[str, Any]:
    return {"id": TEAM, "domain": "example"}


def slash_command(text: str, *, user: str = ALICE, channel: str = CHANNEL) -> dict[str, Any]:
    """A `/postmortem` slash command payload (form fields, as Bolt hands them over)."""
    return {
        "token": "verification-token",
        "team_id": TEAM,
        "team_domain": "example",
        "channel_id": channel,
        "channel_name": "reviews",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/postmortem",
        "text": text,
        "api_app_id": APP,
        "is_enterprise_install": "false",
        "response_url": f"https://hooks.slack.com/commands/{TEAM}/1/abc",
        "trigger_id": TRIGGER,
    }


def button(
    action_id: str, value: str, *, block_id: str = "actions", text: str = "Button"
) -> dict[str, Any]:
    """One `actions[]` entry of a clicked button."""
    return {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value,
        "action_ts": "1700000002.000100",
    }


def block_actions(
    action: dict[str, Any],
    *,
    user: str = ALICE,
    channel: str | None = None,
    message_ts: str = STATUS_TS,
) -> dict[str, Any]:
    """A block_actions body: a click on a message in `channel` (or on the App Home)."""
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": APP,
        "token": "verification-token",
        "trigger_id": TRIGGER,
        "team": _team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
        "response_url": f"https://hooks.slack.com/actions/{TEAM}/2/xyz",
        "state": {"values": {}},
    }
    if channel is None:
        body["container"] = {"type": "view", "view_id": "V0HOME"}
    else:
        body["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        }
        body["channel"] = {
            "id": channel,
            "name": "directmessage" if channel[0] == "D" else "reviews",
        }
        body["message"] = {"type": "message", "ts": message_ts, "text": "", "blocks": []}
    return body


def state_of(view: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Slack's `view.state` once a person entered `values` ({block_id: value}) in `view`.

    Every input element of the bot's modals has the action id `v`; untouched inputs keep their
    initial values, as Slack reports them.
    """
    entered = build_values(view["blocks"], {block: {"v": value} for block, value in values.items()})
    return full_state(view["blocks"], entered)


def _as_submitted(view: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **view,
        "id": VIEW_ID,
        "team_id": TEAM,
        "app_id": APP,
        "bot_id": "B0BOT",
        "hash": "1700000003.deadbeef",
        "root_view_id": VIEW_ID,
        "previous_view_id": None,
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": state_of(view, values),
    }


def view_submission(
    view: Mapping[str, Any], values: Mapping[str, Any] | None = None, *, user: str = ALICE
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(body, view) of a view_submission: `view` as the bot rendered it, `values` typed in."""
    submitted = _as_submitted(view, values or {})
    body = {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user),
        "api_app_id": APP,
        "token": "verification-token",
        "trigger_id": TRIGGER,
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return body, submitted


def view_closed(
    view: Mapping[str, Any], values: Mapping[str, Any] | None = None, *, user: str = ALICE
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(body, view) of a view_closed (the modal has `notify_on_close`)."""
    submitted = _as_submitted(view, values or {})
    body = {
        "type": "view_closed",
        "team": _team(),
        "user": _user(user),
        "api_app_id": APP,
        "token": "verification-token",
        "view": submitted,
        "is_cleared": False,
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return body, submitted


def home_opened_event(user: str = ALICE, tab: str = "home") -> dict[str, Any]:
    """An app_home_opened event (the `event` argument)."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user[1:],
        "tab": tab,
        "event_ts": "1700000004.000100",
    }


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('unit') / 'listeners.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def unit_engine(_migrated_sqlite: Engine) -> Iterator[Engine]:
    """A migrated SQLite database, emptied after each test (listener tests are unit level)."""
    yield _migrated_sqlite
    with _migrated_sqlite.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client() -> MagicMock:
    return fake_client()


@pytest.fixture
def rt(unit_engine: Engine, client: MagicMock, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    # Features that still read their settings from the environment see the defaults.
    for name in list(os.environ):
        if name.startswith(("POSTMORTEM_", "SLACK_")):
            monkeypatch.delenv(name)
    return make_runtime(unit_engine, client)


@pytest.fixture
def ack(client: MagicMock) -> MagicMock:
    return recording_ack(client)


@pytest.fixture
def respond() -> MagicMock:
    return MagicMock(name="respond")


@pytest.fixture
def hooks() -> MagicMock:
    return MagicMock(spec=ReviewHooks)

"""`/postmortem tracker` (admins choose the tracker in Slack) and "Create task" on an item.

Every step is checked on the server: the command, the "Test connection" button and the
submission each ask whether the person is an admin (a modal can be replayed). The token typed in
the modal is saved apart from the other settings and never put back into a view, a message or a
log line; connection errors come from the adapters' HTTP client, which blanks it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.action_items.views import CREATE_TASK
from bot.runtime import Runtime
from bot.slack import state
from bot.slack.views import notice_view
from bot.trackers import adapters, service, views
from bot.trackers import settings as tracker_settings
from bot.trackers.base import TrackerError
from storage import reviews as store
from storage import trackers as tracker_store
from storage.db import transaction
from storage.trackers import NONE, TRACKER_NAMES

log = logging.getLogger(__name__)

NOT_ADMIN = (
    "Only admins can change the tracker settings: ask a Slack workspace admin or one of "
    "POSTMORTEM_ADMINS."
)
TEST_TIMEOUT = 5.0  # seconds: Slack shows the button as busy until we answer the click


def _form(values: dict[str, Any]) -> tracker_settings.Form:
    return tracker_settings.Form(
        tracker=state.option(values, "tracker") or NONE,
        target=state.text(values, "target"),
        api_url=state.text(values, "api_url").rstrip("/"),
        email=state.text(values, "email"),
        auth=state.one_of(state.option(values, "auth"), views.AUTHS) or "basic",
        token=state.text(values, "token"),
    )


def _modal_args(rt: Runtime, team: str) -> dict[str, Any]:
    """What the modal shows now: the workspace's choice, else the environment's (no token)."""
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team)
        ws_settings = dict(ws.settings or {})
    chosen = tracker_settings.from_workspace(rt, ws_settings)
    from_env = tracker_store.saved_choice(ws_settings) is None
    if chosen is None:
        source = "" if from_env else "Currently: none."
        return {"tracker": NONE, "source": source}
    field, _, _ = tracker_settings.TARGETS[chosen.name]
    return {
        "tracker": chosen.name,
        "target": getattr(chosen, field),
        "api_url": chosen.api_url,
        "email": chosen.email,
        "auth": chosen.auth,
        "has_token": bool(chosen.token),
        "source": (
            f"Currently: {TRACKER_NAMES[chosen.name]}"
            + (", from the bot's environment (saving here overrides it)." if from_env else ".")
        ),
    }


def tracker_command(
    rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient
) -> None:
    """`/postmortem tracker`: the settings modal, for admins."""
    if not rt.is_admin(command["user_id"]):
        respond(text=NOT_ADMIN, response_type="ephemeral")
        return
    client.views_open(
        trigger_id=command["trigger_id"],
        view=views.settings_modal(**_modal_args(rt, command["team_id"])),
    )


def _saved_token(rt: Runtime, team: str, tracker: str) -> str:
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team)
        return tracker_store.saved_token(ws.settings or {}, tracker)


def connection_test(rt: Runtime, team: str, form: tracker_settings.Form) -> tuple[bool, str]:
    """Sign in with what the form says (the saved token when none was typed)."""
    if form.tracker == NONE:
        return False, "Choose a tracker first."
    saved = _saved_token(rt, team, form.tracker)
    problems = tracker_settings.errors_of(form, bool(saved))
    if problems:
        return False, " ".join(problems.values())
    chosen = tracker_settings.settings_of(rt, form, saved)
    assert chosen is not None  # a known tracker: checked by errors_of
    tracker = adapters.make(chosen, rt.settings.timezone)
    http = getattr(tracker, "http", None)
    if http is not None:
        http.timeout = TEST_TIMEOUT
    try:
        return True, tracker.check()
    except TrackerError as exc:  # the message never holds the token (bot/trackers/http.py)
        return False, str(exc)


def test_clicked(ack: Ack, body: dict, client: WebClient, rt: Runtime) -> None:
    """ "Test connection": try the form's settings and show the outcome in the modal."""
    ack()
    view = body["view"]
    form = _form(view["state"]["values"])
    if not rt.is_admin(body["user"]["id"]):
        ok, text = False, NOT_ADMIN
    else:
        ok, text = connection_test(rt, body["team"]["id"], form)
    log.info("tracker connection test (%s): %s", form.tracker, "ok" if ok else "failed")
    args = {
        **_modal_args(rt, body["team"]["id"]),
        **_shown(form),
        "result": views.test_result(ok, text),
    }
    # No `hash`: the outcome replaces the form whatever was typed meanwhile (Slack keeps what is
    # typed in inputs whose block and action ids stay the same).
    client.views_update(view_id=view["id"], view=views.settings_modal(**args))


def _shown(form: tracker_settings.Form) -> dict[str, Any]:
    """The form's values to show again (never the token)."""
    return {
        "tracker": form.tracker,
        "target": form.target,
        "api_url": form.api_url,
        "email": form.email,
        "auth": form.auth,
    }


def settings_submitted(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    """Save the admin's choice; the token only when one was typed."""
    user = body["user"]["id"]
    if not rt.is_admin(user):
        ack(response_action="errors", errors={"tracker": NOT_ADMIN})
        return
    form = _form(view["state"]["values"])
    if form.tracker == NONE:
        form = replace(form, target="", api_url="", email="", token="")
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, body["team"]["id"])
        saved = tracker_store.saved_token(ws.settings or {}, form.tracker)
        errors = tracker_settings.errors_of(form, bool(saved))
        if errors:
            ack(response_action="errors", errors=errors)
            return
        tracker_settings.save(session, ws, form)
        store.audit(
            session,
            ws.id,
            user,
            "tracker.settings_changed",
            tracker=form.tracker,
            target=form.target,
            token_changed=bool(form.token),  # never the token itself
        )
    name = TRACKER_NAMES.get(form.tracker)
    ack(
        response_action="update",
        view=notice_view(
            "Tracker settings",
            f"Saved. New action items are filed in {name} ({form.target})."
            if name
            else "Saved. Action items stay in Slack only; no tasks are filed.",
        ),
    )


def create_clicked(ack: Ack, body: dict, action: dict, respond: Respond, rt: Runtime) -> None:
    """ "Create task" on an item's card: file it through the outbox (exactly once)."""
    ack()
    try:
        item_id = int(action.get("value") or "")
    except ValueError:
        respond(text="That button is out of date.", replace_original=False)
        return
    text = service.request_task(rt, item_id, body["user"]["id"])
    respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.action(CREATE_TASK)(create_clicked)
    app.action(views.TEST)(test_clicked)
    app.view(views.CALLBACK)(settings_submitted)

"""The workspace's tracker: chosen by an admin in Slack, else the environment's.

The choice and its target (list, project, team, repository) live in
`Workspace.settings["trackers"]`; the token lives apart, in
`Workspace.settings["tracker_credentials"]` (storage/trackers.py), so nothing that shows or
exports the ordinary settings carries it. The webhook secrets stay in the environment
(`<NAME>_WEBHOOK_SECRET`). The bot serves the one workspace of its bot token, so "the workspace"
is the first one on record.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import TRACKER_DEFAULT_URLS, TRACKERS, TrackerSettings
from bot.runtime import Runtime
from storage import trackers as store
from storage.models import Workspace

# Where tasks go, per tracker: the TrackerSettings field, what it is called, how to check it.
TARGETS = {
    "clickup": ("list_id", "ClickUp list id", re.compile(r"^[0-9]+$")),
    "jira": ("project_key", "Jira project key", re.compile(r"^[A-Z][A-Z0-9_]{1,9}$")),
    "linear": ("team_id", "Linear team id", re.compile(r"^[\w-]{1,64}$")),
    "github": ("repository", "GitHub repository (owner/name)", re.compile(r"^[\w.-]+/[\w.-]+$")),
}
URL = re.compile(r"^https?://[^/\s]+\S*$")


def workspace(session: Session) -> Workspace | None:
    """The bot's workspace (one bot token, one workspace)."""
    return session.scalars(select(Workspace).order_by(Workspace.id).limit(1)).first()


def from_workspace(rt: Runtime, ws_settings: Mapping[str, Any] | None) -> TrackerSettings | None:
    """The tracker in effect: the workspace's choice when an admin made one, else the env's."""
    saved = store.saved_choice(ws_settings or {})
    if saved is None:
        return rt.settings.tracker
    name = str(saved.get("tracker") or store.NONE)
    if name not in TRACKERS:
        return None
    field, _, _ = TARGETS[name]
    env = rt.settings.tracker if rt.settings.tracker and rt.settings.tracker.name == name else None
    return TrackerSettings(
        name=name,
        api_url=str(saved.get("api_url") or TRACKER_DEFAULT_URLS.get(name, "")).rstrip("/"),
        token=store.saved_token(ws_settings or {}, name),
        webhook_secret=rt.settings.tracker_webhook_secrets.get(name),
        email=str(saved.get("email") or ""),
        auth=str(saved.get("auth") or "basic"),
        issue_type=env.issue_type if env else "Task",
        **{field: str(saved.get("target") or "")},
    )


def current(rt: Runtime, session: Session | None = None) -> TrackerSettings | None:
    """The tracker in effect now (read from the database each time: an admin may change it)."""
    if session is not None:
        ws = workspace(session)
        return from_workspace(rt, ws.settings if ws else None)
    with rt.sessions() as own:
        ws = workspace(own)
        return from_workspace(rt, ws.settings if ws else None)


@dataclass(frozen=True)
class Form:
    """What an admin entered in the settings modal (the token only if they typed one)."""

    tracker: str  # a tracker name, or "none"
    target: str = ""
    api_url: str = ""
    email: str = ""
    auth: str = "basic"
    token: str = ""


def errors_of(form: Form, has_saved_token: bool) -> dict[str, str]:
    """Per-block errors of the modal; empty when the form can be saved."""
    if form.tracker == store.NONE:
        return {}
    if form.tracker not in TRACKERS:
        return {"tracker": "Choose a tracker, or None."}
    errors: dict[str, str] = {}
    _, label, pattern = TARGETS[form.tracker]
    if not pattern.match(form.target):
        errors["target"] = {
            "clickup": "Give the list's number (from its URL), e.g. 901234.",
            "jira": "Give a project key such as PM (capital letters).",
            "linear": "Give the team's id (Linear: Settings → Teams → copy the id).",
            "github": "Give the repository as owner/name, e.g. acme/support.",
        }[form.tracker]
    if form.api_url and not URL.match(form.api_url):
        errors["api_url"] = "Give an http(s) URL, or leave it empty for the default."
    if form.tracker == "jira" and not form.api_url:
        errors["api_url"] = "Give your Jira site, e.g. https://acme.atlassian.net."
    if form.tracker == "jira" and form.auth == "basic" and "@" not in form.email:
        errors["email"] = "Jira Cloud signs in with the e-mail the API token belongs to."
    if not form.token and not has_saved_token:
        errors["token"] = f"Paste the token the bot uses for {label.split()[0]}."
    return errors


def settings_of(rt: Runtime, form: Form, saved_token: str) -> TrackerSettings | None:
    """The form as tracker settings (for a connection test before anything is saved)."""
    if form.tracker not in TRACKERS:
        return None
    field, _, _ = TARGETS[form.tracker]
    return TrackerSettings(
        name=form.tracker,
        api_url=(form.api_url or TRACKER_DEFAULT_URLS.get(form.tracker, "")).rstrip("/"),
        token=form.token or saved_token,
        webhook_secret=rt.settings.tracker_webhook_secrets.get(form.tracker),
        email=form.email,
        auth=form.auth,
        **{field: form.target},
    )


def save(session: Session, ws: Workspace, form: Form) -> None:
    """Store the choice; the token only when one was typed (empty keeps the saved one)."""
    ws.settings = store.with_choice(
        dict(ws.settings or {}),
        {
            "tracker": form.tracker,
            "target": form.target,
            "api_url": form.api_url,
            "email": form.email,
            "auth": form.auth,
        },
        token=form.token or None,
    )

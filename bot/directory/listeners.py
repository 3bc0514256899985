"""`user_change`: a person's profile changed (timezone, admin rights, deactivated).

Reminders are timed by the owner's timezone from a directory read once a day; without this a
person who moves from Sydney to Perth would be reminded on Sydney's working day until tomorrow.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.runtime import Runtime


def user_changed(event: dict[str, Any], rt: Runtime) -> None:
    user = event.get("user")
    if isinstance(user, dict):
        rt.people.user_changed(user)


def register(app: App) -> None:
    """Route this feature's Slack events to its listener functions."""
    app.event("user_change")(user_changed)

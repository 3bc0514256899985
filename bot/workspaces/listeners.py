"""`app_uninstalled` and `tokens_revoked`: the workspace leaves, and nothing is sent there again."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.runtime import Runtime
from bot.workspaces import service


def app_uninstalled(context: BoltContext, rt: Runtime) -> None:
    service.leave(rt, team_id=context.team_id, enterprise_id=context.enterprise_id)


def tokens_revoked(event: dict[str, Any], context: BoltContext, rt: Runtime) -> None:
    """Only a revoked bot token ends the install (user tokens are not used by this app)."""
    if (event.get("tokens") or {}).get("bot"):
        service.leave(rt, team_id=context.team_id, enterprise_id=context.enterprise_id)


def register(app: App) -> None:
    """Route this feature's Slack events to its listener functions."""
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)

"""What happens when a workspace arrives (its org is remembered) and when it leaves."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.runtime import Runtime
from storage import outbox
from storage.db import transaction
from storage.models import Workspace

log = logging.getLogger(__name__)
LEFT = "the workspace uninstalled the app"


def leave(rt: Runtime, *, team_id: str | None, enterprise_id: str | None) -> list[str]:
    """The app was uninstalled (or its bot token revoked): forget the installation, stop the
    workspace's jobs (they visit installed workspaces only) and fail its pending effects.

    An org-wide uninstall (no team) ends every workspace of the org. Returns the teams that left.
    """
    tokens = rt.tokens
    store = getattr(tokens, "store", None)
    if store is None:  # one SLACK_BOT_TOKEN: nothing is stored to remove
        log.warning("app uninstalled from %s; SLACK_BOT_TOKEN mode keeps no installation", team_id)
        return []
    if team_id:
        store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        store.delete_installation(enterprise_id=enterprise_id, team_id=team_id)
        teams = [team_id]
    else:
        store.delete_bot(enterprise_id=enterprise_id, team_id=None)
        store.delete_installation(enterprise_id=enterprise_id, team_id=None)
        with Session(rt.engine) as session:
            teams = list(
                session.scalars(
                    select(Workspace.team_id).where(Workspace.enterprise_id == enterprise_id)
                )
            )
    for team in teams:
        if tokens is not None and tokens.bot_token(team, enterprise_id):
            continue  # still served (an org-wide install outlives a workspace's own)
        rt.forget(team)
        with transaction(rt.sessions) as session:
            dropped = outbox.fail_for_team(session, team, LEFT)
        log.info(
            "workspace %s left: installation removed, %d pending effects failed", team, dropped
        )
    return teams

"""Everything the database holds for one Slack workspace: exported whole, or deleted whole.

For a customer's data request (`postmortem-bot workspace export|delete T…`). The rows are read
through a session scoped to the team (storage/tenancy.py), so a table that carries a workspace,
review or action item is included without being listed here; installations are exported without
their tokens, and the workspace's settings without the tracker token an admin saved.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, Table, delete, select
from sqlalchemy.orm import Session

from storage import installations, reviews, tenancy, trackers
from storage.db import team_session_factory
from storage.models import Workspace
from storage.outbox import Effect

SECRET_COLUMNS = frozenset({"bot_token", "bot_refresh_token", "user_token", "user_refresh_token"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _team_tables() -> list[type[Any]]:
    """The mapped classes scoped to a team (storage/tenancy.py decides which)."""
    return [Workspace, *(cls for cls, _ in tenancy.scoped_classes())]


def export(engine: Engine, team_id: str) -> dict[str, Any]:
    """Every row of the workspace, table by table (empty tables included), as plain JSON values."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with team_session_factory(engine, team_id)() as session:
        for cls in _team_tables():
            table: Table = cls.__table__
            rows = session.scalars(select(cls).order_by(*table.primary_key.columns))
            tables[table.name] = [
                {c.key: _plain(getattr(row, c.key)) for c in cls.__mapper__.column_attrs}
                for row in rows
            ]
        for row in tables["workspaces"]:  # a tracker token an admin saved stays in the database
            row["settings"] = trackers.without_credentials(row.get("settings") or {})
        effects = session.scalars(select(Effect).where(Effect.team_id == team_id))
        tables["outbox"] = [
            {c.key: _plain(getattr(e, c.key)) for c in Effect.__mapper__.column_attrs}
            for e in effects
        ]
        for table in (installations.installations, installations.bots):
            found = session.execute(select(table).where(table.c.team_id == team_id)).mappings()
            tables[table.name] = [
                {k: _plain(v) for k, v in row.items() if k not in SECRET_COLUMNS} for row in found
            ]
    return {"team_id": team_id, "tables": tables}


def exists(engine: Engine, team_id: str) -> bool:
    with Session(engine) as session:
        known = session.scalar(select(Workspace.id).where(Workspace.team_id == team_id))
        installed = session.scalar(
            select(installations.bots.c.id).where(installations.bots.c.team_id == team_id)
        )
    return known is not None or installed is not None


def delete_all(engine: Engine, team_id: str) -> None:
    """The workspace row (its reviews, items, digests... go with it: ON DELETE CASCADE), its
    outbox effects and its installations, in one transaction."""
    with Session(engine) as session, session.begin():
        assert tenancy.team_of(session) is None  # an unscoped session: deletes by team below
        session.execute(delete(Workspace).where(Workspace.team_id == team_id))
        session.execute(delete(Effect).where(Effect.team_id == team_id))
        for table in (installations.installations, installations.bots):
            session.execute(delete(table).where(table.c.team_id == team_id))


WEBHOOK_KEY = "webhook_token_sha256"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_webhook_token(engine: Engine, team_id: str, token: str) -> None:
    """The workspace's own helpdesk webhook token (only its SHA-256 is kept)."""
    with Session(engine) as session, session.begin():
        row = reviews.workspace(session, team_id)
        row.settings = {**(row.settings or {}), WEBHOOK_KEY: _digest(token)}


def team_of_webhook_token(engine: Engine, token: str) -> str | None:
    """The workspace a webhook's bearer token belongs to (None: no workspace has it)."""
    if not token:
        return None
    wanted = _digest(token)
    with Session(engine) as session:
        for team_id, settings in session.execute(select(Workspace.team_id, Workspace.settings)):
            stored = str((settings or {}).get(WEBHOOK_KEY) or "")
            if stored and hmac.compare_digest(stored, wanted):
                return str(team_id)
    return None

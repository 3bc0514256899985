"""What every listener needs, built once at start-up and passed in (no module globals)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.slack.client import make_client
from bot.slack.people import AdminCheck, People
from storage.db import session_factory
from workflows.loader import Registry


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    registry: Registry
    client: WebClient
    people: People
    is_admin: AdminCheck
    delivery_due: threading.Event = field(default_factory=threading.Event, repr=False)
    """Set after a commit that recorded side effects: wakes this process's delivery worker."""
    _team_id: str | None = field(default=None, repr=False)
    _team_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def team_id(self) -> str:
        """The bot token's own workspace (auth.test), asked once: webhooks and jobs name none."""
        with self._team_lock:
            if self._team_id is None:
                self._team_id = str(self.client.auth_test()["team_id"])
            return self._team_id


def build_runtime(settings: Settings, engine: Engine, client: WebClient | None = None) -> Runtime:
    client = client or make_client(settings.bot_token, settings.api_url)
    people = People(client)
    return Runtime(settings=settings, engine=engine, sessions=session_factory(engine),
                   registry=Registry.load(settings.workflows_dir), client=client,
                   people=people, is_admin=AdminCheck(people, settings.admins))

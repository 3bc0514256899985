"""What every listener needs, built once at start-up and passed in (no module globals)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import cast

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.observability.metrics import Metrics
from bot.slack.client import make_client
from bot.slack.pacing import PacedSender
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
    sender: PacedSender
    """Bulk sending (reminders, the outbox): several at a time, one per channel, paced."""
    metrics: Metrics = field(default_factory=Metrics, repr=False)
    """This process's figures for `GET /metrics` (bot/observability/metrics.py)."""
    delivery_due: threading.Event = field(default_factory=threading.Event, repr=False)
    """Set after a commit that recorded side effects: wakes this process's delivery worker."""
    _team_id: str | None = field(default=None, repr=False)
    _team_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _paced: Runtime | None = field(default=None, repr=False, compare=False)

    def team_id(self) -> str:
        """The bot token's own workspace (auth.test), asked once: webhooks and jobs name none."""
        with self._team_lock:
            if self._team_id is None:
                self._team_id = str(self.client.auth_test()["team_id"])
            return self._team_id

    def paced(self) -> Runtime:
        """This runtime with the bulk sender's client: every Slack call its code makes waits its
        turn under the process's shared pace, and 429s are waited out there. (One copy, kept, so
        what it caches, such as the team id, is asked once.)"""
        if self._paced is None:
            copy = replace(self, client=cast(WebClient, self.sender.client))
            copy._paced = copy
            self._paced = copy
        return self._paced


def build_runtime(settings: Settings, engine: Engine, client: WebClient | None = None) -> Runtime:
    # The bulk sender owns its 429s (a client without slack_sdk's rate-limit handler); a client
    # handed in (a test's) is paced as it is.
    metrics = Metrics()
    sessions = session_factory(engine)
    metrics.watch_outbox(sessions)
    bulk = client or make_client(
        settings.bot_token, settings.api_url, retry_rate_limits=False, metrics=metrics
    )
    client = client or make_client(settings.bot_token, settings.api_url, metrics=metrics)
    people = People(client)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        metrics=metrics,
        registry=Registry.load(settings.workflows_dir),
        client=client,
        people=people,
        is_admin=AdminCheck(people, settings.admins),
        sender=PacedSender(bulk),
    )

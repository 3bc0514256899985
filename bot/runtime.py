"""What every listener needs, built once at start-up and passed in (no module globals)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Protocol, cast

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.observability.metrics import Metrics
from bot.slack.client import make_client
from bot.slack.pacing import PacedSender
from bot.slack.people import AdminCheck, People
from storage.db import session_factory, team_session_factory
from workflows.loader import Registry


class NotInstalled(Exception):
    """No installation serves this workspace (never installed, or uninstalled): send nothing."""

    def __init__(self, team_id: str) -> None:
        super().__init__(f"the app is not installed in workspace {team_id}")
        self.team_id = team_id


class NoTeamChosen(RuntimeError):
    """Many workspaces are installed and nothing says which one a command is for (the CLI
    turns this into one line naming the setting and the choices)."""

    def __init__(self, installed: list[str]) -> None:
        teams = ", ".join(installed) or "none yet"
        super().__init__(
            f"many workspaces can be installed (installed: {teams}): "
            "choose one with POSTMORTEM_TEAM_ID=T…"
        )
        self.installed = installed


class TokenSource(Protocol):
    """Where a workspace's bot token comes from in OAuth mode (bot/workspaces/installs.py)."""

    def bot_token(self, team_id: str, enterprise_id: str | None = None) -> str | None: ...

    def installed_teams(self) -> list[str]: ...

    def remember_org(self, team_id: str, enterprise_id: str | None) -> None: ...


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
    tokens: TokenSource | None = field(default=None, repr=False, compare=False)
    """OAuth mode: each workspace's token from its installation (None: the one SLACK_BOT_TOKEN)."""
    _teams: dict[tuple[str, str], Runtime] = field(default_factory=dict, repr=False, compare=False)
    _root: Runtime | None = field(default=None, repr=False, compare=False)

    def for_team(
        self, team_id: str, enterprise_id: str | None = None, *, token: str | None = None
    ) -> Runtime:
        """This runtime for one workspace: its token's client, people and sender, and sessions
        that see only its rows (storage/tenancy.py). With one SLACK_BOT_TOKEN: this runtime.

        `token` is the one Bolt already authorized for the request; without it (jobs, effects)
        the installation store is asked, and `NotInstalled` says the workspace has left.
        """
        if self.tokens is None:
            return self
        if self._root is not None:  # already one team's: itself, or ask the process's runtime
            if self._team_id == team_id and token in (None, self.client.token):
                return self
            return self._root.for_team(team_id, enterprise_id, token=token)
        token = token or self.tokens.bot_token(team_id, enterprise_id)
        if not token:
            raise NotInstalled(team_id)
        with self._team_lock:
            found = self._teams.get((team_id, token))
            if found is None:
                client = make_client(token, self.settings.api_url, metrics=self.metrics)
                bulk = make_client(
                    token, self.settings.api_url, retry_rate_limits=False, metrics=self.metrics
                )
                people = People(client)
                found = replace(
                    self,
                    client=client,
                    people=people,
                    is_admin=AdminCheck(people, self.settings.admins),
                    sender=PacedSender(bulk, foreground=self.sender.foreground),
                    sessions=team_session_factory(self.engine, team_id),
                    _root=self,
                    _team_id=team_id,
                    _team_lock=threading.Lock(),
                    _paced=None,
                    _teams={},
                )
                self._teams = {
                    key: rt for key, rt in self._teams.items() if key[0] != team_id
                }  # a new token (reinstall) replaces the old one's runtime
                self._teams[(team_id, token)] = found
            return found

    @property
    def team(self) -> str | None:
        """The workspace this runtime is for (None: the process's runtime)."""
        return self._team_id if self._root is not None else None

    def each_team(self) -> list[Runtime]:
        """The runtime of every workspace served: this one alone with one SLACK_BOT_TOKEN."""
        if self.tokens is None:
            return [self]
        found = []
        for team_id in self.tokens.installed_teams():
            try:
                found.append(self.for_team(team_id))
            except NotInstalled:  # uninstalled between the two reads
                continue
        return found

    def forget(self, team_id: str) -> None:
        """Drop a workspace's cached runtime (it uninstalled the app)."""
        with self._team_lock:
            self._teams = {key: rt for key, rt in self._teams.items() if key[0] != team_id}

    def team_id(self) -> str:
        """The bot token's own workspace (auth.test), asked once: webhooks and jobs name none.

        A runtime `for_team` knows its team without asking."""
        with self._team_lock:
            if self._team_id is None and self.tokens is not None:
                raise NoTeamChosen(self.tokens.installed_teams())
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
    tokens = None
    if settings.oauth is not None:  # many workspaces: each one's token from its installation
        from bot.workspaces.installs import InstalledTokens, installation_store

        tokens = InstalledTokens(installation_store(engine, settings.oauth.client_id), engine)
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
        tokens=tokens,
    )

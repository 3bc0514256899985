"""What every listener needs, built once at start-up and passed in (no module globals)."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.people import AdminCheck, People
from bot.slack_client import make_client
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


def build_runtime(settings: Settings, engine: Engine, client: WebClient | None = None) -> Runtime:
    client = client or make_client(settings.bot_token, settings.api_url)
    people = People(client)
    return Runtime(settings=settings, engine=engine, sessions=session_factory(engine),
                   registry=Registry.load(settings.workflows_dir), client=client,
                   people=people, is_admin=AdminCheck(people, settings.admins))

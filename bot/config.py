"""Settings from the environment, checked once at start-up.

A missing or malformed setting stops the bot with one line naming the variable, instead of a
failure on the first Slack request hours later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.db import DatabaseURLError, normalise_url
from workflows.au import abn
from workflows.calendar import AU_STATES

SLACK_API_DEFAULT = "https://slack.com/api/"
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    bot_token: str
    signing_secret: str
    app_token: str | None = None
    api_url: str = SLACK_API_DEFAULT
    database_url: str = "sqlite:///postmortem.db"
    admins: frozenset[str] = field(default_factory=frozenset)
    timezone: str = "Australia/Sydney"
    state: str = "NSW"
    workflows_dir: Path | None = None
    listener_threads: int = 64
    seller_name: str = ""
    seller_abn: str = ""
    safety_channel: str | None = None
    safety_officers: frozenset[str] = field(default_factory=frozenset)
    escalation_channel: str | None = None  # systemic issues go here; else admins are DMed

    def __repr__(self) -> str:  # secrets never end up in logs through a repr
        return (f"Settings(api_url={self.api_url!r}, database_url=<set>, "
                f"socket_mode={self.app_token is not None}, timezone={self.timezone!r})")


def workflows_dir(env: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if env is None else env
    raw = env.get("POSTMORTEM_WORKFLOWS_DIR")
    if not raw:
        return None
    path = Path(raw)
    if not path.is_dir():
        raise ConfigError(f"POSTMORTEM_WORKFLOWS_DIR: {raw} is not a folder")
    return path


def _required(env: Mapping[str, str], name: str, prefix: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: copy it from your Slack app's settings")
    if prefix and not value.startswith(prefix):
        raise ConfigError(f"{name} must start with {prefix!r}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must start with 'xapp-' (an app-level token)")
    bot_token = _required(env, "SLACK_BOT_TOKEN", "xoxb-")
    # Socket Mode requests come over the app's own websocket, so they need no signature.
    signing_secret = (env.get("SLACK_SIGNING_SECRET", "").strip() if app_token
                      else _required(env, "SLACK_SIGNING_SECRET", ""))
    api_url = env.get("SLACK_API_URL", "").strip() or SLACK_API_DEFAULT
    if not re.match(r"^https?://[^/]+", api_url):
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
    if not api_url.endswith("/"):
        api_url += "/"  # slack_sdk joins method names with urljoin
    try:
        database_url = normalise_url(env.get("DATABASE_URL") or "sqlite:///postmortem.db")
    except DatabaseURLError as exc:
        raise ConfigError(str(exc)) from None
    admins = frozenset(a.strip() for a in env.get("POSTMORTEM_ADMINS", "").split(",")
                       if a.strip())
    for admin in admins:
        if not USER_ID.match(admin):
            raise ConfigError(f"POSTMORTEM_ADMINS: {admin!r} is not a Slack user id (U…)")
    timezone = env.get("POSTMORTEM_TIMEZONE", "").strip() or "Australia/Sydney"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"POSTMORTEM_TIMEZONE: unknown timezone {timezone!r}") from None
    state = env.get("POSTMORTEM_STATE", "").strip().upper() or "NSW"
    if state not in AU_STATES:
        raise ConfigError(f"POSTMORTEM_STATE must be one of {', '.join(AU_STATES)}")
    threads_raw = env.get("POSTMORTEM_LISTENER_THREADS", "64")
    if not threads_raw.isdigit() or not 1 <= int(threads_raw) <= 512:
        raise ConfigError("POSTMORTEM_LISTENER_THREADS must be a whole number from 1 to 512")
    officers = frozenset(a.strip() for a in env.get("POSTMORTEM_SAFETY_OFFICERS", "").split(",")
                         if a.strip())
    for officer in officers:
        if not USER_ID.match(officer):
            raise ConfigError(f"POSTMORTEM_SAFETY_OFFICERS: {officer!r} is not a Slack user id")
    safety_channel = env.get("POSTMORTEM_SAFETY_CHANNEL", "").strip() or None
    if safety_channel and not re.match(r"^[CG][A-Z0-9]{2,}$", safety_channel):
        raise ConfigError("POSTMORTEM_SAFETY_CHANNEL must be a channel id (C…), not a name")
    seller_abn = env.get("POSTMORTEM_SELLER_ABN", "").strip()
    if seller_abn and (problem := abn.validation_error(seller_abn)):
        raise ConfigError(f"POSTMORTEM_SELLER_ABN: {problem}")
    escalation_channel = env.get("POSTMORTEM_ESCALATION_CHANNEL", "").strip() or None
    if escalation_channel and not re.match(r"^[CG][A-Z0-9]{2,}$", escalation_channel):
        raise ConfigError("POSTMORTEM_ESCALATION_CHANNEL must be a channel id (C…), not a name")
    return Settings(bot_token=bot_token, signing_secret=signing_secret, app_token=app_token,
                    api_url=api_url, database_url=database_url, admins=admins,
                    timezone=timezone, state=state, workflows_dir=workflows_dir(env),
                    listener_threads=int(threads_raw),
                    seller_name=env.get("POSTMORTEM_SELLER_NAME", "").strip(),
                    seller_abn=abn.format(seller_abn) if seller_abn else "",
                    safety_channel=safety_channel, safety_officers=officers,
                    escalation_channel=escalation_channel)

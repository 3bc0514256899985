"""Settings from the environment, checked once at start-up.

A missing or malformed setting stops the bot with one line naming the variable, instead of a
failure on the first Slack request hours later.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url

from storage.db import DEFAULT_URL, DatabaseURLError, normalise_url
from workflows.au import abn
from workflows.calendar import AU_STATES
from workflows.meetings import parse_every_weeks, parse_meeting_time

SLACK_API_DEFAULT = "https://slack.com/api/"
SLACK_AUTHORIZE_DEFAULT = "https://slack.com/oauth/v2/authorize"
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


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
    # `serve`'s processes answering requests (WEB_CONCURRENCY, gunicorn's own name): on
    # PostgreSQL 2 by default, beside one background process for jobs and the outbox; SQLite
    # is served by one process that does both (bot/server.py).
    web_processes: int = 1
    seller_name: str = ""
    seller_abn: str = ""
    safety_channel: str | None = None
    safety_officers: frozenset[str] = field(default_factory=frozenset)
    templates_dir: Path | None = None  # searched before the built-in templates
    # The meeting digest's first-start setting (admins change it in Slack afterwards).
    digest_channel: str | None = None
    meeting_every_weeks: int = 2
    meeting_time: time = time(10, 0)
    first_meeting: date | None = None  # None: the first Wednesday from the first start
    # The helpdesk webhook (README: "Support post-mortems").
    webhook_token: str | None = None  # None: the webhook is off
    support_channel: str | None = None  # where status messages go; None: the owner's DM
    support_stale_days: int = 5  # working days In Progress before the owner is reminded
    escalation_channel: str | None = None  # systemic issues go here; else admins are DMed
    tracker: TrackerSettings | None = None  # README: "Action items in your tracker"
    # Working days an assigned stage may wait before its assignee is reminded (once), and as
    # many again before the review's owner is told (README: "The whole team takes part").
    stage_nudge_days: int = 3
    # POSTMORTEM_SECRET_KEY: keys anonymous survey answers (README: "Feedback survey").
    secret_key: str = ""
    # Each tracker's webhook secret (CLICKUP_WEBHOOK_SECRET…), also for a tracker an admin
    # chooses in Slack later: secrets stay in the environment. Left out of the repr.
    tracker_webhook_secrets: Mapping[str, str] = field(
        default_factory=dict, repr=False, compare=False
    )
    oauth: OAuthSettings | None = None  # README: "Install for many workspaces"; None: one token

    def survey_secret(self) -> bytes:
        """The server secret behind survey respondent keys (workflows/surveys.respondent_key).

        POSTMORTEM_SECRET_KEY when set; otherwise derived from the signing secret (or, in Socket
        Mode without one, the bot token), so a deployment works without a new variable. Changing
        it (or rotating the derived-from secret) makes earlier answers unfindable by their authors:
        they would answer again as new respondents. Set POSTMORTEM_SECRET_KEY to rotate freely.
        """
        if self.secret_key:
            return self.secret_key.encode()
        base = (self.signing_secret or self.bot_token).encode()
        return hmac.new(base, b"postmortem-bot survey respondents", hashlib.sha256).digest()

    def __repr__(self) -> str:  # secrets never end up in logs through a repr
        return (
            f"Settings(api_url={self.api_url!r}, database_url=<set>, "
            f"socket_mode={self.app_token is not None}, timezone={self.timezone!r})"
        )


@dataclass(frozen=True)
class OAuthSettings:
    """Installing through "Add to Slack" (many workspaces) instead of one SLACK_BOT_TOKEN."""

    client_id: str
    client_secret: str = field(repr=False)
    authorize_url: str = SLACK_AUTHORIZE_DEFAULT  # GovSlack: https://slack-gov.com/oauth/v2/...
    redirect_uri: str | None = None  # None: the one set in the app's settings


def _oauth_settings(env: Mapping[str, str]) -> OAuthSettings | None:
    """SLACK_CLIENT_ID and SLACK_CLIENT_SECRET together switch the OAuth install on."""
    client_id = env.get("SLACK_CLIENT_ID", "").strip()
    client_secret = env.get("SLACK_CLIENT_SECRET", "").strip()
    if not client_id and not client_secret:
        return None
    if not client_id or not client_secret:
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise ConfigError(f"{missing} is not set (both are needed for installs through OAuth)")
    authorize_url = env.get("SLACK_AUTHORIZE_URL", "").strip() or SLACK_AUTHORIZE_DEFAULT
    redirect_uri = env.get("SLACK_REDIRECT_URI", "").strip() or None
    for name, url in (("SLACK_AUTHORIZE_URL", authorize_url), ("SLACK_REDIRECT_URI", redirect_uri)):
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            raise ConfigError(f"{name} must be an http(s) URL, got {url!r}")
    return OAuthSettings(client_id, client_secret, authorize_url, redirect_uri)


def _folder(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not Path(raw).is_dir():
        raise ConfigError(f"{name}: {raw} is not a folder")
    return Path(raw)


def workflows_dir(env: Mapping[str, str] | None = None) -> Path | None:
    return _folder(os.environ if env is None else env, "POSTMORTEM_WORKFLOWS_DIR")


def templates_dir(env: Mapping[str, str] | None = None) -> Path | None:
    return _folder(os.environ if env is None else env, "POSTMORTEM_TEMPLATES_DIR")


LOG_FORMATS = ("text", "json")
SECRET_VARIABLES = re.compile(
    r"^(SLACK_(BOT|APP|USER)_TOKEN|SLACK_(SIGNING|CLIENT)_SECRET|POSTMORTEM_WEBHOOK_TOKEN"
    r"|[A-Z]+_(API_TOKEN|API_KEY|WEBHOOK_SECRET)|GITHUB_TOKEN)$"
)
"""The variables whose values never appear in a log line (bot/observability/logs.py)."""


def log_format(env: Mapping[str, str] | None = None) -> str:
    """`POSTMORTEM_LOG_FORMAT`: `text` (default) or `json`, one object per line."""
    env = os.environ if env is None else env
    value = env.get("POSTMORTEM_LOG_FORMAT", "").strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise ConfigError(f"POSTMORTEM_LOG_FORMAT must be text or json, got {value!r}")
    return value


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Every token, key and secret set in the environment, and the database's password."""
    env = os.environ if env is None else env
    values = [v.strip() for k, v in env.items() if SECRET_VARIABLES.match(k) and v.strip()]
    try:
        password = make_url(database_url(env)).password
    except Exception:  # noqa: BLE001 - a malformed URL is reported by load_settings
        password = None
    if password:
        values.append(str(password))
    return values


def database_url(env: Mapping[str, str] | None = None) -> str:
    """DATABASE_URL alone, for the commands that need the database but not Slack (`db ...`)."""
    env = os.environ if env is None else env
    try:
        return normalise_url(env.get("DATABASE_URL") or DEFAULT_URL)
    except DatabaseURLError as exc:
        raise ConfigError(str(exc)) from None


def timezone_name(env: Mapping[str, str] | None = None) -> str:
    """POSTMORTEM_TIMEZONE alone, for commands that need the team's calendar but not Slack."""
    env = os.environ if env is None else env
    timezone = env.get("POSTMORTEM_TIMEZONE", "").strip() or "Australia/Sydney"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"POSTMORTEM_TIMEZONE: unknown timezone {timezone!r}") from None
    return timezone


def _channel(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip() or None
    if value and not CHANNEL_ID.match(value):
        raise ConfigError(f"{name} must be a channel id (C…), not a name like {value!r}")
    return value


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _web_processes(env: Mapping[str, str], url: str) -> int:
    """WEB_CONCURRENCY: 2 by default on PostgreSQL; SQLite allows one (its writes would queue
    on the file's lock across processes, and its outbox has one deliverer)."""
    if url.startswith("sqlite"):
        raw = env.get("WEB_CONCURRENCY", "").strip()
        if raw not in ("", "1"):
            raise ConfigError(
                "WEB_CONCURRENCY: SQLite is served by one process; more need PostgreSQL "
                "(DATABASE_URL)"
            )
        return 1
    return _whole_number(env, "WEB_CONCURRENCY", 2, 1, 32)


def _digest_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The meeting digest's first-start setting: POSTMORTEM_DIGEST_CHANNEL, _MEETING_..."""
    try:
        every = parse_every_weeks(env.get("POSTMORTEM_MEETING_EVERY_WEEKS", "").strip() or "2")
    except ValueError as exc:
        raise ConfigError(f"POSTMORTEM_MEETING_EVERY_WEEKS: {exc}") from None
    try:
        at = parse_meeting_time(env.get("POSTMORTEM_MEETING_TIME", "").strip() or "10:00")
    except ValueError as exc:
        raise ConfigError(f"POSTMORTEM_MEETING_TIME: {exc}") from None
    raw_first = env.get("POSTMORTEM_FIRST_MEETING", "").strip()
    first = None
    if raw_first:
        try:
            first = date.fromisoformat(raw_first)
        except ValueError:
            raise ConfigError(
                f"POSTMORTEM_FIRST_MEETING: {raw_first!r} is not a date like 2026-12-02"
            ) from None
        if first.weekday() != 2:
            raise ConfigError(
                f"POSTMORTEM_FIRST_MEETING: {first} is a {first:%A}; meetings are on Wednesdays"
            )
    return {
        "digest_channel": _channel(env, "POSTMORTEM_DIGEST_CHANNEL"),
        "meeting_every_weeks": every,
        "meeting_time": at,
        "first_meeting": first,
    }


def _ticket_settings(env: Mapping[str, str]) -> dict[str, Any]:
    token = env.get("POSTMORTEM_WEBHOOK_TOKEN", "").strip() or None
    if token is not None and len(token) < 16:
        raise ConfigError("POSTMORTEM_WEBHOOK_TOKEN must be at least 16 characters")
    return {
        "webhook_token": token,
        "support_channel": _channel(env, "POSTMORTEM_SUPPORT_CHANNEL"),
        "support_stale_days": _whole_number(env, "POSTMORTEM_SUPPORT_STALE_DAYS", 5, 1, 60),
    }


# --- the team's issue tracker (README: "Action items in your tracker") -----------------------

TRACKERS = ("clickup", "jira", "linear", "github")
TRACKER_DEFAULT_URLS = {
    "clickup": "https://api.clickup.com/api/v2",
    "linear": "https://api.linear.app/graphql",
    "github": "https://api.github.com",
}
# What each tracker needs besides its URL: (variable, Settings field); the token first.
TRACKER_VARIABLES = {
    "clickup": (("CLICKUP_API_TOKEN", "token"), ("CLICKUP_LIST_ID", "list_id")),
    "jira": (
        ("JIRA_API_TOKEN", "token"),
        ("JIRA_EMAIL", "email"),
        ("JIRA_PROJECT_KEY", "project_key"),
    ),
    "linear": (("LINEAR_API_KEY", "token"), ("LINEAR_TEAM_ID", "team_id")),
    "github": (("GITHUB_TOKEN", "token"), ("GITHUB_REPOSITORY", "repository")),
}
TRACKER_URL_VARIABLES = {
    "clickup": "CLICKUP_API_URL",
    "jira": "JIRA_BASE_URL",
    "linear": "LINEAR_API_URL",
    "github": "GITHUB_API_URL",
}


@dataclass(frozen=True)
class TrackerSettings:
    """The one tracker action items are mirrored to, and how to reach it.

    The token and the webhook secret are left out of the repr, so a logged Settings or an error
    that formats one never shows them.
    """

    name: str
    api_url: str
    token: str = field(repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    list_id: str = ""  # ClickUp
    email: str = ""  # Jira
    project_key: str = ""  # Jira
    issue_type: str = "Task"  # Jira
    team_id: str = ""  # Linear
    repository: str = ""  # GitHub: owner/name
    # Jira: "basic" (Cloud: e-mail + API token) or "bearer" (Data Center/Server: a personal
    # access token sent as `Authorization: Bearer <PAT>`, no e-mail).
    auth: str = "basic"


def _tracker_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """POSTMORTEM_TRACKER and that tracker's variables; none by default."""
    secrets = {
        tracker: value
        for tracker in TRACKERS
        if (value := env.get(f"{tracker.upper()}_WEBHOOK_SECRET", "").strip())
    }
    name = env.get("POSTMORTEM_TRACKER", "").strip().lower()
    if not name:
        return {"tracker": None, "tracker_webhook_secrets": secrets}
    if name not in TRACKERS:
        raise ConfigError(f"POSTMORTEM_TRACKER must be one of {', '.join(TRACKERS)}, not {name!r}")
    values: dict[str, str] = {}
    bearer = name == "jira" and env.get("JIRA_AUTH", "").strip().lower() == "bearer"
    for variable, key in TRACKER_VARIABLES[name]:
        values[key] = env.get(variable, "").strip()
        if not values[key] and not (bearer and key == "email"):
            raise ConfigError(f"{variable} is not set (needed with POSTMORTEM_TRACKER={name})")
    url_variable = TRACKER_URL_VARIABLES[name]
    url = (env.get(url_variable, "").strip() or TRACKER_DEFAULT_URLS.get(name, "")).rstrip("/")
    if not url:
        raise ConfigError(
            f"{url_variable} is not set: your site, e.g. https://example.atlassian.net"
        )
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"{url_variable} must be an http(s) URL, got {url!r}")
    if name == "clickup" and not values["list_id"].isdigit():
        raise ConfigError("CLICKUP_LIST_ID must be the list's number (from its URL)")
    if name == "jira":
        auth = env.get("JIRA_AUTH", "").strip().lower() or "basic"
        if auth not in ("basic", "bearer"):
            raise ConfigError(f"JIRA_AUTH must be basic (Jira Cloud) or bearer, not {auth!r}")
        values["auth"] = auth
        if auth == "basic" and "@" not in values["email"]:
            raise ConfigError("JIRA_EMAIL must be the e-mail address the API token belongs to")
        if not re.match(r"^[A-Z][A-Z0-9_]{1,9}$", values["project_key"]):
            raise ConfigError(
                f"JIRA_PROJECT_KEY must be a project key like PM, not {values['project_key']!r}"
            )
        values["issue_type"] = env.get("JIRA_ISSUE_TYPE", "").strip() or "Task"
    if name == "github" and not re.match(r"^[\w.-]+/[\w.-]+$", values["repository"]):
        raise ConfigError(f"GITHUB_REPOSITORY must be owner/name, not {values['repository']!r}")
    secret = secrets.get(name)
    return {
        "tracker": TrackerSettings(name=name, api_url=url, webhook_secret=secret, **values),
        "tracker_webhook_secrets": secrets,
    }


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
    oauth = _oauth_settings(env)
    if oauth is not None and app_token:
        raise ConfigError(
            "SLACK_APP_TOKEN: the OAuth install (SLACK_CLIENT_ID) needs HTTP for its redirect; "
            "unset SLACK_APP_TOKEN to serve it"
        )
    # With OAuth each workspace's token comes from its installation; SLACK_BOT_TOKEN is unused.
    bot_token = (
        _required(env, "SLACK_BOT_TOKEN", "xoxb-")
        if oauth is None
        else env.get("SLACK_BOT_TOKEN", "").strip()
    )
    # Socket Mode requests come over the app's own websocket, so they need no signature.
    signing_secret = (
        env.get("SLACK_SIGNING_SECRET", "").strip()
        if app_token
        else _required(env, "SLACK_SIGNING_SECRET", "")
    )
    api_url = env.get("SLACK_API_URL", "").strip() or SLACK_API_DEFAULT
    if not re.match(r"^https?://[^/]+", api_url):
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
    if not api_url.endswith("/"):
        api_url += "/"  # slack_sdk joins method names with urljoin
    url = database_url(env)
    admins = frozenset(a.strip() for a in env.get("POSTMORTEM_ADMINS", "").split(",") if a.strip())
    for admin in admins:
        if not USER_ID.match(admin):
            raise ConfigError(f"POSTMORTEM_ADMINS: {admin!r} is not a Slack user id (U…)")
    timezone = timezone_name(env)
    state = env.get("POSTMORTEM_STATE", "").strip().upper() or "NSW"
    if state not in AU_STATES:
        raise ConfigError(f"POSTMORTEM_STATE must be one of {', '.join(AU_STATES)}")
    threads = _whole_number(env, "POSTMORTEM_LISTENER_THREADS", 64, 1, 512)
    processes = _web_processes(env, url)
    officers = frozenset(
        a.strip() for a in env.get("POSTMORTEM_SAFETY_OFFICERS", "").split(",") if a.strip()
    )
    for officer in officers:
        if not USER_ID.match(officer):
            raise ConfigError(f"POSTMORTEM_SAFETY_OFFICERS: {officer!r} is not a Slack user id")
    safety_channel = _channel(env, "POSTMORTEM_SAFETY_CHANNEL")
    seller_abn = env.get("POSTMORTEM_SELLER_ABN", "").strip()
    if seller_abn and (problem := abn.validation_error(seller_abn)):
        raise ConfigError(f"POSTMORTEM_SELLER_ABN: {problem}")
    escalation_channel = env.get("POSTMORTEM_ESCALATION_CHANNEL", "").strip() or None
    if escalation_channel and not re.match(r"^[CG][A-Z0-9]{2,}$", escalation_channel):
        raise ConfigError("POSTMORTEM_ESCALATION_CHANNEL must be a channel id (C…), not a name")
    return Settings(
        bot_token=bot_token,
        signing_secret=signing_secret,
        app_token=app_token,
        api_url=api_url,
        database_url=url,
        admins=admins,
        timezone=timezone,
        state=state,
        workflows_dir=workflows_dir(env),
        listener_threads=threads,
        web_processes=processes,
        seller_name=env.get("POSTMORTEM_SELLER_NAME", "").strip(),
        seller_abn=abn.format(seller_abn) if seller_abn else "",
        safety_channel=safety_channel,
        safety_officers=officers,
        templates_dir=_folder(env, "POSTMORTEM_TEMPLATES_DIR"),
        **_digest_settings(env),
        **_ticket_settings(env),
        escalation_channel=escalation_channel,
        **_tracker_settings(env),
        stage_nudge_days=_whole_number(env, "POSTMORTEM_STAGE_NUDGE_DAYS", 3, 1, 60),
        secret_key=_secret_key(env),
        oauth=oauth,
    )


def _secret_key(env: Mapping[str, str]) -> str:
    key = env.get("POSTMORTEM_SECRET_KEY", "").strip()
    if key and len(key) < 16:
        raise ConfigError("POSTMORTEM_SECRET_KEY must be at least 16 characters")
    return key

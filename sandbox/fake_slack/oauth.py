"""Slack's OAuth v2 install, as the fake plays it: the authorize page and `oauth.v2.access`.

`GET /oauth/v2/authorize?client_id&scope&state&redirect_uri` stands for the person clicking
"Allow": the fake redirects (302) to the app's redirect URL with a one-time `code` and the
`state` it was given, for the workspace `FakeSlack.next_install` named (default: the first).
`oauth.v2.access` exchanges the code for that workspace's bot token, answering in Slack's shape
(team, enterprise, is_enterprise_install, bot_user_id, access_token, scope, authed_user) and
with Slack's errors (invalid_code, bad_client_secret, bad_redirect_uri, invalid_client_id,
bad_redirect_uri...). A code is good once, for ten minutes.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .store import APP_ID, BOT_ID, BOT_USER_ID, ApiError

CODE_TTL = 600.0


@dataclass
class App:
    """The Slack app as registered: its credentials and allowed redirect URLs."""

    client_id: str
    client_secret: str
    redirect_urls: tuple[str, ...] = ()


@dataclass
class Grant:
    """What an issued code stands for."""

    team_id: str | None  # None: an org-wide install
    enterprise_id: str | None
    user_id: str
    scope: str
    redirect_uri: str | None
    expires: float


@dataclass
class Install:
    """Who the next "Allow" click is: a workspace (or an org) and the person installing."""

    team_id: str | None
    enterprise_id: str | None
    user_id: str


def authorize(fake: object, query: str) -> tuple[int, dict[str, str], str]:
    """The answer to GET /oauth/v2/authorize: a redirect with a code, or Slack's error page."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    app: App | None = getattr(fake, "oauth_app", None)
    if app is None or params.get("client_id") != app.client_id:
        return 400, {}, "invalid_client_id"
    redirect = params.get("redirect_uri") or (app.redirect_urls[0] if app.redirect_urls else "")
    if not redirect or (app.redirect_urls and redirect not in app.redirect_urls):
        return 400, {}, "bad_redirect_uri"
    install: Install = fake.next_install()  # type: ignore[attr-defined]
    code = secrets.token_hex(8)
    fake.oauth_codes[code] = Grant(  # type: ignore[attr-defined]
        install.team_id,
        install.enterprise_id,
        install.user_id,
        params.get("scope", ""),
        params.get("redirect_uri"),
        time.monotonic() + CODE_TTL,
    )
    parts = urlsplit(redirect)
    extra = urlencode({"code": code, "state": params.get("state", "")})
    query_out = f"{parts.query}&{extra}" if parts.query else extra
    return 302, {"Location": urlunsplit(parts._replace(query=query_out))}, ""


def access(fake: object, params: dict, basic: tuple[str, str] | None) -> dict:
    """oauth.v2.access: client_id and client_secret (form fields or HTTP Basic), code,
    redirect_uri (must match the one the code was issued for, when that named one)."""
    app: App | None = getattr(fake, "oauth_app", None)
    client_id, client_secret = basic or (params.get("client_id"), params.get("client_secret"))
    if app is None or client_id != app.client_id:
        raise ApiError("invalid_client_id")
    if client_secret != app.client_secret:
        raise ApiError("bad_client_secret")
    code = str(params.get("code") or "")
    grant = fake.oauth_codes.pop(code, None)  # type: ignore[attr-defined]
    if grant is None or grant.expires < time.monotonic():
        raise ApiError("invalid_code")
    if grant.redirect_uri and params.get("redirect_uri") != grant.redirect_uri:
        raise ApiError("bad_redirect_uri")
    token = fake.issue_bot_token(grant.team_id, grant.enterprise_id)  # type: ignore[attr-defined]
    team = None
    if grant.team_id is not None:
        ws = fake.workspaces[grant.team_id]  # type: ignore[attr-defined]
        team = {"id": ws.team_id, "name": ws.team_name}
    enterprise = (
        {"id": grant.enterprise_id, "name": grant.enterprise_id} if grant.enterprise_id else None
    )
    return {
        "access_token": token,
        "token_type": "bot",
        "scope": grant.scope,
        "bot_user_id": BOT_USER_ID,
        "app_id": APP_ID,
        "bot_id": BOT_ID,
        "team": team,
        "enterprise": enterprise,
        "is_enterprise_install": grant.team_id is None,
        "authed_user": {"id": grant.user_id},
    }

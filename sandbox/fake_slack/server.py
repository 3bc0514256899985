"""``FakeSlack``: a local stand-in for Slack's Web API (and its human side).

* ``POST /api/<method>`` -- Web API methods (form or JSON bodies, token as a
  ``Bearer`` header or a ``token`` parameter), answered in Slack's shapes.
* ``POST /upload/<file_id>`` -- the upload URL handed out by files.getUploadURLExternal.
* ``POST /response/<token>`` -- the ``response_url`` given to the bot in payloads.

The user side (sending signed slash commands, clicks, submissions and events into
the bot) lives in :mod:`sandbox.fake_slack.actor` and is mixed into ``FakeSlack``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import random
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import sandbox.fake_slack.api_chat as api_chat
import sandbox.fake_slack.api_directory as api_directory
import sandbox.fake_slack.api_files as api_files
import sandbox.fake_slack.api_views as api_views
import sandbox.fake_slack.limits as limits
import sandbox.fake_slack.oauth as oauth

from .actor import ActorMixin
from .posting_limits import PostingLimits
from .state import full_state
from .store import BOT_USER_ID, ApiError, Ids, Workspace

METHODS: dict[str, Callable[[FakeSlack, dict], dict]] = {
    **api_directory.METHODS,
    **api_chat.METHODS,
    **api_views.METHODS,
    **api_files.METHODS,
}
JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")


@dataclass(frozen=True)
class Call:
    """One Web API call the bot made (``params`` has JSON fields decoded)."""

    method: str
    params: dict
    at: float
    status: int = 200
    response: dict = field(default_factory=dict, compare=False)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return self.response.get("error")


@dataclass
class _Fault:
    error: str
    status: int
    remaining: int
    retry_after: int | None = None


@dataclass
class _Burst:
    """A time-boxed fault: until ``until`` (time.monotonic), matching calls fail or are slow."""

    methods: frozenset[str] | None
    until: float
    error: str | None
    status: int
    retry_after: int | None
    delay: float
    share: float

    def hits(self, method: str, now: float) -> bool:
        return now < self.until and (self.methods is None or method in self.methods)


def _decode_json_fields(params: dict) -> dict:
    out = dict(params)
    for name in JSON_FIELDS:
        value = out.get(name)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                out[name] = json.loads(value)
    return out


class FakeSlack(ActorMixin):
    def __init__(
        self,
        bot_token: str = "xoxb-test",  # noqa: S107 - a fake's test credential
        signing_secret: str = "test-secret",  # noqa: S107
        team_id: str = "T0TEST",
        request_url: str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        verification_token: str = "fake-verification-token",  # noqa: S107
        ack_timeout: float = 3.0,
        seed: bool = True,
    ) -> None:
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.request_url = request_url
        self.clock = clock
        self.verification_token = verification_token
        self.ack_timeout = ack_timeout
        self.delay = 0.0
        self.posting_limits: PostingLimits | None = None
        self.lock = threading.RLock()
        # Several workspaces can exist (add_workspace); each bot token belongs to one team (or
        # to an org's workspaces), and a call runs against its token's workspace. `workspace`
        # is that one during a call, the one `in_team` names in a test, else the first.
        self._ids = Ids()
        self.workspaces: dict[str, Workspace] = {team_id: Workspace(team_id, self._ids)}
        self._first_team = team_id
        self._current = threading.local()
        self.tokens: dict[str, frozenset[str]] = {bot_token: frozenset({team_id})}
        self.oauth_app: oauth.App | None = None
        self.oauth_codes: dict[str, oauth.Grant] = {}
        self._installs: list[oauth.Install] = []
        self.calls: list[Call] = []
        self.response_posts: list[dict] = []
        self._delays: dict[str, float] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._bursts: list[_Burst] = []
        self._chance = random.Random(0)  # noqa: S311 - which calls a partial burst hits
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.workspace.add_user(BOT_USER_ID, "postmortem-bot", "Postmortem Bot", is_bot=True)
        if seed:
            self.add_user(
                "U0ALICE", "alice", "Alice Nguyen", tz="Australia/Sydney", email="alice@example.com"
            )
            self.add_user(
                "U0BOB", "bob", "Bob Smith", tz="Australia/Perth", email="bob@example.com"
            )
            self.add_user(
                "U0ADMIN",
                "carol",
                "Carol Admin",
                tz="Australia/Sydney",
                is_admin=True,
                email="carol@example.com",
            )
            self.add_channel("C0REVIEWS", "reviews")

    # -- workspaces -----------------------------------------------------------------
    @property
    def workspace(self) -> Workspace:
        return self.workspaces[getattr(self._current, "team", None) or self._first_team]

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    @contextlib.contextmanager
    def in_team(self, team_id: str) -> Iterator[FakeSlack]:
        """Act in (and inspect) another workspace for the duration of the block."""
        if team_id not in self.workspaces:
            raise KeyError(team_id)
        previous = getattr(self._current, "team", None)
        self._current.team = team_id
        try:
            yield self
        finally:
            self._current.team = previous

    def add_workspace(
        self,
        team_id: str,
        name: str = "",
        *,
        enterprise_id: str | None = None,
        bot_token: str | None = None,
    ) -> Workspace:
        """Another workspace (in an Enterprise Grid org when `enterprise_id` is given), with the
        bot user; `bot_token` installs the app there as if by hand."""
        with self.lock:
            ws = Workspace(team_id, self._ids)
            ws.team_name = name or team_id
            ws.team_domain = (name or team_id).lower().replace(" ", "-")
            ws.enterprise_id = enterprise_id
            ws.add_user(BOT_USER_ID, "postmortem-bot", "Postmortem Bot", is_bot=True)
            self.workspaces[team_id] = ws
            if bot_token:
                self.tokens[bot_token] = frozenset({team_id})
            return ws

    def register_app(
        self, client_id: str, client_secret: str, redirect_urls: tuple[str, ...] = ()
    ) -> None:
        """The Slack app's OAuth credentials (its "Basic Information" and redirect URLs)."""
        self.oauth_app = oauth.App(client_id, client_secret, redirect_urls)

    def will_install(
        self, team_id: str | None, user_id: str, *, enterprise_id: str | None = None
    ) -> None:
        """Who clicks "Allow" on the next authorize page: a person of `team_id`, or of the org
        `enterprise_id` installing org-wide (team_id None)."""
        with self.lock:
            self._installs.append(oauth.Install(team_id, enterprise_id, user_id))

    def next_install(self) -> oauth.Install:
        if self._installs:
            return self._installs.pop(0)
        return oauth.Install(self._first_team, None, "U0ADMIN")

    def issue_bot_token(self, team_id: str | None, enterprise_id: str | None) -> str:
        """A new bot token for a workspace, or for every workspace of an org (org-wide)."""
        if team_id is not None:
            teams = frozenset({team_id})
        else:
            teams = frozenset(
                t for t, w in self.workspaces.items() if w.enterprise_id == enterprise_id
            )
            for t in teams:
                self.workspaces[t].org_installed = True
        token = f"xoxb-{(team_id or enterprise_id or 'x').lower()}-{secrets.token_hex(6)}"
        self.tokens[token] = teams
        return token

    def revoke(self, token: str) -> None:
        """The token stops working (the app was uninstalled)."""
        with self.lock:
            self.tokens.pop(token, None)

    def _team_for_call(self, teams: frozenset[str], params: dict) -> str:
        """The workspace a call runs in: its token's, or (an org token) the one named by
        `team_id`, or the one that has the channel or user the call names."""
        if len(teams) == 1:
            return next(iter(teams))
        named = params.get("team_id")
        if named in teams:
            return str(named)
        for key in ("channel", "user", "users"):
            value = str(params.get(key) or "").split(",")[0]
            for team in sorted(teams):
                ws = self.workspaces[team]
                if value in ws.channels or value in ws.users or ("D" + value) in ws.channels:
                    return team
        return sorted(teams)[0]

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _make_handler(self))
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-slack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """For ``WebClient(base_url=...)``: ends with ``/`` because slack_sdk urljoins."""
        return f"{self.base_url}/api/"

    # -- directory -----------------------------------------------------------------
    def add_user(
        self,
        id: str,
        name: str,
        real_name: str | None = None,
        tz: str = "Australia/Sydney",
        is_admin: bool = False,
        is_owner: bool = False,
        email: str | None = None,
        deleted: bool = False,
    ) -> dict:
        with self.lock:
            return copy.deepcopy(
                self.workspace.add_user(
                    id,
                    name,
                    real_name,
                    tz=tz,
                    is_admin=is_admin,
                    is_owner=is_owner,
                    email=email,
                    deleted=deleted,
                )
            )

    def add_usergroup(
        self, id: str, handle: str, name: str, users: list[str], *, disabled: bool = False
    ) -> dict:
        with self.lock:
            return copy.deepcopy(
                self.workspace.add_usergroup(id, handle, name, users, disabled=disabled)
            )

    def add_channel(
        self, id: str, name: str, *, is_private: bool = False, is_member: bool = True
    ) -> dict:
        with self.lock:
            return copy.deepcopy(
                self.workspace.add_channel(id, name, is_private=is_private, is_member=is_member)
            )

    # -- inspection helpers ----------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()

    def messages(self, channel: str, *, include_replies: bool = False) -> list[dict]:
        """Messages in a channel (id, name, user id for its DM), oldest first."""
        with self.lock:
            ch = self.workspace.resolve_channel(channel)
            msgs = (
                self.workspace.messages.get(ch["id"], [])
                if include_replies
                else self.workspace.top_level(ch["id"])
            )
            return copy.deepcopy(msgs)

    def message(self, channel: str, ts: str) -> dict:
        with self.lock:
            ch = self.workspace.resolve_channel(channel)
            return copy.deepcopy(self.workspace.find_message(ch["id"], ts))

    def thread(self, channel: str, ts: str) -> list[dict]:
        """The parent message followed by its replies."""
        with self.lock:
            ch = self.workspace.resolve_channel(channel)
            return copy.deepcopy(self.workspace.thread(ch["id"], ts))

    def dms(self, user_id: str) -> list[dict]:
        """What the bot sent a person in their DM with it (top-level messages)."""
        with self.lock:
            return copy.deepcopy(self.workspace.top_level("D" + user_id))

    def ephemerals(self, user_id: str) -> list[dict]:
        with self.lock:
            return copy.deepcopy(self.workspace.ephemerals.get(user_id, []))

    def open_views(self, user_id: str) -> list[dict]:
        """The user's modal stack, root first."""
        with self.lock:
            ws = self.workspace
            return [self._view_with_state(v) for v in ws.stacks.get(user_id, [])]

    def top_view(self, user_id: str) -> dict | None:
        views = self.open_views(user_id)
        return views[-1] if views else None

    def home(self, user_id: str) -> dict | None:
        with self.lock:
            view_id = self.workspace.homes.get(user_id)
            return self._view_with_state(view_id) if view_id else None

    def view(self, view_id: str) -> dict:
        with self.lock:
            if view_id not in self.workspace.views:
                raise KeyError(view_id)
            return self._view_with_state(view_id)

    def view_errors(self, view_id: str) -> dict[str, str]:
        """Errors shown under input blocks after ``response_action: errors``."""
        with self.lock:
            return dict(self.workspace.view_errors.get(view_id, {}))

    def uploaded_files(self) -> list[dict]:
        with self.lock:
            return api_files.uploaded(self)

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01
    ) -> Any:
        """Poll ``predicate`` until it returns something truthy (bots ack before acting)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(interval)

    def issue_trigger(self, user_id: str) -> str:
        """A fresh trigger_id for ``user_id`` (valid for 3 seconds of ``clock``)."""
        with self.lock:
            self.workspace.user(user_id)
            return self.workspace.issue_trigger(user_id, self.clock())

    def open_modal(self, user_id: str, spec: dict) -> dict:
        """Put ``spec`` on the user's screen as if the bot's views.open had succeeded.

        For tests that drive forms while the Web API fails on purpose (a views.open lost to an
        outage would otherwise end the user's attempt before it reaches the bot).
        """
        found = limits.problems("modal", spec)
        if found:
            raise ValueError(f"Slack would refuse this modal: {found}")
        with self.lock:
            self.workspace.user(user_id)
            view = self.workspace.make_view(spec)
            self.workspace.open_stack(user_id, view)
            return self._view_with_state(view["id"])

    # -- failure injection ---------------------------------------------------------
    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls to ``method`` ("*" = any) get HTTP 429 + Retry-After."""
        with self.lock:
            self._faults.setdefault(method, []).append(
                _Fault("ratelimited", 429, times, retry_after)
            )

    def fail(
        self, method: str, error: str = "user_not_found", times: int = 1, status: int = 200
    ) -> None:
        """The next ``times`` calls to ``method`` ("*" = any) answer ``error``."""
        with self.lock:
            self._faults.setdefault(method, []).append(_Fault(error, status, times))

    def burst(
        self,
        seconds: float,
        *,
        methods: str | list[str] | None = None,
        error: str | None = None,
        status: int = 500,
        retry_after: int | None = None,
        delay: float = 0.0,
        share: float = 1.0,
    ) -> None:
        """For the next ``seconds`` (real time), calls to ``methods`` (all when None) fail or lag.

        ``error`` answers that Slack error with HTTP ``status`` (``ratelimited`` with 429 and
        ``retry_after`` is a rate-limit burst); ``delay`` answers late instead (or as well).
        ``share`` is the fraction of matching calls hit. Bursts overlap freely and end by
        themselves, so a test can schedule an outage and go on driving the bot.
        """
        names = frozenset([methods] if isinstance(methods, str) else methods or []) or None
        with self.lock:
            self._bursts.append(
                _Burst(names, time.monotonic() + seconds, error, status, retry_after, delay, share)
            )

    def _burst_for(self, method: str, *, slow: bool) -> _Burst | None:
        now = time.monotonic()
        self._bursts = [b for b in self._bursts if now < b.until]
        for b in self._bursts:
            if (
                (b.delay > 0 if slow else b.error is not None)
                and b.hits(method, now)
                and (b.share >= 1 or self._chance.random() < b.share)
            ):
                return b
        return None

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()
            self._bursts.clear()

    def set_delay(self, method: str, seconds: float) -> None:
        """Make ``method`` answer ``seconds`` late (overrides ``delay`` for it)."""
        with self.lock:
            self._delays[method] = seconds

    def limit_posting(
        self, *, per_channel: float = 1.0, per_minute: int | None = None
    ) -> PostingLimits:
        """From now on chat.postMessage answers 429 + Retry-After, as Slack does, past one
        message per ``per_channel`` seconds in a channel or ``per_minute`` in the workspace."""
        with self.lock:
            self.posting_limits = PostingLimits(
                self.clock, per_channel=per_channel, per_minute=per_minute
            )
            return self.posting_limits

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method, "*"):
            for fault in self._faults.get(key, []):
                if fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    # -- request handling ------------------------------------------------------------
    def _view_with_state(self, view_id: str) -> dict:
        ws = self.workspace
        view = copy.deepcopy(ws.views[view_id])
        view["state"] = full_state(view["blocks"], ws.view_entered.get(view_id, {}))
        return view

    def handle_api(
        self, method: str, params: dict, authorization: str | None
    ) -> tuple[int, dict[str, str], dict]:
        with self.lock:
            delay = self._delays.get(method, self.delay)
            slow = self._burst_for(method, slow=True)
            delay = max(delay, slow.delay if slow else 0.0)
        if delay > 0:
            time.sleep(delay)
        with self.lock:
            try:
                body = self._dispatch(method, params, authorization)
                status, headers = 200, {}
            except ApiError as exc:
                body, status, headers = exc.body(), exc.status, exc.headers
            except Exception as exc:  # a bug in the fake itself: say so loudly
                body = {
                    "ok": False,
                    "error": "fake_slack_internal_error",
                    "detail": f"{type(exc).__name__}: {exc}",
                }
                status, headers = 500, {}
            recorded = {k: v for k, v in _decode_json_fields(params).items() if k != "token"}
            self.calls.append(Call(method, recorded, time.time(), status, copy.deepcopy(body)))
            return status, headers, body

    def _dispatch(self, method: str, params: dict, authorization: str | None) -> dict:
        if method == "oauth.v2.access":  # the app's credentials, not a token
            return {"ok": True, **oauth.access(self, params, _basic(authorization))}
        handler = METHODS.get(method)
        if handler is None:
            raise ApiError("unknown_method")
        token = None
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization[7:].strip()
        token = token or params.get("token")
        if not token:
            raise ApiError("not_authed")
        teams = self.tokens.get(token)
        if not teams:
            raise ApiError("invalid_auth")
        fault = self._take_fault(method) or self._burst_for(method, slow=False)
        if fault is not None and fault.error is not None:
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            raise ApiError(fault.error, status=fault.status, headers=headers)
        with self.in_team(self._team_for_call(teams, params)):
            result = handler(self, params)
        return {"ok": True, **result}

    def handle_response_url(self, token: str, raw: bytes) -> tuple[int, str]:
        """What Slack does with a POST to a response_url (in the workspace that issued it)."""
        with self.lock:
            team = next((t for t, w in self.workspaces.items() if token in w.response_urls), None)
            with self.in_team(team or self._first_team):
                return self._handle_response_url(token, raw)

    def _handle_response_url(self, token: str, raw: bytes) -> tuple[int, str]:
        ws = self.workspace
        with self.lock:
            hook = ws.response_urls.get(token)
            if hook is None:
                return 404, "no_active_hooks"
            try:
                payload = json.loads(raw.decode("utf-8") or "{}")
            except ValueError:
                return 400, "invalid_payload"
            if not isinstance(payload, dict):
                return 400, "invalid_payload"
            hook.uses += 1
            if hook.uses > 5:
                return 404, "used_url"
            # `error` is what Slack answered (None when it took the post), so a test can tell
            # a refused list from a shown one: Bolt's respond() does not raise on a refusal.
            post: dict[str, Any] = {
                "token": token,
                "payload": copy.deepcopy(payload),
                "user_id": hook.user_id,
                "channel_id": hook.channel_id,
                "at": time.time(),
                "error": None,
                "problems": [],
            }
            self.response_posts.append(post)
            hook.posts.append(copy.deepcopy(payload))
            found = limits.problems("message", payload)
            if found:
                post["error"], post["problems"] = "invalid_blocks", found
                return 400, "invalid_blocks"
            try:
                self._apply_response_payload(hook, payload)
            except ApiError as exc:
                post["error"] = exc.error
                return 404, exc.error
            return 200, "ok"

    def _apply_response_payload(self, hook: Any, payload: dict) -> None:
        ws = self.workspace
        if hook.channel_id is None:
            return
        original = None
        if hook.message_ts and not hook.is_ephemeral:
            original = ws.find_message(hook.channel_id, hook.message_ts)
        if payload.get("delete_original"):
            if hook.is_ephemeral:
                ws.ephemerals[hook.user_id] = [
                    m for m in ws.ephemerals.get(hook.user_id, []) if m["ts"] != hook.message_ts
                ]
            elif original is not None:
                ws.messages[hook.channel_id].remove(original)
            return
        if _truthy(payload.get("replace_original")) and hook.message_ts:
            target = original
            if hook.is_ephemeral:
                target = next(
                    (m for m in ws.ephemerals.get(hook.user_id, []) if m["ts"] == hook.message_ts),
                    None,
                )
            if target is None:
                raise ApiError("message_not_found")
            target["text"] = payload.get("text", target.get("text", ""))
            if "blocks" in payload:
                target["blocks"] = ws.fill_block_ids(copy.deepcopy(payload["blocks"]))
            return
        msg = api_chat.new_message(ws, payload.get("text"), payload.get("blocks"), ws.ids.ts())
        if payload.get("response_type") == "in_channel":
            api_chat.attach_to_thread(ws, hook.channel_id, msg, payload.get("thread_ts"))
            ws.messages.setdefault(hook.channel_id, []).append(msg)
        else:
            msg["channel"] = hook.channel_id
            ws.ephemerals.setdefault(hook.user_id, []).append(msg)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up before the answer (it timed out, or was killed) is normal."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def _basic(authorization: str | None) -> tuple[str, str] | None:
    """HTTP Basic credentials (slack_sdk sends oauth.v2.access's client id and secret so)."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(authorization[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true")
    return bool(value)


def _parse_body(content_type: str, raw: bytes) -> dict:
    text = raw.decode("utf-8") if raw else ""
    if content_type.startswith("application/json"):
        value = json.loads(text) if text.strip() else {}
        if not isinstance(value, dict):
            raise ValueError("JSON body must be an object")
        return value
    return dict(parse_qsl(text, keep_blank_values=True))


def _make_handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeSlack/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _send(
            self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _send_json(self, status: int, body: dict, headers: dict[str, str] | None = None):
            data = json.dumps(body).encode("utf-8")
            self._send(status, data, "application/json; charset=utf-8", headers)

        def _read(self) -> bytes | None:
            """The body, or None when the sender went away before sending all of it (a process
            killed mid-request): Slack acts on no request it did not receive whole."""
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            return body if len(body) == length else None

        def _api(self, method: str, params: dict) -> None:
            status, headers, body = fake.handle_api(
                method, params, self.headers.get("Authorization")
            )
            self._send_json(status, body, headers)

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            if parts.path == "/oauth/v2/authorize":
                with fake.lock:
                    status, headers, text = oauth.authorize(fake, parts.query)
                self._send(status, text.encode(), "text/plain; charset=utf-8", headers)
            elif parts.path.startswith("/api/"):
                self._api(parts.path[len("/api/") :], dict(parse_qsl(parts.query)))
            else:
                self._send(404, b"Not Found", "text/plain")

        def do_POST(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            raw = self._read()
            if raw is None:  # cut off: nobody is left to answer
                self.close_connection = True
                return
            if parts.path.startswith("/api/"):
                try:
                    params = _parse_body(self.headers.get("Content-Type") or "", raw)
                except (ValueError, UnicodeDecodeError):
                    self._send_json(200, {"ok": False, "error": "invalid_json"})
                    return
                params.update(dict(parse_qsl(parts.query)))
                self._api(parts.path[len("/api/") :], params)
            elif parts.path.startswith("/upload/"):
                with fake.lock:
                    file_id = parts.path[8:]
                    team = next((t for t, w in fake.workspaces.items() if file_id in w.files), None)
                    with fake.in_team(team or fake._first_team):
                        status, text = api_files.receive_upload(fake, file_id, raw)
                self._send(status, text.encode(), "text/plain; charset=utf-8")
            elif parts.path.startswith("/response/"):
                status, text = fake.handle_response_url(parts.path[10:], raw)
                self._send(status, text.encode(), "text/html")
            else:
                self._send(404, b"Not Found", "text/plain")

    return Handler

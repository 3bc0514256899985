"""The human (and Slack client) side: signed requests into the bot.

Mixed into ``FakeSlack``.  Every send signs the body with Slack's v0 scheme,
issues a fresh ``trigger_id`` where Slack would, measures how long the bot took
(``BotReply.elapsed``) and then applies the bot's HTTP answer the way Slack does
(view_submission ``response_action``s, slash-command response bodies).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import sandbox.fake_slack.limits as limits
import sandbox.fake_slack.state as state

from .api_chat import attach_to_thread, new_message
from .store import APP_ID, BOT_USER_ID, MAX_VIEW_STACK, ApiError, ResponseUrl

if TYPE_CHECKING:
    from .store import Workspace

STALE_AFTER = 60 * 5


def sign(secret: str, timestamp: str, body: str) -> str:
    """Slack's ``X-Slack-Signature``: ``v0=`` + HMAC-SHA256 of ``v0:{ts}:{body}``."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class BotReply:
    """What the bot answered to one request Slack sent it."""

    status: int | None
    body: Any
    text: str
    elapsed: float
    payload: dict
    headers: dict[str, str] = field(default_factory=dict)
    trigger_id: str | None = None
    timed_out: bool = False
    sent: bool = True
    errors: dict[str, str] = field(default_factory=dict)
    client_errors: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    view: dict | None = None

    @property
    def ok(self) -> bool:
        return self.sent and self.status == 200 and not self.timed_out and not self.problems


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ActorMixin:
    """Methods that act as a person in Slack; needs ``FakeSlack``'s attributes."""

    request_url: str | None
    signing_secret: str
    verification_token: str
    ack_timeout: float
    lock: Any
    clock: Any

    @property
    def workspace(self) -> Workspace:  # FakeSlack's: the workspace acted in
        raise NotImplementedError

    @property
    def team_id(self) -> str:
        raise NotImplementedError

    # -- transport -------------------------------------------------------------------
    def send(
        self,
        body: str,
        content_type: str,
        *,
        forged: bool = False,
        timestamp: float | None = None,
        payload: dict | None = None,
        trigger_id: str | None = None,
    ) -> BotReply:
        """POST ``body`` to ``request_url`` signed like Slack (or forged / stale)."""
        if not self.request_url:
            raise RuntimeError("FakeSlack(request_url=...) is needed to send requests to the bot")
        ts = str(int(time.time() if timestamp is None else timestamp))
        secret = self.signing_secret + ("-forged" if forged else "")
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(secret, ts, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if not self.request_url.startswith(("http://", "https://")):
            raise ValueError(f"request_url must be http(s): {self.request_url!r}")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            self.request_url, data=body.encode("utf-8"), headers=headers, method="POST"
        )
        started = time.perf_counter()
        try:
            with _NO_PROXY.open(request, timeout=max(30.0, self.ack_timeout * 3)) as resp:
                status, raw, resp_headers = resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            status, raw, resp_headers = exc.code, exc.read(), dict(exc.headers or {})
        elapsed = time.perf_counter() - started
        text = raw.decode("utf-8", errors="replace")
        parsed: Any = None
        if text.strip():
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
        return BotReply(
            status=status,
            body=parsed,
            text=text,
            elapsed=elapsed,
            headers=resp_headers,
            payload=payload if payload is not None else {},
            trigger_id=trigger_id,
            timed_out=elapsed > self.ack_timeout,
        )

    def _send_form(self, fields: dict[str, str], **kw: Any) -> BotReply:
        return self.send(urlencode(fields), "application/x-www-form-urlencoded", **kw)

    def _send_payload(self, payload: dict, **kw: Any) -> BotReply:
        return self._send_form({"payload": json.dumps(payload)}, payload=payload, **kw)

    # -- shared pieces ---------------------------------------------------------------
    def _response_url(
        self,
        user_id: str,
        channel_id: str | None,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
    ) -> str:
        token = uuid.uuid4().hex
        self.workspace.response_urls[token] = ResponseUrl(
            token, user_id, channel_id, message_ts, is_ephemeral
        )
        return f"{self.base_url}/response/{token}"  # type: ignore[attr-defined]

    def _channel_ref(self, channel: dict) -> dict:
        if channel.get("is_im"):
            return {"id": channel["id"], "name": "directmessage"}
        if channel.get("is_mpim"):
            return {"id": channel["id"], "name": "mpdm"}
        if channel.get("is_private"):
            return {"id": channel["id"], "name": "privategroup"}
        return {"id": channel["id"], "name": channel["name"]}

    def _view_payload(self, view_id: str) -> dict:
        return self._view_with_state(view_id)  # type: ignore[attr-defined]

    # -- slash commands --------------------------------------------------------------
    def slash_command(
        self,
        user_id: str,
        channel_id: str,
        command: str = "/postmortem",
        text: str = "",
        *,
        forged: bool = False,
        timestamp: float | None = None,
    ) -> BotReply:
        """Type ``/command text`` in a channel; applies the bot's response body."""
        ws = self.workspace
        with self.lock:
            user = ws.user(user_id)
            channel = ws.resolve_channel(channel_id)
            trigger_id = ws.issue_trigger(user_id, self.clock())
            response_url = self._response_url(user_id, channel["id"])
            fields = {
                "token": self.verification_token,
                "team_id": self.team_id,
                "team_domain": ws.team_domain,
                "channel_id": channel["id"],
                "channel_name": self._channel_ref(channel)["name"],
                "user_id": user_id,
                "user_name": user["name"],
                "command": command,
                "text": text,
                "api_app_id": APP_ID,
                "is_enterprise_install": "true" if ws.org_installed else "false",
                "response_url": response_url,
                "trigger_id": trigger_id,
            }
            if ws.enterprise_id:  # Enterprise Grid: Slack adds the org
                fields["enterprise_id"] = ws.enterprise_id
                fields["enterprise_name"] = ws.enterprise_id
        reply = self._send_form(
            fields, payload=dict(fields), trigger_id=trigger_id, forged=forged, timestamp=timestamp
        )
        with self.lock:
            self._apply_command_reply(reply, user_id, channel["id"])
        return reply

    def _apply_command_reply(self, reply: BotReply, user_id: str, channel_id: str) -> None:
        if reply.timed_out:
            reply.problems.append("operation_timeout")
            return
        if reply.status != 200:
            reply.problems.append(f"http_{reply.status}")
            return
        body = reply.body
        if body is None:
            return
        if isinstance(body, str):
            body = {"text": body}
        if not isinstance(body, dict):
            reply.problems.append("invalid_response")
            return
        if not body.get("text") and not body.get("blocks"):
            return
        found = limits.problems("message", body)
        if found:
            reply.problems.extend(found)
            return
        ws = self.workspace
        msg = new_message(ws, body.get("text"), body.get("blocks"), ws.ids.ts())
        if body.get("response_type") == "in_channel":
            ws.messages.setdefault(channel_id, []).append(msg)
        else:
            msg["channel"] = channel_id
            ws.ephemerals.setdefault(user_id, []).append(msg)

    # -- block_actions -----------------------------------------------------------------
    def click(
        self,
        user_id: str,
        action_id: str,
        value: Any = None,
        *,
        view_id: str | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
        block_id: str | None = None,
        selected_option: Any = None,
        forged: bool = False,
        timestamp: float | None = None,
    ) -> BotReply:
        """Use an interactive element on a view (modal/home) or a message.

        Without ``view_id``/``channel_id`` the user's top modal is used.  ``value``
        picks a button among same-named ones, or is the choice for selects,
        pickers and inputs (``selected_option`` is an alias for selects).  An input
        block's element sends block_actions only with ``dispatch_action: true`` (its
        new value is in the payload's ``view.state`` too); without it this raises
        LookupError, as nothing would reach the app.
        """
        ws = self.workspace
        if selected_option is not None and value is None:
            value = selected_option
        with self.lock:
            ws.user(user_id)
            if view_id is None and channel_id is None:
                stack = ws.stacks.get(user_id) or []
                if not stack:
                    raise LookupError(f"{user_id} has no modal open and no message was named")
                view_id = stack[-1]
            action_ts = ws.ids.ts()
            trigger_id = ws.issue_trigger(user_id, self.clock())
            payload: dict[str, Any] = {
                "type": "block_actions",
                "user": ws.user_ref(user_id),
                "api_app_id": APP_ID,
                "token": self.verification_token,
            }
            if view_id is not None:
                self._check_view_on_screen(user_id, view_id)
                view = ws.views[view_id]
                block, element = state.find_element(
                    view["blocks"], action_id, block_id=block_id, value=value
                )
                action = self._action(block, element, value, action_ts)
                if element.get("type") in state.STATEFUL_TYPES:
                    ws.view_entered.setdefault(view_id, {}).setdefault(block["block_id"], {})[
                        element["action_id"]
                    ] = {
                        "type": element["type"],
                        state.VALUE_KEYS[element["type"]]: copy.deepcopy(
                            action[state.VALUE_KEYS[element["type"]]]
                        ),
                    }
                payload.update(
                    {
                        "container": {"type": "view", "view_id": view_id},
                        "trigger_id": trigger_id,
                        "team": ws.team(),
                        "enterprise": ws.enterprise(),
                        "is_enterprise_install": ws.org_installed,
                        "view": self._view_payload(view_id),
                        "actions": [action],
                    }
                )
            else:
                payload.update(
                    self._message_click(
                        user_id,
                        channel_id,
                        message_ts,
                        action_id,
                        block_id,
                        value,
                        action_ts,
                        trigger_id,
                    )
                )
        return self._send_payload(
            payload, trigger_id=trigger_id, forged=forged, timestamp=timestamp
        )

    def _action(self, block: dict, element: dict, value: Any, action_ts: str) -> dict:
        if block.get("type") == "input" and block.get("dispatch_action") is not True:
            # Slack sends nothing when an input is used: its value only travels in view.state.
            raise LookupError(
                f"input {block.get('block_id')!r} has no dispatch_action: using "
                "it sends no block_actions (type into it with fill())"
            )
        etype = element.get("type")
        if etype in ("button", "workflow_button"):
            if value is not None and element.get("value") != value:
                raise LookupError(
                    f"button {element.get('action_id')!r} has value "
                    f"{element.get('value')!r}, not {value!r}"
                )
        elif etype not in state.VALUE_KEYS:
            raise LookupError(f"{etype} elements cannot be clicked")
        return state.action_payload(block, element, value, action_ts)

    def _message_click(
        self,
        user_id: str,
        channel_id: Any,
        message_ts: Any,
        action_id: str,
        block_id: str | None,
        value: Any,
        action_ts: str,
        trigger_id: str,
    ) -> dict:
        ws = self.workspace
        if not message_ts:
            raise LookupError("message_ts is needed to click on a message")
        channel = ws.resolve_channel(channel_id)
        is_ephemeral = False
        msg: dict | None
        try:
            msg = ws.find_message(channel["id"], message_ts)
        except ApiError:
            msg = next(
                (
                    m
                    for m in ws.ephemerals.get(user_id, [])
                    if m["ts"] == message_ts and m.get("channel") == channel["id"]
                ),
                None,
            )
            if msg is None:
                raise LookupError(f"no message {message_ts} in {channel['id']}") from None
            is_ephemeral = True
        block, element = state.find_element(
            msg.get("blocks") or [], action_id, block_id=block_id, value=value
        )
        action = self._action(block, element, value, action_ts)
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel["id"],
            "is_ephemeral": is_ephemeral,
        }
        if msg.get("thread_ts"):
            container["thread_ts"] = msg["thread_ts"]
        values: dict[str, dict] = {}
        if element.get("type") in state.STATEFUL_TYPES:
            key = state.VALUE_KEYS[element["type"]]
            values = {
                block["block_id"]: {
                    element["action_id"]: {"type": element["type"], key: copy.deepcopy(action[key])}
                }
            }
        body: dict[str, Any] = {
            "container": container,
            "trigger_id": trigger_id,
            "team": ws.team(),
            "enterprise": ws.enterprise(),
            "is_enterprise_install": ws.org_installed,
            "channel": self._channel_ref(channel),
        }
        if not is_ephemeral:
            body["message"] = copy.deepcopy({k: v for k, v in msg.items() if k != "channel"})
        body.update(
            {
                "state": {"values": values},
                "response_url": self._response_url(
                    user_id, channel["id"], message_ts, is_ephemeral
                ),
                "actions": [action],
            }
        )
        return body

    def _check_view_on_screen(self, user_id: str, view_id: str) -> None:
        ws = self.workspace
        stack = ws.stacks.get(user_id) or []
        if ws.homes.get(user_id) == view_id:
            return
        if not stack or stack[-1] != view_id:
            where = "in the background" if view_id in stack else "not open"
            raise LookupError(f"view {view_id} is {where} for {user_id}")

    # -- typing without submitting -----------------------------------------------------
    def fill(self, user_id: str, view_id: str, values: dict[str, dict[str, Any]]) -> None:
        """Type/select into a view's inputs without submitting (nothing is sent)."""
        ws = self.workspace
        with self.lock:
            self._check_view_on_screen(user_id, view_id)
            built = state.build_values(ws.views[view_id]["blocks"], values)
            entered = ws.view_entered.setdefault(view_id, {})
            for bid, actions in built.items():
                entered.setdefault(bid, {}).update(actions)

    # -- block_suggestion (an external select's options) -----------------------------------
    def suggest(
        self, user_id: str, view_id: str, block_id: str, typed: str = "", *, action_id: str = "v"
    ) -> list[dict]:
        """What an external select offers as the person types `typed`: Slack sends the app a
        `block_suggestion` payload and shows the `options` (or `option_groups`) it answers.
        An answer Slack would not accept (not 200, not JSON, no options) shows nothing."""
        ws = self.workspace
        with self.lock:
            self._check_view_on_screen(user_id, view_id)
            block, element = state.find_element(
                ws.views[view_id]["blocks"], action_id, block_id=block_id
            )
            if element.get("type") not in ("external_select", "multi_external_select"):
                raise LookupError(f"{block_id}/{action_id} is not an external select")
            payload = {
                "type": "block_suggestion",
                "user": ws.user_ref(user_id),
                "container": {"type": "view", "view_id": view_id},
                "api_app_id": APP_ID,
                "token": self.verification_token,
                "action_id": action_id,
                "block_id": block_id,
                "value": typed,
                "team": ws.team(),
                "enterprise": None,
                "is_enterprise_install": False,
                "view": self._view_payload(view_id),
            }
        reply = self._send_payload(payload)
        if reply.status != 200 or not isinstance(reply.body, dict):
            return []
        options = list(reply.body.get("options") or [])
        for group in reply.body.get("option_groups") or []:
            options += list(group.get("options") or [])
        return options

    # -- view_submission ---------------------------------------------------------------
    def submit(
        self,
        user_id: str,
        view_id: str,
        values: dict[str, dict[str, Any]] | None = None,
        *,
        forged: bool = False,
        timestamp: float | None = None,
    ) -> BotReply:
        """Press the modal's submit button with ``{block_id: {action_id: value}}``.

        Raises ``state.StateError`` (a ValueError) for blocks, elements or options
        the view does not have.  Returns without sending (``sent=False``) when the
        Slack client itself would refuse (an empty required input, too short...).
        """
        ws = self.workspace
        with self.lock:
            ws.user(user_id)
            stack = ws.stacks.get(user_id) or []
            if not stack or stack[-1] != view_id:
                raise LookupError(f"view {view_id} is not the top modal of {user_id}")
            view = ws.views[view_id]
            if view.get("submit") is None:
                raise LookupError(f"view {view_id} has no submit button")
            built = state.build_values(view["blocks"], values or {})
            entered = ws.view_entered.setdefault(view_id, {})
            for bid, actions in built.items():
                entered.setdefault(bid, {}).update(actions)
            current = self._view_payload(view_id)
            client_errors = state.client_errors(view["blocks"], current["state"]["values"])
            if client_errors:
                return BotReply(
                    status=None,
                    body=None,
                    text="",
                    elapsed=0.0,
                    payload={},
                    sent=False,
                    client_errors=client_errors,
                    view=current,
                )
            trigger_id = ws.issue_trigger(user_id, self.clock())
            payload = {
                "type": "view_submission",
                "team": ws.team(),
                "user": ws.user_ref(user_id),
                "api_app_id": APP_ID,
                "token": self.verification_token,
                "trigger_id": trigger_id,
                "view": current,
                "response_urls": [],
                "is_enterprise_install": ws.org_installed,
                "enterprise": ws.enterprise(),
            }
        reply = self._send_payload(
            payload, trigger_id=trigger_id, forged=forged, timestamp=timestamp
        )
        with self.lock:
            self._apply_submission_reply(reply, user_id, view_id)
            stack = ws.stacks.get(user_id) or []
            reply.view = self._view_payload(stack[-1]) if stack else None
        return reply

    def _apply_submission_reply(self, reply: BotReply, user_id: str, view_id: str) -> None:
        ws = self.workspace
        if reply.timed_out:
            reply.problems.append("We had some trouble connecting. Try again? (timeout)")
            return
        if reply.status != 200:
            reply.problems.append(f"We had some trouble connecting. (HTTP {reply.status})")
            return
        stack = ws.stacks.get(user_id) or []
        if view_id not in stack:
            return  # the bot closed it meanwhile (e.g. views.update on a new stack)
        body = reply.body
        if body is None:
            ws.view_errors.pop(view_id, None)
            if stack and stack[-1] == view_id:
                ws.pop_view(user_id)
            return
        if not isinstance(body, dict) or "response_action" not in body:
            reply.problems.append(
                "invalid view_submission response: expected an empty body "
                "or a JSON object with response_action"
            )
            return
        action = body["response_action"]
        if action == "errors":
            self._apply_errors(reply, view_id, body.get("errors"))
        elif action in ("update", "push"):
            spec = body.get("view")
            if isinstance(spec, str):
                try:
                    spec = json.loads(spec)
                except ValueError:
                    spec = None
            if not isinstance(spec, dict):
                reply.problems.append("[ERROR] missing required field: view [json-pointer:/view]")
                return
            found = limits.problems("modal", spec)
            if found:
                reply.problems.extend(found)
                return
            if action == "update":
                ws.replace_view(ws.views[view_id], spec)
            elif len(stack) >= MAX_VIEW_STACK:
                reply.problems.append("push_limit_reached")
            else:
                ws.push_view(user_id, ws.make_view(spec))
        elif action == "clear":
            ws.clear_stack(user_id)
        else:
            reply.problems.append(f"unknown response_action: {action!r}")

    def _apply_errors(self, reply: BotReply, view_id: str, errors: Any) -> None:
        ws = self.workspace
        if not isinstance(errors, dict) or not errors:
            reply.problems.append(
                "[ERROR] errors must be a non-empty object [json-pointer:/errors]"
            )
            return
        input_ids = {
            b.get("block_id") for b in ws.views[view_id]["blocks"] if b.get("type") == "input"
        }
        all_ids = {b.get("block_id") for b in ws.views[view_id]["blocks"]}
        for bid, message in errors.items():
            if bid not in all_ids:
                reply.problems.append(
                    f"[ERROR] no block with block_id `{bid}` in the view "
                    f"[json-pointer:/errors/{bid}]"
                )
            elif bid not in input_ids:
                reply.problems.append(
                    f"[ERROR] block `{bid}` is not an input block [json-pointer:/errors/{bid}]"
                )
            elif not isinstance(message, str) or not message:
                reply.problems.append(f"[ERROR] must provide a string [json-pointer:/errors/{bid}]")
        if reply.problems:
            return
        reply.errors = dict(errors)
        ws.view_errors[view_id] = dict(errors)

    # -- view_closed -------------------------------------------------------------------
    def close(
        self,
        user_id: str,
        view_id: str,
        *,
        forged: bool = False,
        timestamp: float | None = None,
    ) -> BotReply | None:
        """Press the modal's close button; sends view_closed if notify_on_close."""
        ws = self.workspace
        with self.lock:
            stack = ws.stacks.get(user_id) or []
            if not stack or stack[-1] != view_id:
                raise LookupError(f"view {view_id} is not the top modal of {user_id}")
            view = ws.views[view_id]
            payload = None
            if view.get("notify_on_close"):
                payload = {
                    "type": "view_closed",
                    "team": ws.team(),
                    "user": ws.user_ref(user_id),
                    "view": self._view_payload(view_id),
                    "api_app_id": APP_ID,
                    "token": self.verification_token,
                    "is_cleared": False,
                    "is_enterprise_install": ws.org_installed,
                    "enterprise": ws.enterprise(),
                }
            if view.get("clear_on_close"):
                ws.clear_stack(user_id)
            else:
                ws.pop_view(user_id)
            ws.view_errors.pop(view_id, None)
        if payload is None:
            return None
        return self._send_payload(payload, forged=forged, timestamp=timestamp)

    # -- Events API ----------------------------------------------------------------------
    def event(
        self, event: dict, *, forged: bool = False, timestamp: float | None = None
    ) -> BotReply:
        """Deliver ``event`` wrapped in an event_callback envelope."""
        event = dict(event)
        with self.lock:
            ws = self.workspace
            event.setdefault("event_ts", self.workspace.ids.ts())
            envelope = {
                "token": self.verification_token,
                "team_id": self.team_id,
                "context_team_id": self.team_id,
                "context_enterprise_id": ws.enterprise_id,
                "api_app_id": APP_ID,
                "event": event,
                "type": "event_callback",
                "event_id": self.workspace.ids.event_id(),
                "event_time": int(time.time()),
                "authorizations": [
                    {
                        "enterprise_id": ws.enterprise_id,
                        "team_id": self.team_id,
                        "user_id": BOT_USER_ID,
                        "is_bot": True,
                        "is_enterprise_install": ws.org_installed,
                    }
                ],
                "is_ext_shared_channel": False,
                "event_context": "4-" + uuid.uuid4().hex,
            }
        return self.send(
            json.dumps(envelope),
            "application/json",
            payload=envelope,
            forged=forged,
            timestamp=timestamp,
        )

    def open_home(self, user_id: str, tab: str = "home", **kw: Any) -> BotReply:
        """The user opens the app's Home (or Messages) tab: app_home_opened."""
        ws = self.workspace
        with self.lock:
            ws.user(user_id)
            channel = ws.dm_for(user_id)
            event: dict[str, Any] = {
                "type": "app_home_opened",
                "user": user_id,
                "channel": channel["id"],
                "tab": tab,
                "event_ts": ws.ids.ts(),
            }
            home_id = ws.homes.get(user_id)
            if tab == "home" and home_id:
                event["view"] = self._view_payload(home_id)
        return self.event(event, **kw)

    def user_message(
        self,
        user_id: str,
        channel_id: str,
        text: str,
        *,
        thread_ts: str | None = None,
        **kw: Any,
    ) -> BotReply:
        """A person posts ``text``; stored in the channel and sent as a message event."""
        ws = self.workspace
        with self.lock:
            ws.user(user_id)
            channel = ws.resolve_channel(channel_id)
            ts = ws.ids.ts()
            msg: dict[str, Any] = {
                "type": "message",
                "user": user_id,
                "text": text,
                "ts": ts,
                "team": self.team_id,
                "client_msg_id": str(uuid.uuid4()),
            }
            if thread_ts:
                attach_to_thread(ws, channel["id"], msg, thread_ts)
            ws.messages.setdefault(channel["id"], []).append(msg)
            event = dict(
                msg,
                channel=channel["id"],
                event_ts=ts,
                channel_type="im" if channel.get("is_im") else "channel",
            )
        return self.event(event, **kw)

"""The fake workspace's data: people, conversations, messages, views, files, triggers.

Everything here is plain data guarded by the owning ``FakeSlack``'s lock; the
API handlers (``api_*.py``) and the user side (``actor.py``) both work on it.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import random
import string
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from .state import iter_elements

BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0FAKEAPP"
PERMALINK_HOST = "https://fake.slack.local"
TRIGGER_TTL = 3.0  # seconds a trigger_id can be exchanged for a view
MAX_VIEW_STACK = 3  # views.open + 2 views.push


class ApiError(Exception):
    """An ``{"ok": false, "error": ...}`` answer."""

    def __init__(
        self,
        error: str,
        *,
        messages: list[str] | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body


@dataclass
class Trigger:
    trigger_id: str
    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    token: str
    user_id: str
    channel_id: str | None
    message_ts: str | None = None
    is_ephemeral: bool = False
    uses: int = 0
    posts: list[dict] = field(default_factory=list)


class Ids:
    """Slack-looking identifiers; timestamps are unique and strictly increasing."""

    _ALNUM = string.ascii_letters + string.digits

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._last_us = 0
        self._counter = itertools.count(1)
        self._rng = random.Random(20240601)

    def ts(self) -> str:
        now_us = int(self._wall() * 1_000_000)
        self._last_us = max(now_us, self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def make(self, prefix: str, width: int = 9) -> str:
        return f"{prefix}{next(self._counter):0{width}d}"

    def view_id(self) -> str:
        return "V" + "".join(
            self._rng.choice(string.ascii_uppercase + string.digits) for _ in range(10)
        )

    def block_id(self) -> str:
        return "".join(self._rng.choice(self._ALNUM) for _ in range(5))

    def trigger_id(self) -> str:
        return f"{next(self._counter)}{int(self._wall())}.1234567890.{uuid.uuid4().hex}"

    def view_hash(self) -> str:
        return f"{int(self._wall())}.{uuid.uuid4().hex[:8]}"

    def event_id(self) -> str:
        return "Ev" + "".join(
            self._rng.choice(string.ascii_uppercase + string.digits) for _ in range(9)
        )


def tz_offset(tz: str) -> int:
    offset = dt.datetime.now(tz=ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds()) if offset else 0


class Workspace:
    def __init__(self, team_id: str, ids: Ids) -> None:
        self.team_id = team_id
        self.team_domain = "fake-workspace"
        self.team_name = "Fake Workspace"
        self.enterprise_id: str | None = None  # its Enterprise Grid org, if any
        self.org_installed = False  # the app is installed org-wide (is_enterprise_install)
        self.ids = ids
        self.users: dict[str, dict] = {}
        self.channels: dict[str, dict] = {}
        self.messages: dict[str, list[dict]] = {}
        self.ephemerals: dict[str, list[dict]] = {}
        self.views: dict[str, dict] = {}
        self.view_owner: dict[str, str] = {}
        self.view_entered: dict[str, dict[str, dict[str, dict]]] = {}
        self.view_errors: dict[str, dict[str, str]] = {}
        self.stacks: dict[str, list[str]] = {}
        self.homes: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.files: dict[str, dict] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.usergroups: dict[str, dict] = {}

    # -- directory -----------------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        tz: str = "Australia/Sydney",
        is_admin: bool = False,
        is_owner: bool = False,
        email: str | None = None,
        deleted: bool = False,
        is_bot: bool = False,
    ) -> dict:
        real_name = real_name or name
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real_name,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset(tz),
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "profile": {
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": name,
                "display_name_normalized": name,
                "email": email,
                "team": self.team_id,
            },
        }
        if is_bot:
            user["profile"]["bot_id"] = BOT_ID
        self.users[user_id] = user
        return user

    def add_usergroup(
        self, group_id: str, handle: str, name: str, users: list[str], *, disabled: bool = False
    ) -> dict:
        """A user group (an @handle that mentions several people), as usergroups.list shows it."""
        now = int(time.time())
        group = {
            "id": group_id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": name,
            "description": "",
            "handle": handle,
            "is_external": False,
            "date_create": now,
            "date_update": now,
            "date_delete": now if disabled else 0,
            "auto_type": None,
            "created_by": "U0ADMIN",
            "updated_by": "U0ADMIN",
            "deleted_by": "U0ADMIN" if disabled else None,
            "prefs": {"channels": [], "groups": []},
            "users": list(users),
            "user_count": len(users),
        }
        self.usergroups[group_id] = group
        return group

    def add_channel(
        self, channel_id: str, name: str, *, is_private: bool = False, is_member: bool = True
    ) -> dict:
        channel = {
            "id": channel_id,
            "name": name,
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "is_archived": False,
            "is_general": False,
            "is_member": is_member,
            "created": int(time.time()),
            "creator": "U0ADMIN",
            "context_team_id": self.team_id,
        }
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def dm_for(self, user_id: str) -> dict:
        channel_id = "D" + user_id
        if channel_id not in self.channels:
            self.channels[channel_id] = {
                "id": channel_id,
                "created": int(time.time()),
                "is_im": True,
                "is_org_shared": False,
                "user": user_id,
                "is_user_deleted": self.users[user_id].get("deleted", False),
                "context_team_id": self.team_id,
            }
            self.messages.setdefault(channel_id, [])
        return self.channels[channel_id]

    def user(self, user_id: Any) -> dict:
        if not isinstance(user_id, str) or user_id not in self.users:
            raise ApiError("user_not_found")
        return self.users[user_id]

    def resolve_channel(self, channel: Any, *, user_ids: bool = True) -> dict:
        """A channel id, ``#name``/name, a user id (-> its DM) or a DM id.

        Only chat.postMessage and friends take a user id for the DM; conversations.history,
        conversations.replies and chat.update need the conversation's own id
        (``user_ids=False``), as Slack answers channel_not_found for a user id there.
        """
        if not isinstance(channel, str) or not channel:
            raise ApiError("channel_not_found")
        if channel in self.channels:
            return self.channels[channel]
        if channel in self.users:
            if not user_ids:
                raise ApiError("channel_not_found")
            return self.dm_for(channel)
        if channel.startswith("D") and channel[1:] in self.users:
            return self.dm_for(channel[1:])
        name = channel.lstrip("#")
        for ch in self.channels.values():
            if ch.get("name") == name:
                return ch
        raise ApiError("channel_not_found")

    def team(self) -> dict:
        ref = {"id": self.team_id, "domain": self.team_domain}
        if self.enterprise_id:
            ref["enterprise_id"] = self.enterprise_id
        return ref

    def enterprise(self) -> dict | None:
        """An interaction payload's `enterprise` (None outside Enterprise Grid)."""
        return (
            {"id": self.enterprise_id, "name": self.enterprise_id} if self.enterprise_id else None
        )

    def user_ref(self, user_id: str) -> dict:
        user = self.user(user_id)
        return {
            "id": user_id,
            "username": user["name"],
            "name": user["name"],
            "team_id": self.team_id,
        }

    # -- messages ------------------------------------------------------------------
    def find_message(self, channel_id: str, ts: Any) -> dict:
        for msg in self.messages.get(channel_id, []):
            if msg["ts"] == ts:
                return msg
        raise ApiError("message_not_found")

    def top_level(self, channel_id: str) -> list[dict]:
        return [
            m
            for m in self.messages.get(channel_id, [])
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]

    def thread(self, channel_id: str, ts: str) -> list[dict]:
        return [
            m
            for m in self.messages.get(channel_id, [])
            if m["ts"] == ts or m.get("thread_ts") == ts
        ]

    def fill_block_ids(self, blocks: Any) -> Any:
        """Slack gives every block (and element) an id when the app did not."""
        if not isinstance(blocks, list):
            return blocks
        for block in blocks:
            if not isinstance(block, dict):
                continue
            block.setdefault("block_id", self.ids.block_id())
            elements: list = []
            if block.get("type") == "actions":
                elements = block.get("elements") or []
            elif block.get("type") == "input" and isinstance(block.get("element"), dict):
                elements = [block["element"]]
            elif block.get("type") == "section" and isinstance(block.get("accessory"), dict):
                elements = [block["accessory"]]
            for el in elements:
                if isinstance(el, dict) and el.get("type") not in ("image",):
                    el.setdefault("action_id", self.ids.block_id())
        return blocks

    # -- views ---------------------------------------------------------------------
    def issue_trigger(self, user_id: str, now: float) -> str:
        trigger_id = self.ids.trigger_id()
        self.triggers[trigger_id] = Trigger(trigger_id, user_id, now)
        return trigger_id

    def exchange_trigger(self, trigger_id: Any, now: float) -> Trigger:
        trig = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trig is None:
            raise ApiError("invalid_trigger_id")
        if now - trig.issued_at > TRIGGER_TTL:
            raise ApiError("expired_trigger_id")
        if trig.used:
            raise ApiError("trigger_exchanged")
        trig.used = True
        return trig

    def find_view(self, view_id: Any = None, external_id: Any = None) -> dict:
        if view_id:
            view = self.views.get(view_id)
        elif external_id:
            view = next(
                (v for v in self.views.values() if v.get("external_id") == external_id), None
            )
        else:
            raise ApiError(
                "invalid_arguments",
                messages=[
                    "[ERROR] either view_id or external_id is required [json-pointer:/view_id]"
                ],
            )
        if view is None or not self.is_live(view["id"]):
            raise ApiError("not_found")
        return view

    def is_live(self, view_id: str) -> bool:
        owner = self.view_owner.get(view_id)
        if owner is None:
            return False
        return view_id in self.stacks.get(owner, []) or self.homes.get(owner) == view_id

    def make_view(self, spec: dict, *, view_id: str | None = None) -> dict:
        spec = copy.deepcopy(spec)
        blocks = self.fill_block_ids(spec.get("blocks") or [])
        view = {
            "id": view_id or self.ids.view_id(),
            "team_id": self.team_id,
            "type": spec.get("type"),
            "blocks": blocks,
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self.ids.view_hash(),
            "title": spec.get("title"),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": spec.get("close"),
            "submit": spec.get("submit"),
            "previous_view_id": None,
            "root_view_id": None,
            "app_id": APP_ID,
            "external_id": spec.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": BOT_ID,
        }
        if view["type"] == "home" and view["title"] is None:
            view["title"] = {"type": "plain_text", "text": "View Title"}
        return view

    def check_external_id(self, external_id: Any, own_view_id: str | None = None) -> None:
        if not external_id:
            return
        for view in self.views.values():
            if (
                view.get("external_id") == external_id
                and view["id"] != own_view_id
                and self.is_live(view["id"])
            ):
                raise ApiError("duplicate_external_id")

    def store_view(self, view: dict, user_id: str) -> dict:
        self.views[view["id"]] = view
        self.view_owner[view["id"]] = user_id
        self.view_entered.setdefault(view["id"], {})
        return view

    def replace_view(self, old: dict, spec: dict) -> dict:
        """views.update / response_action=update: same id, new content and hash."""
        new = self.make_view(spec, view_id=old["id"])
        new["previous_view_id"] = old.get("previous_view_id")
        new["root_view_id"] = old.get("root_view_id")
        if not spec.get("external_id"):
            new["external_id"] = old.get("external_id", "")  # the view keeps its identifier
        # Slack keeps what the user typed when block_id/action_id stay the same.
        kept: dict[str, dict[str, dict]] = {}
        entered = self.view_entered.get(old["id"], {})
        for block, el in iter_elements(new["blocks"]):
            aid = el.get("action_id")  # an image accessory has none; make_view named every block
            item = entered.get(block["block_id"], {}).get(aid) if aid else None
            if item is not None and item.get("type") == el.get("type"):
                kept.setdefault(block["block_id"], {})[el["action_id"]] = item
        self.view_entered[old["id"]] = kept
        self.view_errors.pop(old["id"], None)
        self.views[old["id"]] = new
        return new

    def open_stack(self, user_id: str, view: dict) -> dict:
        view["root_view_id"] = view["id"]
        for old in self.stacks.get(user_id, []):
            self.view_errors.pop(old, None)
        self.stacks[user_id] = [view["id"]]
        return self.store_view(view, user_id)

    def push_view(self, user_id: str, view: dict) -> dict:
        stack = self.stacks.get(user_id) or []
        if not stack:
            raise ApiError("not_found")
        if len(stack) >= MAX_VIEW_STACK:
            raise ApiError("push_limit_reached")
        view["previous_view_id"] = stack[-1]
        view["root_view_id"] = stack[0]
        stack.append(view["id"])
        return self.store_view(view, user_id)

    def pop_view(self, user_id: str) -> None:
        stack = self.stacks.get(user_id) or []
        if stack:
            stack.pop()

    def clear_stack(self, user_id: str) -> None:
        self.stacks[user_id] = []

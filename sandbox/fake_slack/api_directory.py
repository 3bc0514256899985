"""auth.test, users.*, conversations.* handlers."""

from __future__ import annotations

import copy
import hashlib
from typing import TYPE_CHECKING, Any

from .store import APP_ID, BOT_ID, BOT_USER_ID, PERMALINK_HOST, ApiError

if TYPE_CHECKING:
    from .host import Host


def flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def auth_test(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    return {
        "url": f"{PERMALINK_HOST}/",
        "team": "Fake Workspace",
        "user": ws.users[BOT_USER_ID]["name"],
        "team_id": ws.team_id,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "is_enterprise_install": False,
    }


def users_info(fake: Host, params: dict) -> dict:
    return {"user": copy.deepcopy(fake.workspace.user(params.get("user")))}


def users_lookup_by_email(fake: Host, params: dict) -> dict:
    email = params.get("email")
    if not email:
        raise ApiError("invalid_arguments")
    for user in fake.workspace.users.values():
        if (user["profile"].get("email") or "").lower() == str(email).lower():
            return {"user": copy.deepcopy(user)}
    raise ApiError("users_not_found")


def users_list(fake: Host, params: dict) -> dict:
    members = [copy.deepcopy(u) for u in fake.workspace.users.values()]
    try:
        limit = int(params.get("limit") or 0)
    except (TypeError, ValueError):
        limit = 0
    start = int(params.get("cursor") or 0) if str(params.get("cursor") or "0").isdigit() else 0
    page = members[start : start + limit] if limit else members[start:]
    end = start + len(page)
    return {
        "members": page,
        "cache_ts": 0,
        "response_metadata": {"next_cursor": str(end) if end < len(members) else ""},
    }


def conversations_open(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    raw = params.get("users")
    users = raw if isinstance(raw, list) else [u for u in str(raw or "").split(",") if u]
    if not users:
        if params.get("channel"):
            channel = ws.resolve_channel(params["channel"])
            return {"channel": {"id": channel["id"]}, "no_op": True, "already_open": True}
        raise ApiError("users_list_not_supplied")
    for user_id in users:
        ws.user(user_id)
    if len(users) == 1:
        already = ("D" + users[0]) in ws.channels
        channel = ws.dm_for(users[0])
        body: dict[str, Any] = {"channel": {"id": channel["id"]}}
        if flag(params.get("return_im")):
            body["channel"] = copy.deepcopy(channel)
        if already:
            body.update({"no_op": True, "already_open": True})
        return body
    digest = hashlib.sha1(",".join(sorted(users)).encode(), usedforsecurity=False)
    channel_id = "G" + digest.hexdigest()[:10].upper()
    if channel_id not in ws.channels:
        ws.channels[channel_id] = {
            "id": channel_id,
            "name": "mpdm-" + "--".join(users),
            "is_mpim": True,
            "is_im": False,
            "is_channel": False,
            "is_private": True,
            "is_member": True,
            "members": sorted(users),
        }
        ws.messages.setdefault(channel_id, [])
    return {"channel": {"id": channel_id}}


def conversations_info(fake: Host, params: dict) -> dict:
    channel_id = params.get("channel")
    if isinstance(channel_id, str) and channel_id in fake.workspace.users:
        raise ApiError("channel_not_found")  # a user id is not a conversation id
    channel = fake.workspace.resolve_channel(channel_id)
    return {"channel": copy.deepcopy(channel)}


def usergroups_list(fake: Host, params: dict) -> dict:
    """Slack's shape: `usergroups`, each without `users` unless include_users, and disabled
    groups (date_delete set) only with include_disabled; `user_count` with include_count."""
    groups = []
    for group in fake.workspace.usergroups.values():
        if group["date_delete"] and not flag(params.get("include_disabled")):
            continue
        shown = copy.deepcopy(group)
        if not flag(params.get("include_users")):
            shown.pop("users", None)
        if not flag(params.get("include_count")):
            shown.pop("user_count", None)
        groups.append(shown)
    return {"usergroups": groups}


def usergroups_users_list(fake: Host, params: dict) -> dict:
    """The members' ids; `no_such_subteam` for an unknown group, and a disabled group's
    members only with include_disabled (Slack answers it as unknown otherwise)."""
    group_id = params.get("usergroup")
    if not group_id:
        raise ApiError("invalid_arguments")
    group = fake.workspace.usergroups.get(str(group_id))
    if group is None or (group["date_delete"] and not flag(params.get("include_disabled"))):
        raise ApiError("no_such_subteam")
    return {"users": list(group["users"])}


METHODS = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "users.list": users_list,
    "conversations.open": conversations_open,
    "conversations.info": conversations_info,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
}

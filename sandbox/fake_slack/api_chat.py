"""chat.* and conversations.history/replies handlers."""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import sandbox.fake_slack.limits as limits

from .store import APP_ID, BOT_ID, BOT_USER_ID, PERMALINK_HOST, ApiError

if TYPE_CHECKING:
    from .host import Host
    from .store import Workspace

_UNSET = object()


def json_param(params: dict, name: str, error: str) -> Any:
    """Form bodies carry JSON fields as strings; JSON bodies carry them as values."""
    value = params.get(name, _UNSET)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(error) from exc
    return value


def check_content(text: Any, blocks: Any, attachments: Any, *, need_content: bool) -> None:
    """Slack's refusals for message content (chat.postMessage/update/postEphemeral)."""
    has_blocks = isinstance(blocks, list) and len(blocks) > 0
    has_attachments = isinstance(attachments, list) and len(attachments) > 0
    if need_content and not text and not has_blocks and not has_attachments:
        raise ApiError("no_text")
    if text is not None and not isinstance(text, str):
        raise ApiError("invalid_arguments")
    if isinstance(text, str) and len(text) > limits.MAX_MESSAGE_TEXT:
        raise ApiError("msg_too_long")
    if blocks is not _UNSET and blocks is not None:
        found = limits.problems("message", {"blocks": blocks})
        if found:
            raise ApiError("invalid_blocks", messages=found)


def _content(params: dict) -> tuple[Any, Any, Any]:
    text = params.get("text")
    blocks = json_param(params, "blocks", "invalid_blocks_format")
    attachments = json_param(params, "attachments", "invalid_attachments")
    return text, blocks, attachments


def postable_channel(ws: Workspace, channel: Any) -> dict:
    ch = ws.resolve_channel(channel)
    if ch.get("is_archived"):
        raise ApiError("is_archived")
    if not ch.get("is_im") and not ch.get("is_member", True):
        raise ApiError("not_in_channel")
    return ch


def new_message(ws: Workspace, text: Any, blocks: Any, ts: str) -> dict:
    msg: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "text": text or "",
        "ts": ts,
        "team": ws.team_id,
    }
    if blocks not in (_UNSET, None):
        msg["blocks"] = ws.fill_block_ids(copy.deepcopy(blocks))
    return msg


def attach_to_thread(
    ws: Workspace, channel_id: str, msg: dict, thread_ts: Any, broadcast: bool = False
) -> None:
    if not thread_ts:
        return
    try:
        parent = ws.find_message(channel_id, thread_ts)
    except ApiError as exc:
        raise ApiError("thread_not_found") from exc
    if parent.get("thread_ts") not in (None, parent["ts"]):
        parent = ws.find_message(channel_id, parent["thread_ts"])  # reply to a reply
    msg["thread_ts"] = parent["ts"]
    msg["parent_user_id"] = parent.get("user")
    if broadcast:
        msg["subtype"] = "thread_broadcast"
    parent["thread_ts"] = parent["ts"]
    parent["reply_count"] = parent.get("reply_count", 0) + 1
    users = parent.setdefault("reply_users", [])
    if msg["user"] not in users:
        users.append(msg["user"])
    parent["reply_users_count"] = len(users)
    parent["latest_reply"] = msg["ts"]


def chat_post_message(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    channel = postable_channel(ws, params.get("channel"))
    text, blocks, attachments = _content(params)
    check_content(text, blocks, attachments, need_content=True)
    if fake.posting_limits is not None:
        fake.posting_limits.admit(channel["id"])
    msg = new_message(ws, text, blocks, ws.ids.ts())
    if isinstance(attachments, list) and attachments:
        msg["attachments"] = copy.deepcopy(attachments)
    metadata = json_param(params, "metadata", "invalid_metadata_format")
    if metadata not in (_UNSET, None):
        msg["metadata"] = metadata
    attach_to_thread(
        ws,
        channel["id"],
        msg,
        params.get("thread_ts"),
        broadcast=_flag(params.get("reply_broadcast")),
    )
    ws.messages.setdefault(channel["id"], []).append(msg)
    return {"channel": channel["id"], "ts": msg["ts"], "message": copy.deepcopy(msg)}


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true")
    return bool(value)


def chat_update(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    channel = ws.resolve_channel(params.get("channel"), user_ids=False)
    msg = ws.find_message(channel["id"], params.get("ts"))
    if msg.get("user") != BOT_USER_ID:
        raise ApiError("cant_update_message")
    text, blocks, attachments = _content(params)
    check_content(text, blocks, attachments, need_content=False)
    if text is not None:
        msg["text"] = text
    if blocks is not _UNSET:
        if blocks:
            msg["blocks"] = ws.fill_block_ids(copy.deepcopy(blocks))
        else:
            msg.pop("blocks", None)  # an empty list removes the blocks
    if attachments is not _UNSET:
        if attachments:
            msg["attachments"] = copy.deepcopy(attachments)
        else:
            msg.pop("attachments", None)
    msg["edited"] = {"user": BOT_USER_ID, "ts": ws.ids.ts()}
    return {
        "channel": channel["id"],
        "ts": msg["ts"],
        "text": msg["text"],
        "message": copy.deepcopy(msg),
    }


def chat_post_ephemeral(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    channel = postable_channel(ws, params.get("channel"))
    user = ws.user(params.get("user"))
    if user.get("deleted"):
        raise ApiError("user_not_in_channel")
    text, blocks, attachments = _content(params)
    check_content(text, blocks, attachments, need_content=True)
    msg = new_message(ws, text, blocks, ws.ids.ts())
    msg["channel"] = channel["id"]
    if params.get("thread_ts"):
        msg["thread_ts"] = params["thread_ts"]
    ws.ephemerals.setdefault(user["id"], []).append(msg)
    return {"message_ts": msg["ts"]}


def chat_get_permalink(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    channel = ws.resolve_channel(params.get("channel"))
    msg = ws.find_message(channel["id"], params.get("message_ts"))
    link = f"{PERMALINK_HOST}/archives/{channel['id']}/p{msg['ts'].replace('.', '')}"
    if msg.get("thread_ts") not in (None, msg["ts"]):
        link += f"?thread_ts={msg['thread_ts']}&cid={channel['id']}"
    return {"channel": channel["id"], "permalink": link}


def chat_delete(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    channel = ws.resolve_channel(params.get("channel"))
    msg = ws.find_message(channel["id"], params.get("ts"))
    if msg.get("user") != BOT_USER_ID:
        raise ApiError("cant_delete_message")
    ws.messages[channel["id"]].remove(msg)
    return {"channel": channel["id"], "ts": msg["ts"]}


def _limit(params: dict, default: int = 100) -> int:
    try:
        return max(1, int(params.get("limit") or default))
    except (TypeError, ValueError):
        return default


def _without_metadata(messages: list[dict], params: dict) -> list[dict]:
    """Slack returns message metadata only to callers that ask (`include_all_metadata`)."""
    if str(params.get("include_all_metadata", "")).lower() in ("1", "true"):
        return messages
    for message in messages:
        message.pop("metadata", None)
    return messages


def conversations_history(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    channel = ws.resolve_channel(params.get("channel"), user_ids=False)
    msgs = list(reversed(ws.top_level(channel["id"])))
    if params.get("latest"):
        msgs = [m for m in msgs if float(m["ts"]) < float(params["latest"])]
    if params.get("oldest"):
        msgs = [m for m in msgs if float(m["ts"]) > float(params["oldest"])]
    limit = min(_limit(params), 999)  # Slack caps a page at 999 messages
    cursor = str(params.get("cursor") or "")
    start = int(cursor.removeprefix("next_ts_")) if cursor.startswith("next_ts_") else 0
    page = msgs[start : start + limit]
    more = len(msgs) > start + limit
    return {
        "messages": _without_metadata(copy.deepcopy(page), params),
        "has_more": more,
        "response_metadata": {"next_cursor": f"next_ts_{start + limit}" if more else ""},
    }


def conversations_replies(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    channel = ws.resolve_channel(params.get("channel"), user_ids=False)
    try:
        msg = ws.find_message(channel["id"], params.get("ts"))
    except ApiError as exc:
        raise ApiError("thread_not_found") from exc
    root = msg.get("thread_ts") or msg["ts"]
    msgs = ws.thread(channel["id"], root)
    limit = _limit(params, 1000)
    return {
        "messages": _without_metadata(copy.deepcopy(msgs[:limit]), params),
        "has_more": len(msgs) > limit,
        "response_metadata": {"next_cursor": ""},
    }


METHODS = {
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "chat.delete": chat_delete,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
}

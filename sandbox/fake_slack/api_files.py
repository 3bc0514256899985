"""files.getUploadURLExternal / files.completeUploadExternal handlers.

The upload itself (the POST of the bytes to ``upload_url``) is served by
``server.py`` and lands in :func:`receive_upload`.
"""

from __future__ import annotations

import copy
import mimetypes
from typing import TYPE_CHECKING, Any

from .api_chat import attach_to_thread, json_param, postable_channel
from .store import APP_ID, BOT_ID, BOT_USER_ID, PERMALINK_HOST, ApiError

if TYPE_CHECKING:
    from .host import Host


def get_upload_url(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    filename = params.get("filename")
    try:
        length = int(params.get("length", ""))  # missing: a ValueError, as for "abc"
    except (TypeError, ValueError) as exc:
        raise ApiError(
            "invalid_arguments",
            messages=["[ERROR] missing required field: length [json-pointer:/length]"],
        ) from exc
    if not filename:
        raise ApiError(
            "invalid_arguments",
            messages=["[ERROR] missing required field: filename [json-pointer:/filename]"],
        )
    if length < 1:
        raise ApiError("invalid_arguments")
    file_id = ws.ids.make("F", 10)
    ws.files[file_id] = {
        "id": file_id,
        "name": filename,
        "title": filename,
        "length": length,
        "alt_txt": params.get("alt_txt"),
        "content": None,
        "completed": False,
        "channels": [],
        "thread_ts": None,
    }
    return {"upload_url": f"{fake.base_url}/upload/{file_id}", "file_id": file_id}


def receive_upload(fake: Host, file_id: str, data: bytes) -> tuple[int, str]:
    info = fake.workspace.files.get(file_id)
    if info is None or info["completed"]:
        return 404, "Not Found"
    info["content"] = data
    return 200, f"OK - {len(data)}"


def _public(info: dict, created: int) -> dict:
    mimetype = mimetypes.guess_type(info["name"])[0] or "application/octet-stream"
    return {
        "id": info["id"],
        "created": created,
        "timestamp": created,
        "name": info["name"],
        "title": info["title"],
        "mimetype": mimetype,
        "filetype": info["name"].rsplit(".", 1)[-1] if "." in info["name"] else "binary",
        "user": BOT_USER_ID,
        "size": len(info["content"] or b""),
        "is_external": False,
        "permalink": f"{PERMALINK_HOST}/files/{BOT_USER_ID}/{info['id']}/{info['name']}",
        "url_private": f"{PERMALINK_HOST}/files-pri/{info['id']}/{info['name']}",
        "channels": list(info["channels"]),
    }


def complete_upload(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    files: Any = json_param(params, "files", "invalid_arguments")
    if not isinstance(files, list) or not files:
        raise ApiError(
            "invalid_arguments",
            messages=["[ERROR] missing required field: files [json-pointer:/files]"],
        )
    infos = []
    for entry in files:
        file_id = entry.get("id") if isinstance(entry, dict) else None
        info = ws.files.get(file_id) if isinstance(file_id, str) else None
        if info is None or info["completed"]:
            raise ApiError("file_not_found")
        if info["content"] is None:
            raise ApiError("file_not_found")  # nothing was uploaded to the URL
        if len(info["content"]) != info["length"]:
            raise ApiError("file_upload_size_mismatch")
        if entry.get("title"):
            info["title"] = entry["title"]
        infos.append(info)

    targets: list[str] = []
    if params.get("channel_id"):
        targets.append(postable_channel(ws, params["channel_id"])["id"])
    for ch in str(params.get("channels") or "").split(","):
        if ch:
            targets.append(postable_channel(ws, ch)["id"])
    thread_ts = params.get("thread_ts")
    if thread_ts and not targets:
        raise ApiError("invalid_arguments")

    ts = ws.ids.ts()
    created = int(float(ts))
    for info in infos:
        info["completed"] = True
        info["channels"] = list(targets)
        info["thread_ts"] = thread_ts
    for channel_id in targets:
        msg: dict[str, Any] = {
            "type": "message",
            "subtype": "file_share",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": params.get("initial_comment") or "",
            "ts": ts if channel_id == targets[0] else ws.ids.ts(),
            "team": ws.team_id,
            "upload": True,
            "files": [_public(i, created) for i in infos],
        }
        attach_to_thread(ws, channel_id, msg, thread_ts)
        ws.messages.setdefault(channel_id, []).append(msg)
    return {"files": [{"id": i["id"], "title": i["title"]} for i in infos]}


def uploaded(fake: Host) -> list[dict]:
    return [copy.deepcopy(i) for i in fake.workspace.files.values() if i["completed"]]


METHODS = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}

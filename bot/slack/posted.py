"""Was this message already posted? Found by its metadata, so a retried effect never posts twice.

A worker can crash (or Slack can time out) after Slack accepted a message but before the bot
recorded its ts. Messages the bot may retry carry Slack message metadata naming what they are;
before posting again, the retry looks for that metadata in the conversation.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient


def metadata(event_type: str, **payload: Any) -> dict[str, Any]:
    """Slack's message metadata shape (`event_type`, `event_payload`)."""
    return {"event_type": event_type, "event_payload": payload}


def find(client: WebClient, channel: str, event_type: str, *, thread_ts: str | None = None,
         limit: int = 200, pages: int = 5, **match: Any) -> str | None:
    """The ts of a recent message in `channel` (or in the thread) carrying this metadata.

    Reads up to `pages` pages, newest first: a busy DM (a burst of reviews, each with its DMs)
    can bury the interrupted message below the first page."""
    cursor: str | None = None
    for _ in range(pages):
        if thread_ts:
            page = client.conversations_replies(channel=channel, ts=thread_ts, limit=limit,
                                                include_all_metadata=True, cursor=cursor)
        else:
            page = client.conversations_history(channel=channel, limit=limit,
                                                include_all_metadata=True, cursor=cursor)
        messages: list[dict[str, Any]] = page.get("messages", [])
        for message in messages:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == event_type and all(
                    payload.get(k) == v for k, v in match.items()):
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None:
            return None
    return None

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


def find(
    client: WebClient,
    channel: str,
    event_type: str,
    *,
    thread_ts: str | None = None,
    oldest: float | None = None,
    limit: int = 200,
    pages: int = 10,
    **match: Any,
) -> str | None:
    """The ts of a message in `channel` (or in the thread) carrying this metadata.

    The conversation is read back page by page (newest first, up to `pages` × `limit` messages,
    from `oldest` when the caller knows the message cannot be older): a busy channel or DM (60
    tickets' status messages and Start DMs in one owner's DM) pushes the message past the first
    page, and a look that stops there posts it twice.
    """
    latest: str | None = None
    for _ in range(pages):
        since = f"{oldest:.6f}" if oldest else None
        if thread_ts:
            page = client.conversations_replies(
                channel=channel, ts=thread_ts, limit=1000, include_all_metadata=True
            )
        else:
            page = client.conversations_history(
                channel=channel, limit=limit, include_all_metadata=True, latest=latest, oldest=since
            )
        messages: list[dict[str, Any]] = page.get("messages", [])
        for message in messages:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == event_type and all(
                payload.get(k) == v for k, v in match.items()
            ):
                return str(message["ts"])
        if thread_ts or not page.get("has_more") or not messages:
            return None
        latest = str(messages[-1]["ts"])  # the next page: older than this one's oldest
    return None

"""What the fake Slack received, held against the database: for tests that kill the bot.

Every message the bot may retry carries Slack metadata naming what it is (bot/slack/posted.py),
so "delivered exactly once" is counted by that identity, across every conversation.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.reviews import status
from sandbox.fake_slack import FakeSlack
from storage import outbox
from storage.db import session_factory
from storage.models import Review

Posted = tuple[str, dict[str, Any]]  # (conversation id, message)


class Received:
    """Every message in the fake Slack (thread replies included), indexed by its metadata."""

    def __init__(self, slack: FakeSlack) -> None:
        with slack.lock:
            self.messages: list[Posted] = [
                (channel, copy.deepcopy(m))
                for channel, messages in slack.workspace.messages.items()
                for m in messages
            ]
        self._by_identity: dict[str, list[Posted]] = defaultdict(list)
        for channel, message in self.messages:
            data = message.get("metadata") or {}
            if data.get("event_type"):
                key = _identity(data["event_type"], data.get("event_payload") or {})
                self._by_identity[key].append((channel, message))

    def duplicates(self) -> dict[str, int]:
        """Identities Slack received more than once (each should be delivered once)."""
        return {k: len(v) for k, v in self._by_identity.items() if len(v) > 1}

    def found(self, event_type: str, **payload: Any) -> list[Posted]:
        return self._by_identity.get(_identity(event_type, payload), [])


def _identity(event_type: str, payload: dict[str, Any]) -> str:
    return json.dumps([event_type, payload], sort_keys=True)


def without_ids(value: Any) -> Any:
    """Block Kit as the bot sent it (the fake fills in block ids the bot left out)."""
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k != "block_id"}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def status_problem(session: Session, review: Review, received: Received) -> str | None:
    """Why the review's status message is not what the database says it should be, if so."""
    posts = received.found(status.STATUS_EVENT, review_id=review.id)
    if len(posts) != 1:
        return f"review {review.id} has {len(posts)} status messages"
    channel, message = posts[0]
    if (channel, message["ts"]) != (review.channel_id, review.message_ts):
        return f"review {review.id} points at another message than the one posted"
    expected = status._render(session, review)
    if (message["text"], without_ids(message["blocks"])) != (
        expected["text"],
        without_ids(expected["blocks"]),
    ):
        return f"review {review.id}'s status message is stale: {message['text']!r}"
    return None


def wait_for_drain(engine: Engine, timeout: float) -> float:
    """Seconds until the outbox has nothing pending; AssertionError naming what is stuck."""
    started = time.monotonic()
    sessions = session_factory(engine)
    pending = 0
    while time.monotonic() - started < timeout:
        with sessions() as session:
            pending = (
                session.scalar(
                    select(func.count())
                    .select_from(outbox.Effect)
                    .where(outbox.Effect.status == outbox.PENDING)
                )
                or 0
            )
        if not pending:
            return time.monotonic() - started
        time.sleep(0.5)
    now = datetime.now(UTC)
    with sessions() as session:
        stuck = Counter(
            (
                e.kind,
                e.attempts,
                "leased" if e.lease_until and e.lease_until > now else "free",
                "due" if e.due_at <= now else "later",
                (e.last_error or "")[:60],
            )
            for e in session.scalars(
                select(outbox.Effect).where(outbox.Effect.status == outbox.PENDING)
            )
        )
    raise AssertionError(
        f"the outbox still had {pending} effect(s) pending after {timeout} s: "
        + "; ".join(f"{n}x {k}" for k, n in stuck.most_common(12))
    )


def failed_effects(session: Session) -> list[tuple[str, str | None]]:
    return [(e.kind, e.last_error) for e in outbox.unfinished(session, failed_only=True)]

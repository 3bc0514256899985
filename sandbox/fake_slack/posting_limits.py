"""Slack's limits on posting messages, for exercising a bot's bulk senders.

Slack lets `chat.postMessage` post about one message per second in each channel (each DM is its
own channel) and a workspace-wide number per minute that it does not publish; past either it
answers HTTP 429 `ratelimited` with a `Retry-After` header, and the message is not posted. The
fake applies these only when a test or a benchmark asks for them (`FakeSlack.limit_posting`), so
ordinary tests never wait on them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from .store import ApiError


class PostingLimits:
    """One message per `per_channel` seconds in each channel, `per_minute` in the workspace
    over any sliding minute (None: no workspace budget). Counts only messages it let through."""

    def __init__(
        self, clock: Callable[[], float], *, per_channel: float = 1.0, per_minute: int | None = None
    ) -> None:
        self.clock = clock
        self.per_channel = per_channel
        self.per_minute = per_minute
        self.refused = 0
        self._last: dict[str, float] = {}
        self._posted: deque[float] = deque()

    def admit(self, channel_id: str) -> None:
        """Let a message to `channel_id` through, or raise the 429 Slack would answer."""
        now = self.clock()
        wait = 0.0
        last = self._last.get(channel_id)
        if last is not None and now - last < self.per_channel:
            wait = self.per_channel - (now - last)
        if self.per_minute is not None:
            while self._posted and self._posted[0] <= now - 60:
                self._posted.popleft()
            if len(self._posted) >= self.per_minute:
                wait = max(wait, self._posted[0] + 60 - now)
        if wait > 0:
            self.refused += 1
            raise ApiError(
                "ratelimited", status=429, headers={"Retry-After": str(max(1, math.ceil(wait)))}
            )
        self._last[channel_id] = now
        self._posted.append(now)

"""Slack users as the bot needs them (admin rights, timezone), cached to spare users.info calls.

Admin checks and reminder scheduling read the same cache, so one users.info call serves both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class People:
    def __init__(self, client: WebClient, *, ttl: float = 600,
                 clock: Callable[[], float] = time.monotonic):
        self._client, self._ttl, self._clock = client, ttl, clock
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def info(self, user_id: str) -> dict[str, Any] | None:
        """users.info's `user`, or None when Slack cannot say (unknown user, outage)."""
        now = self._clock()
        with self._lock:
            hit = self._cache.get(user_id)
        if hit and now - hit[0] < self._ttl:
            return hit[1]
        try:
            user = self._client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return None  # not cached: the next call asks again
        except (OSError, HTTPException) as exc:  # timed out, or no connection: cannot say either
            log.warning("users.info failed for %s: %s", user_id, type(exc).__name__)
            return None
        with self._lock:
            self._cache[user_id] = (now, user)
        return user

    def timezone(self, user_id: str, default: str) -> str:
        user = self.info(user_id)
        return (user or {}).get("tz") or default


class AdminCheck:
    """Slack's workspace admins and owners, plus POSTMORTEM_ADMINS; checked on the server."""

    def __init__(self, people: People, configured: frozenset[str]):
        self._people, self._configured = people, configured

    def __call__(self, user_id: str) -> bool:
        if user_id in self._configured:
            return True
        user = self._people.info(user_id)
        if user is None:
            return False  # refuse rather than grant when Slack cannot say
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

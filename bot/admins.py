"""Who is an admin: Slack's workspace admins and owners, plus POSTMORTEM_ADMINS.

Checked on the server for every admin-only action; hiding a button is never the check.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class AdminCheck:
    def __init__(self, client: WebClient, configured: frozenset[str], *, ttl: float = 600,
                 clock: Callable[[], float] = time.monotonic):
        self._client, self._configured, self._ttl, self._clock = client, configured, ttl, clock
        self._cache: dict[str, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def __call__(self, user_id: str) -> bool:
        if user_id in self._configured:
            return True
        now = self._clock()
        with self._lock:
            hit = self._cache.get(user_id)
        if hit and now - hit[0] < self._ttl:
            return hit[1]
        try:
            user = self._client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return False  # refuse rather than grant when Slack cannot say
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        with self._lock:
            self._cache[user_id] = (now, admin)
        return admin

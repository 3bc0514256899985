"""Slack users as the bot needs them (admin rights, timezone), cached to spare users.info calls.

Admin checks and reminder scheduling read the same cache, so one users.info call serves both.
Timezones for many people at once (a reminder sweep's owners) come from a directory of the whole
workspace read from users.list pages, at most once a day: 500 owners cost a few pages, not 500
users.info calls one after the other. Slack's `user_change` events (bot/directory/) keep both
up to date in between, so a person who moves timezone is reminded on their new working day.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class People:
    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = 600,
        clock: Callable[[], float] = time.monotonic,
        directory_ttl: float = 24 * 3600,
        page_size: int = 200,
    ):
        self._client, self._ttl, self._clock = client, ttl, clock
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()
        self._directory_ttl, self._page_size = directory_ttl, page_size
        self._directory: dict[str, dict[str, Any]] = {}  # users.list members by id
        self._directory_at: float | None = None
        self._changed: dict[str, dict[str, Any]] = {}  # events heard while pages are read
        self._loading = threading.Lock()

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
        user = self._listed(user_id) or self.info(user_id)
        return (user or {}).get("tz") or default

    def timezones(self, user_ids: Iterable[str], default: str) -> dict[str, str]:
        """Many people's timezones: from the directory (users.list pages, read at most once a
        day), users.info only for someone who joined since it was read."""
        wanted = list(user_ids)
        if wanted:
            self._load_directory()
        return {user_id: self.timezone(user_id, default) for user_id in wanted}

    def user_changed(self, user: dict[str, Any]) -> None:
        """A `user_change` event's user (Slack sends the whole object): cached at once."""
        user_id = user.get("id")
        if not isinstance(user_id, str):
            return
        with self._lock:
            self._cache[user_id] = (self._clock(), user)
            self._directory[user_id] = user
            self._changed[user_id] = user

    def _listed(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            if self._directory_at is None or (
                self._clock() - self._directory_at >= self._directory_ttl
            ):
                return None
            return self._directory.get(user_id)

    def _load_directory(self) -> None:
        """Read users.list, page by page, unless a copy younger than a day is at hand."""
        with self._loading:
            with self._lock:
                if self._directory_at is not None and (
                    self._clock() - self._directory_at < self._directory_ttl
                ):
                    return
                self._changed = {}
            started = self._clock()
            members: dict[str, dict[str, Any]] = {}
            cursor: str | None = None
            try:
                while True:
                    page = self._client.users_list(limit=self._page_size, cursor=cursor)
                    for member in page.get("members") or []:
                        members[member["id"]] = member
                    cursor = (page.get("response_metadata") or {}).get("next_cursor")
                    if not isinstance(cursor, str) or not cursor:
                        break
            except SlackApiError as exc:  # users.info, one by one, until the next try
                log.warning("users.list failed: %s", exc.response.get("error"))
                return
            except (OSError, HTTPException) as exc:  # timed out or cut off: the same
                log.warning("users.list failed: %s", type(exc).__name__)
                return
            with self._lock:
                members.update(self._changed)  # an event during the read is newer than its page
                self._directory, self._directory_at = members, started


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


def admin_ids(client: WebClient, configured: frozenset[str]) -> list[str]:
    """Who hears what waits on admins: POSTMORTEM_ADMINS when set, else Slack's admins and
    owners (one users.list call; bots and deactivated accounts left out)."""
    if configured:
        return sorted(configured)
    members: list[dict[str, Any]] = client.users_list(limit=500).get("members", [])
    return sorted(
        m["id"]
        for m in members
        if (m.get("is_admin") or m.get("is_owner")) and not m.get("deleted") and not m.get("is_bot")
    )

"""A small JSON-over-HTTP client the adapters share: time-outs, error classes, no token leaks.

Standard library only (urllib). The transport is a parameter so adapter tests can record the
exact requests an adapter builds without a server. Every error message passes through `_safe`,
which blanks the token wherever a tracker echoes it back (some echo the Authorization header in
error bodies), so neither the outbox's `last_error` nor a log line ever holds it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from bot.trackers.base import (
    Headers,
    TrackerRateLimited,
    TrackerRefused,
    TrackerTimedOut,
    TrackerUnavailable,
)

TIMEOUT = 10.0  # seconds; a tracker slower than this is treated as down (and retried)
USER_AGENT = "postmortem-bot (+https://github.com/postmortem-bot)"


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Response:
    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


Transport = Callable[[Request, float], Response]
RateLimit = Callable[[Response], "timedelta | None"]


def urllib_transport(request: Request, timeout: float) -> Response:
    """Send with urllib; an HTTP error status is an answer, not an exception."""
    sent = urllib.request.Request(  # noqa: S310 - http(s) only, checked in settings
        request.url,
        data=request.body,
        method=request.method,
        headers=request.headers,
    )
    try:
        with urllib.request.urlopen(sent, timeout=timeout) as answer:  # noqa: S310 - http(s) only
            return Response(answer.status, Headers(dict(answer.headers.items())), answer.read())
    except urllib.error.HTTPError as exc:
        return Response(
            exc.code, Headers(dict(exc.headers.items()) if exc.headers else {}), exc.read() or b""
        )


def seconds(value: str) -> timedelta | None:
    """A Retry-After in seconds (the HTTP-date form is not used by these trackers)."""
    try:
        return timedelta(seconds=max(float(value), 0)) if value.strip() else None
    except ValueError:
        return None


class Client:
    """Calls one tracker's API: `base_url` + path, its auth headers, JSON in and out."""

    def __init__(
        self,
        name: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        secrets: tuple[str, ...],
        rate_limit: RateLimit,
        error_text: Callable[[Any], str | None],
        transport: Transport | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.name, self.base_url = name, base_url.rstrip("/")
        self._headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **headers}
        self._secrets = tuple(s for s in secrets if s)
        self._rate_limit, self._error_text = rate_limit, error_text
        self._transport = transport or urllib_transport
        self.timeout = timeout

    def _safe(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[token]")
        return text

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        allow: tuple[int, ...] = (),
    ) -> Response:
        """One request; a 2xx answer (or a status in `allow`), or an exception saying whether
        to retry and when."""
        url = self.base_url + path
        if query:
            url += "?" + urlencode(query, doseq=True)
        headers = dict(self._headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = Request(method, url, headers, data)
        try:
            response = self._transport(request, self.timeout)
        except TimeoutError:
            raise TrackerTimedOut(
                f"{self.name} did not answer {method} {path} within {self.timeout:g} s",
                self.timeout,
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):  # urllib wraps a time-out while connecting
                raise TrackerTimedOut(
                    f"{self.name} did not answer {method} {path} within {self.timeout:g} s",
                    self.timeout,
                ) from None
            raise TrackerUnavailable(
                self._safe(f"{self.name} unreachable ({type(reason).__name__}: {reason})")
            ) from None
        wait = self._rate_limit(response)
        if wait is not None:
            raise TrackerRateLimited(
                f"{self.name} asked us to wait {wait.total_seconds():.0f} s "
                f"(HTTP {response.status})",
                wait,
            )
        if 200 <= response.status < 300 or response.status in allow:
            return response
        detail = (
            self._error_text(response.json())
            or response.body[:200].decode("utf-8", "replace").strip()
        )
        message = self._safe(
            f"{self.name} answered {response.status} to {method} {path}"
            + (f": {detail}" if detail else "")
        )
        if response.status >= 500 or response.status in (408, 409, 423):
            raise TrackerUnavailable(message)
        raise TrackerRefused(message)

"""A worker that dies just after Slack accepted its message: for idempotency tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.runtime import Runtime


def crash_after_posting(
    monkeypatch: pytest.MonkeyPatch,
    rt: Runtime,
    *,
    times: int = 1,
    when: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """The next `times` chat.postMessage calls of the delivery worker (those `when` accepts,
    given the call's arguments) reach Slack, and then the worker "crashes" before it can record
    anything: the effect is retried. Returns the posts that crashed."""
    inner = rt.sender.client._inner
    real = inner.chat_postMessage
    crashed: list[dict[str, Any]] = []

    def post(**kwargs: Any) -> Any:
        reply = real(**kwargs)
        if len(crashed) < times and (when is None or when(kwargs)):
            crashed.append(kwargs)
            raise ConnectionError("the worker was killed after Slack accepted the message")
        return reply

    monkeypatch.setattr(inner, "chat_postMessage", post)
    return crashed


def event_type(kwargs: dict[str, Any]) -> str | None:
    """The metadata event type of a chat.postMessage call's arguments."""
    return (kwargs.get("metadata") or {}).get("event_type")

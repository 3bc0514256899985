"""The one WebClient the bot uses, with slack_sdk's retry handlers.

By default slack_sdk retries only connection errors; rate limits (429 with Retry-After) and
Slack's own 5xx answers are retried here too, so a burst never loses a message.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.observability.metrics import Metrics


def make_client(
    token: str | None,
    base_url: str,
    *,
    max_retries: int = 3,
    retry_rate_limits: bool = True,
    metrics: Metrics | None = None,
) -> WebClient:
    """`retry_rate_limits=False` for a client whose caller paces itself and must see each 429
    (bot/slack/pacing.py): the handler would sleep inside the refused call alone. `metrics`
    counts every attempt (its recorder goes first: it only watches, the others decide)."""
    rate_limits = (
        [RateLimitErrorRetryHandler(max_retry_count=max_retries)] if (retry_rate_limits) else []
    )
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        retry_handlers=[
            *([metrics.recorder()] if metrics is not None else []),
            ConnectionErrorRetryHandler(max_retry_count=max_retries),
            *rate_limits,
            ServerErrorRetryHandler(max_retry_count=max_retries),
        ],
    )

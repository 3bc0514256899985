"""The figures `GET /metrics` serves, in Prometheus' text format (prometheus_client).

One `Metrics` per runtime, each with its own `CollectorRegistry`: two bots in one test process
(or a test and the next) never add to each other's counts, and nothing is module-global.

On SQLite `serve` is one process (threads), so the process that answers `/metrics` is the one
that counted. On PostgreSQL `serve` answers requests in several processes and works in one
more (bot/background.py): it then switches prometheus_client to its multiprocess mode
(`share_between_processes`: each process counts into mmap files in a directory of its own) and
`/metrics`, whichever process answers it, adds up every process's counts. Scale out with
replicas and scrape each one. A `postmortem-bot worker` counts its own Slack calls: scrape it
too, given `--metrics-port` (the outbox gauges, read from the database at scrape time, show the
whole queue wherever they are scraped).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy.orm import Session

from storage import outbox
from storage.types import utcnow

log = logging.getLogger(__name__)

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0, 10.0)
"""Seconds; Slack gives up on an ack after 3 s, so the buckets are dense below it."""
REQUEST_KINDS = (
    "command",
    "block_actions",
    "view_submission",
    "view_closed",
    "event",
    "options",
    "shortcut",
    "other",
)
_ERROR_CODE = re.compile(r"^[a-z0-9_]{1,60}$")


def request_kind(body: Any) -> str:
    """The kind of a Slack request, from its parsed body (the ack histogram's label)."""
    if not isinstance(body, dict):
        return "other"
    if "command" in body:
        return "command"
    kind = body.get("type")
    if kind in ("block_actions", "view_submission", "view_closed"):
        return str(kind)
    if kind == "event_callback":
        return "event"
    if kind in ("block_suggestion", "dialog_suggestion"):
        return "options"
    if kind in ("shortcut", "message_action"):
        return "shortcut"
    return "other"


def call_outcome(response: HttpResponse | None, error: Exception | None) -> str:
    """One Web API attempt's outcome: ok, Slack's error code, ratelimited, 5xx, connection_error.

    An error code is kept only when it looks like one of Slack's (lower-case words), so a
    misbehaving proxy cannot grow the label set without bound.
    """
    if response is None:
        return "connection_error" if error is not None else "unknown"
    status = response.status_code
    if status == 429:
        return "ratelimited"
    if status >= 500:
        return "5xx"
    if status != 200:
        return f"http_{status}"
    body = response.body if isinstance(response.body, dict) else {}
    if body.get("ok") is True:
        return "ok"
    code = str(body.get("error") or "unknown_error")
    return code if _ERROR_CODE.match(code) else "unknown_error"


def method_of(url: str) -> str:
    """`https://slack.com/api/chat.postMessage?x=1` -> `chat.postMessage`."""
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name if re.match(r"^[A-Za-z0-9_.]{1,80}$", name) else "unknown"


class SlackCallRecorder(RetryHandler):
    """Counts every Web API attempt, retries included, by method and outcome.

    slack_sdk asks each retry handler, in order, about every attempt's answer (and about every
    connection error); placed first, this one records and never asks for a retry, so the real
    handlers after it decide as before. That makes a 429 or a 5xx that a later retry got past
    visible, which a count of final results would hide.
    """

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self._metrics = metrics

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        outcome = call_outcome(response, error)
        self._metrics.slack_calls.labels(method_of(request.url), outcome).inc()
        return False

    def _can_retry(self, **_: Any) -> bool:  # never used: see can_retry
        return False


class _OutboxCollector(Collector):
    """Queue depth and the oldest pending effect's age, read at scrape time (three indexed
    counts: `ix_outbox_status_due_at` leads with the status)."""

    def __init__(self, sessions: Callable[[], Session]) -> None:
        self._sessions = sessions

    def collect(self) -> Iterator[Metric]:
        try:
            with self._sessions() as session:
                backlog = outbox.backlog(session)
        except Exception as exc:  # noqa: BLE001 - a scrape must answer while the database is down
            log.warning("metrics: outbox figures unavailable: %s", type(exc).__name__)
            return
        depth = GaugeMetricFamily(
            "postmortem_outbox_effects",
            "Outbox effects not yet delivered, by state (pending: not tried yet; retrying: "
            "tried and due again; failed: refused for good, see `postmortem-bot outbox`).",
            labels=["state"],
        )
        depth.add_metric(["pending"], backlog.pending)
        depth.add_metric(["retrying"], backlog.retrying)
        depth.add_metric(["failed"], backlog.failed)
        yield depth
        age = 0.0
        if backlog.oldest_pending_at is not None:
            age = max((utcnow() - backlog.oldest_pending_at).total_seconds(), 0.0)
        yield GaugeMetricFamily(
            "postmortem_outbox_oldest_pending_seconds",
            "Age of the oldest effect still pending (0 when none is).",
            value=age,
        )


MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own setting


def share_between_processes(directory: str) -> None:
    """Count into `directory`, shared by this process and those it forks or starts after.

    prometheus_client picks how metrics keep their values from PROMETHEUS_MULTIPROC_DIR when
    it is first imported, and `serve` has imported it (and the whole app) before it knows its
    database; so the choice is made again here, before any metric exists. Processes started
    later (the background process) read the variable themselves."""
    os.environ[MULTIPROCESS_DIR] = directory
    values.ValueClass = values.get_value_class()


class Metrics:
    """Every metric the bot exposes, in a registry of its own."""

    def __init__(self) -> None:
        self._outbox: _OutboxCollector | None = None
        self.registry = CollectorRegistry()
        r = self.registry
        self.ack_seconds = Histogram(
            "postmortem_ack_seconds",
            "From a Slack request's arrival to Bolt's ack response, by request kind.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.slack_calls = Counter(
            "postmortem_slack_api_calls",
            "Slack Web API attempts (each retry counts) by method and outcome: ok, Slack's "
            "error code, ratelimited (429), 5xx, connection_error.",
            ["method", "outcome"],
            registry=r,
        )
        self.nudges = Counter(
            "postmortem_nudges",
            "Action item reminders by outcome: sent, missed (too late to send), failed.",
            ["outcome"],
            registry=r,
        )
        self.digests = Counter(
            "postmortem_digests",
            "Meeting digests by outcome: posted, missed (the bot was down), failed.",
            ["outcome"],
            registry=r,
        )
        self.webhooks = Counter(
            "postmortem_webhook_deliveries",
            "Deliveries to /hooks/tickets and /hooks/trackers/<name> by outcome: accepted, "
            "duplicate, unauthorised, invalid, error.",
            ["hook", "outcome"],
            registry=r,
        )
        for kind in REQUEST_KINDS[:-1]:  # shown at 0 before the first request of each kind
            self.ack_seconds.labels(kind)

    def watch_outbox(self, sessions: Callable[[], Session]) -> None:
        """Report the outbox's depth and oldest age from this database at each scrape."""
        self._outbox = _OutboxCollector(sessions)
        self.registry.register(self._outbox)

    def recorder(self) -> SlackCallRecorder:
        """The retry handler that counts a WebClient's calls (first in its list)."""
        return SlackCallRecorder(self)

    def exposition(self) -> tuple[bytes, str]:
        """The body and Content-Type of `GET /metrics`: with `share_between_processes`, the
        counts of every process of this `serve`."""
        directory = os.environ.get(MULTIPROCESS_DIR)
        if not directory:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        shared = CollectorRegistry()
        multiprocess.MultiProcessCollector(shared, path=directory)
        if self._outbox is not None:
            shared.register(self._outbox)
        return generate_latest(shared), CONTENT_TYPE_LATEST

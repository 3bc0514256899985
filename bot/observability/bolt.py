"""The Bolt app, timed and labelled: each request's ack latency and its log context.

Bolt's `App.dispatch` returns once a listener has called `ack()` (listeners go on in Bolt's
thread pool), on HTTP and in Socket Mode alike, so timing it measures what Slack waits for.
Middleware could not: Bolt runs the listener after the middleware chain has returned.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest

from bot.observability import logs
from bot.observability.metrics import Metrics, request_kind

log = logging.getLogger(__name__)


class ObservedApp(App):
    """A Bolt `App` that records `postmortem_ack_seconds` and sets the request's log context."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        # From the request's arrival at the server when it came over HTTP (bot/server.py sets
        # it before reading the body), else from now (Socket Mode).
        started = logs.arrived_at.get() or time.perf_counter()
        request = logs.request_id.get() or logs.new_request_id()
        team = req.context.team_id or req.context.enterprise_id
        kind = request_kind(req.body)
        with logs.request_scope(request=request, team=team):
            status = 500
            try:
                response = super().dispatch(req)
                status = response.status
                return response
            finally:
                elapsed = time.perf_counter() - started
                self.metrics.ack_seconds.labels(kind).observe(elapsed)
                # One line per Slack request, with its workspace and request id (the access
                # log has neither, and Socket Mode has no access log).
                log.info("slack %s answered %s in %.0f ms", kind, status, elapsed * 1000)

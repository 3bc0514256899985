"""The Bolt app: one per process, with its token fixed at start-up (never swapped per request)."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltResponse

from bot import tickets
from bot.listeners import (
    acl,
    action_items,
    commands,
    digest,
    home,
    knowledge,
    reviews,
    safety,
)
from bot.runtime import Runtime

log = logging.getLogger(__name__)


def create_app(rt: Runtime) -> App:
    # Bolt's default pool has 5 threads; a listener waiting on a slow Slack call holds one, and
    # new requests then wait for a free thread before they can even ack. Size it generously.
    app = App(
        client=rt.client,
        signing_secret=rt.settings.signing_secret or None,
        request_verification_enabled=rt.settings.app_token is None,
        listener_executor=ThreadPoolExecutor(max_workers=rt.settings.listener_threads,
                                             thread_name_prefix="listener"),
        raise_error_for_unhandled_request=False,
    )

    @app.error
    def on_error(error: Exception, body: dict) -> BoltResponse | None:
        log.exception("listener failed: %s", type(error).__name__, exc_info=error)
        return None

    for module in (commands, reviews, home, action_items, safety, acl, digest, tickets,
                   knowledge):
        module.register(app, rt)
    return app

"""The one place features are wired together: the Bolt app, its jobs and its CLI commands.

Every feature is listed in `FEATURES`; each adds its listeners, `/postmortem` words, jobs,
commands and review hooks from its own `feature.py`. The runtime reaches listeners through Bolt's
context (`rt`, `hooks`, `subcommands` arguments), so listeners are plain named functions that a
test calls directly. One App per process, built here; never a module-global App.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click
from slack_bolt import App, BoltContext, BoltResponse

from bot import commands
from bot.action_items.feature import FEATURE as ACTION_ITEMS
from bot.consumer_law.feature import FEATURE as CONSUMER_LAW
from bot.digest.feature import FEATURE as DIGEST
from bot.directory.feature import FEATURE as DIRECTORY
from bot.features import (
    EffectHandler,
    Feature,
    HookedEffectHandler,
    Job,
    ReviewHooks,
    Subcommand,
)
from bot.home.feature import FEATURE as HOME
from bot.insights.feature import FEATURE as INSIGHTS
from bot.invoices.feature import FEATURE as INVOICES
from bot.knowledge.feature import FEATURE as KNOWLEDGE
from bot.observability.bolt import ObservedApp
from bot.observability.logs import ContextThreadPool
from bot.people.feature import FEATURE as PEOPLE
from bot.reviews.feature import FEATURE as REVIEWS
from bot.runtime import Runtime
from bot.safety.feature import FEATURE as SAFETY
from bot.slack.client import make_client
from bot.surveys.feature import FEATURE as SURVEYS
from bot.team_sync.feature import FEATURE as TEAM_SYNC
from bot.tickets.feature import FEATURE as TICKETS
from bot.trackers.feature import FEATURE as TRACKERS
from bot.workspaces import installs
from bot.workspaces.feature import FEATURE as WORKSPACES
from storage.outbox import Claimed

log = logging.getLogger(__name__)

FEATURES: tuple[Feature, ...] = (
    REVIEWS,
    HOME,
    ACTION_ITEMS,
    INVOICES,
    KNOWLEDGE,
    PEOPLE,
    TICKETS,
    DIGEST,
    SAFETY,
    CONSUMER_LAW,
    INSIGHTS,
    TRACKERS,
    DIRECTORY,
    SURVEYS,
    TEAM_SYNC,
    WORKSPACES,
)
"""Order matters only for review hooks: the action items' DMs go out before the report, and
the report is posted before the people feature links it in the lessons DM."""


def review_hooks(features: Iterable[Feature] = FEATURES) -> ReviewHooks:
    features = tuple(features)
    return ReviewHooks(
        after_start=tuple(h for f in features for h in f.after_start),
        after_stage=tuple(h for f in features for h in f.after_stage),
        people_added=tuple(h for f in features for h in f.people_added),
    )


def subcommands(features: Iterable[Feature] = FEATURES) -> dict[str, Subcommand]:
    table: dict[str, Subcommand] = {}
    for feature in features:
        for word, handler in feature.subcommands.items():
            if word in table:
                raise ValueError(f"/postmortem {word} is claimed by two features")
            table[word] = handler
    return table


def _with_hooks(handler: HookedEffectHandler, hooks: ReviewHooks) -> EffectHandler:
    """The handler as the delivery worker calls it, with the features' review hooks."""

    def deliver(rt: Runtime, effect: Claimed) -> None:
        handler(rt, effect, hooks)

    return deliver


def effect_handlers(features: Iterable[Feature] = FEATURES) -> dict[str, EffectHandler]:
    """Every outbox effect kind and the feature function that delivers it."""
    features = tuple(features)
    hooks = review_hooks(features)
    table: dict[str, EffectHandler] = {}
    for feature in features:
        bound = [(k, _with_hooks(h, hooks)) for k, h in feature.hooked_effects.items()]
        for kind, handler in [*feature.effects.items(), *bound]:
            if kind in table:
                raise ValueError(f"effect {kind} is delivered by two features")
            table[kind] = handler
    return table


def jobs(features: Iterable[Feature] = FEATURES) -> list[Job]:
    return [job for feature in features for job in feature.jobs]


def cli_commands(features: Iterable[Feature] = FEATURES) -> list[click.Command]:
    return [command for feature in features for command in feature.commands]


def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
    """Log a listener's failure; Bolt answers Slack (the user's input is already saved)."""
    log.exception("listener failed: %s", type(error).__name__, exc_info=error)
    return None


def runtime_injector(
    rt: Runtime, hooks: ReviewHooks, table: dict[str, Subcommand]
) -> Callable[[BoltContext, Callable[[], BoltResponse]], BoltResponse]:
    """A middleware that hands the runtime to listeners as keyword arguments."""

    def inject(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        # Many workspaces: the request's own (its token, sessions that see only its rows).
        # Leaving events carry no token (Bolt does not authorize them): the process's runtime.
        context["rt"] = rt
        if rt.tokens is not None and context.team_id and context.bot_token:
            rt.tokens.remember_org(context.team_id, context.enterprise_id)
            context["rt"] = rt.for_team(
                context.team_id, context.enterprise_id, token=context.bot_token
            )
        context["hooks"] = hooks
        context["subcommands"] = table
        return next()

    return inject


def create_app(rt: Runtime, features: Sequence[Feature] = FEATURES) -> App:
    """A Bolt app with every listed feature's listeners."""
    # With SLACK_CLIENT_ID/SECRET: Bolt's OAuth flow (GET /slack/install, /slack/oauth_redirect)
    # and each request authorized from the installation store; else the one SLACK_BOT_TOKEN.
    oauth = (
        None if rt.settings.oauth is None else installs.oauth_settings(rt.settings.oauth, rt.engine)
    )
    # Bolt's default pool has 5 threads; a listener waiting on a slow Slack call holds one, and
    # new requests then wait for a free thread before they can even ack. Size it generously.
    app = ObservedApp(
        metrics=rt.metrics,  # ack latency by request kind; the request's log context
        # In OAuth mode a token-less client: Bolt gives each request a copy with the workspace's
        # token, keeping this one's base URL and retry handlers (the metrics recorder too).
        client=rt.client
        if oauth is None
        else make_client(None, rt.settings.api_url, metrics=rt.metrics),
        oauth_settings=oauth,
        signing_secret=rt.settings.signing_secret or None,
        request_verification_enabled=rt.settings.app_token is None,
        # Bolt's eager auth.test would make a Slack outage at start-up a crash loop ("Worker
        # failed to boot"), taking the webhook and the outbox worker down with it; Bolt asks
        # on the first request instead (`postmortem-bot check` verifies the token).
        token_verification_enabled=False,
        listener_executor=ContextThreadPool(  # listeners log with their request's ids
            max_workers=rt.settings.listener_threads, thread_name_prefix="listener"
        ),
        raise_error_for_unhandled_request=False,
    )
    app.use(runtime_injector(rt, review_hooks(features), subcommands(features)))
    app.error(on_error)
    app.command("/postmortem")(commands.postmortem)
    for feature in features:
        if feature.listeners is not None:
            feature.listeners(app)
    return app

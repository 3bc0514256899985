"""The contract between a feature and the app.

A feature package (`bot/<feature>/`) describes everything it adds in one `FEATURE` value in its
`feature.py`: Slack listeners, `/postmortem` words, background jobs, CLI commands, and what it
does after a review starts or a stage is saved. `bot/app.py` lists the features and wires them;
nothing registers itself when a module is imported, so start-up order never matters and a test
can build an app with only the features it needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import click
from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.config import Settings
from bot.reviews.service import SubmitResult
from bot.runtime import Runtime

log = logging.getLogger(__name__)

Subcommand = Callable[[Runtime, dict[str, Any], str, Respond, WebClient], None]
"""`/postmortem <word> <rest>`: (runtime, Slack's command payload, rest, respond, client)."""


@dataclass(frozen=True)
class Job:
    """A function of the runtime that `serve` runs every `seconds` (APScheduler)."""

    id: str
    func: Callable[[Runtime], object]
    seconds: int


@dataclass(frozen=True)
class StageSaved:
    """What features hear when a stage is saved (after the commit and the ack)."""

    review_id: int
    stage_key: str
    user_id: str
    result: SubmitResult


AfterStart = Callable[[Runtime, int], None]
AfterStage = Callable[[Runtime, StageSaved], None]


@dataclass(frozen=True)
class ReviewHooks:
    """Features' reactions to a review's progress, run one by one.

    Each hook runs on its own: one that fails is logged and the next still runs, so a problem in
    (say) the report never stops an action item's owner from being told.
    """

    after_start: tuple[AfterStart, ...] = ()
    after_stage: tuple[AfterStage, ...] = ()

    def started(self, rt: Runtime, review_id: int) -> None:
        for hook in self.after_start:
            try:
                hook(rt, review_id)
            except Exception:
                log.exception("after-start hook %s failed for review %s",
                              getattr(hook, "__qualname__", hook), review_id)

    def stage_saved(self, rt: Runtime, saved: StageSaved) -> None:
        for hook in self.after_stage:
            try:
                hook(rt, saved)
            except Exception:
                log.exception("after-stage hook %s failed for review %s",
                              getattr(hook, "__qualname__", hook), saved.review_id)


@dataclass(frozen=True)
class Feature:
    """Everything one feature adds to the app."""

    name: str
    listeners: Callable[[App], None] | None = None
    subcommands: Mapping[str, Subcommand] = field(default_factory=dict)
    jobs: tuple[Job, ...] = ()
    commands: tuple[click.Command, ...] = ()
    after_start: tuple[AfterStart, ...] = ()
    after_stage: tuple[AfterStage, ...] = ()
    checks: tuple[Callable[[Settings], None], ...] = ()
    """Refuse to start on a malformed setting of this feature (ConfigError, one line)."""

"""The contract between a feature and the app.

A feature package (`bot/<feature>/`) describes everything it adds in one `FEATURE` value in its
`feature.py`: Slack listeners, `/postmortem` words, background jobs, CLI commands, and what it
does after a review starts or a stage is saved. `bot/app.py` lists the features and wires them;
nothing registers itself when a module is imported, so start-up order never matters and a test
can build an app with only the features it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import click
from slack_bolt import App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.reviews.service import SubmitResult
from bot.runtime import Runtime
from storage.outbox import Claimed
from workflows.model import Workflow

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
    """What features hear when a stage is saved (inside the transaction that saves it)."""

    review_id: int
    stage_key: str
    user_id: str
    result: SubmitResult
    # The review's pinned definition, for a hook whose effect applies only to some stages (a
    # survey sent on opening, an async stage, an admin's decision): it records only what can
    # apply. None where a caller does not know it: the hook records as if it could, and the
    # delivery decides.
    workflow: Workflow | None = field(default=None, repr=False, compare=False)
    # The runtime and the saving transaction's session, for a hook whose decision turns on a
    # setting (no tracker in use: no tracker effect); None where a caller has neither.
    rt: Runtime | None = field(default=None, repr=False, compare=False)
    session: Session | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class SideEffect:
    """Something a change promises to do outside the database (a message, a DM, a tracker call).

    Recorded in the change's own transaction (the outbox) and delivered afterwards by a worker
    that retries it until it succeeds or fails for good; `kind` names the handler, a feature's
    `effects` entry. Effects with the same `group` are delivered in the order recorded.
    """

    kind: str
    payload: dict[str, Any]
    group: str | None = None


class PermanentError(Exception):
    """A handler's way to say "waiting will not help": the effect fails now, not after retries."""


class RetryLater(Exception):
    """A handler's way to say "try again after `wait`": a service's Retry-After or rate limit.

    Waiting is the documented remedy, so these retries never use up the effect's attempts.
    """

    def __init__(self, message: str, wait: timedelta) -> None:
        super().__init__(message)
        self.wait = wait


def payload_int(payload: Mapping[str, Any], key: str) -> int:
    """A required integer field of an effect's payload (a malformed one fails for good)."""
    value = payload.get(key)
    if not isinstance(value, int):
        raise PermanentError(f"payload has no integer {key!r}")
    return value


@dataclass(frozen=True)
class PeopleAdded:
    """What features hear when participants join a review (inside the transaction that adds
    them): a survey already sent, or a team sync already announced, reaches them too."""

    review_id: int
    user_ids: tuple[str, ...]
    session: Session = field(repr=False, compare=False)


EffectHandler = Callable[[Runtime, Claimed], None]
"""Delivers one claimed effect; raising means "try again later" (or failed, for good errors)."""

AfterStart = Callable[[int, Workflow | None], Iterable[SideEffect]]
"""(review id, the review's pinned definition or None where unknown): the effects to record."""
AfterStage = Callable[[StageSaved], Iterable[SideEffect]]
AfterPeopleAdded = Callable[[PeopleAdded], Iterable[SideEffect]]


@dataclass(frozen=True)
class ReviewHooks:
    """What features promise to do when a review starts or a stage is saved.

    Hooks run inside the transaction that saves the change and only decide: they return the side
    effects to record, and the delivery worker carries each out on its own, so one failing
    effect (a Slack outage on the status message) never holds back another (the owner's DM).
    """

    after_start: tuple[AfterStart, ...] = ()
    after_stage: tuple[AfterStage, ...] = ()
    people_added: tuple[AfterPeopleAdded, ...] = ()

    def started(self, review_id: int, workflow: Workflow | None = None) -> list[SideEffect]:
        return [effect for hook in self.after_start for effect in hook(review_id, workflow)]

    def stage_saved(self, saved: StageSaved) -> list[SideEffect]:
        return [effect for hook in self.after_stage for effect in hook(saved)]

    def added(self, added: PeopleAdded) -> list[SideEffect]:
        if not added.user_ids:
            return []
        return [effect for hook in self.people_added for effect in hook(added)]


HookedEffectHandler = Callable[[Runtime, Claimed, ReviewHooks], None]
"""An effect handler that changes a review the way a listener does, so it tells the features
too (people's user-group expansion adds participants); `bot/app.py` hands it the hooks."""


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
    people_added: tuple[AfterPeopleAdded, ...] = ()
    effects: Mapping[str, EffectHandler] = field(default_factory=dict)
    hooked_effects: Mapping[str, HookedEffectHandler] = field(default_factory=dict)

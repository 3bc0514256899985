"""Recording side effects with a change, and delivering them with retries.

`record` runs in the caller's transaction. `deliver_due` is one pass of a worker: claim what is
due, run each effect's handler, and record the outcome. Transient failures (Slack 5xx, 429,
time-outs, a database blip) are retried with exponential backoff, or after Slack's Retry-After;
errors that will not change by waiting (the channel is gone, the blocks are invalid) fail the
effect for good, and the review's owner is told, as for a reminder that cannot be delivered.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.features import EffectHandler, PermanentError, RetryLater, SideEffect
from bot.observability import logs
from bot.runtime import NotInstalled, Runtime
from bot.slack.text import escape
from storage import outbox
from storage import reviews as store
from storage.db import transaction
from storage.types import utcnow

log = logging.getLogger(__name__)

LONGEST_HOLD = timedelta(minutes=10)  # a handler hung longer than this is let go to others
MAX_ATTEMPTS = 12  # about 1 h 45 min of backoff before an effect fails for good
FIRST_DELAY = timedelta(seconds=5)
LONGEST_DELAY = timedelta(minutes=30)
PERMANENT_SLACK_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "users_not_found",
        "account_inactive",
        "user_disabled",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
        "cannot_dm_bot",
        "restricted_action",
        "message_not_found",
        "cant_update_message",
        "invalid_metadata_format",
    }
)


_riders: ContextVar[list[SideEffect] | None] = ContextVar("outbox_riders", default=None)


@contextmanager
def riding_along(effects: Iterable[SideEffect]) -> Iterator[list[SideEffect]]:
    """Within the block, the first `record` also records `effects`, in its transaction.

    A surface that reuses another feature's listener (App Home reuses the action items'
    buttons) adds what its own screen needs to the change those listeners commit, without
    either knowing the other: a change and its Home redraw are kept or lost together. Yields
    the effects still waiting: empty once a change recorded them; left over when the block
    changed nothing (nothing to redraw)."""
    waiting = list(effects)
    token = _riders.set(waiting)
    try:
        yield waiting
    finally:
        _riders.reset(token)


def record(session: Session, effects: Iterable[SideEffect]) -> int:
    """Put the effects in the outbox, in the caller's transaction; how many (with any effects
    `riding_along` with the first change of the block it is called in)."""
    riders = _riders.get()
    if riders:
        effects = [*effects, *riders]
        riders.clear()
    return outbox.enqueue_many(session, ((e.kind, e.payload, e.group) for e in effects))


@dataclass
class DeliveryResult:
    done: int = 0
    retried: int = 0
    failed: int = 0

    def __bool__(self) -> bool:
        return bool(self.done or self.retried or self.failed)

    def __str__(self) -> str:
        return f"delivered {self.done}, retrying {self.retried}, failed {self.failed}"


def backoff(attempt: int) -> timedelta:
    """5 s, 10 s, 20 s, … up to 30 min, with jitter so replicas do not retry in step."""
    delay = min(FIRST_DELAY * (2 ** max(attempt - 1, 0)), LONGEST_DELAY)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


def _retry_after(exc: SlackApiError) -> timedelta | None:
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return timedelta(seconds=max(int(value), 1)) if value is not None else None
    except (TypeError, ValueError):
        return None


def classify(exc: BaseException, attempt: int) -> tuple[bool, timedelta, str]:
    """(permanent?, wait before the next try, what to record) for a handler's exception."""
    if isinstance(exc, PermanentError):
        return True, timedelta(0), str(exc)
    if isinstance(exc, RetryLater):  # a tracker's Retry-After or rate-limit reset
        return False, max(exc.wait, timedelta(seconds=1)), str(exc)
    if isinstance(exc, SlackApiError):
        code = str(exc.response.get("error") or "slack_error")
        if code in PERMANENT_SLACK_ERRORS:
            return True, timedelta(0), f"Slack: {code}"
        if code == "ratelimited":
            return False, _retry_after(exc) or backoff(attempt), "Slack: ratelimited"
        return attempt >= MAX_ATTEMPTS, backoff(attempt), f"Slack: {code}"
    text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip()
    return attempt >= MAX_ATTEMPTS, backoff(attempt), text


def deliver_due(
    rt: Runtime,
    handlers: Mapping[str, EffectHandler],
    now: datetime | None = None,
    *,
    limit: int = 32,
    concurrency: int = 8,
    stop: threading.Event | None = None,
) -> DeliveryResult:
    """One pass: claim due effects and deliver each on its own, several at a time.

    Effects are independent (a group's later effects are not claimed while an earlier one is
    pending), so a slow or failing Slack call holds up only its own effect.

    Once `stop` is set (a worker told to stop), the pass finishes the handlers already running,
    hands back the claims it has not started and claims nothing more: with a backlog and a slow
    Slack, finishing the pass would hold a SIGTERM'd worker for minutes, past any deploy's grace.
    """
    result = DeliveryResult()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="deliver") as pool:
        while True:
            if stop is not None and stop.is_set():
                return result
            when = now or utcnow()
            rt.sender.foreground.give_way()  # requests in flight first (bot/slack/pacing.py)
            with transaction(rt.sessions) as session:
                claimed = outbox.claim_due(session, when, limit=limit)
            if not claimed:
                return result
            running = {pool.submit(_deliver_one, rt, handlers, e, now): e for e in claimed}
            held_since = renewed = time.monotonic()
            while running:
                finished, _ = wait(
                    running, timeout=renew_every().total_seconds(), return_when=FIRST_COMPLETED
                )
                done = []
                for future in finished:
                    outcome = future.result()
                    setattr(result, outcome, getattr(result, outcome) + 1)
                    if outcome == "done":
                        done.append(running[future].id)
                    del running[future]
                if done:  # one transaction for the effects that finished together
                    with transaction(rt.sessions) as session:
                        outbox.finish(session, *done, now=now)
                if stop is not None and stop.is_set():
                    _hand_back(rt, running)
                since_renewal = time.monotonic() - renewed
                if (
                    running
                    and since_renewal >= renew_every().total_seconds()
                    and time.monotonic() - held_since < LONGEST_HOLD.total_seconds()
                ):
                    _renew(rt, list(running.values()), now)
                    renewed = time.monotonic()
            if now is not None:
                return result  # a fixed clock (tests, `--now`): one batch


def _hand_back(rt: Runtime, running: dict[Future[str], outbox.Claimed]) -> None:
    """Release the claims whose handlers have not started (cancelled here), so another worker
    takes them at once instead of when their lease ends."""
    unstarted = [future for future in running if future.cancel()]
    if not unstarted:
        return
    with transaction(rt.sessions) as session:
        outbox.release(session, [running.pop(future) for future in unstarted])


def renew_every() -> timedelta:
    """A third of the lease: two renewals can be late before another worker takes over."""
    return outbox.LEASE / 3


def _renew(rt: Runtime, claims: list[outbox.Claimed], now: datetime | None) -> None:
    """Keep holding effects whose handlers are still running (a dead worker stops renewing)."""
    try:
        with transaction(rt.sessions) as session:
            outbox.renew(session, claims, (now or utcnow()) + outbox.LEASE)
    except Exception as exc:  # noqa: BLE001 - at worst the lease passes and an effect repeats
        log.warning("could not renew %d outbox lease(s): %s", len(claims), type(exc).__name__)


def _deliver_one(
    rt: Runtime, handlers: Mapping[str, EffectHandler], effect: outbox.Claimed, now: datetime | None
) -> str:
    """Run one effect's handler: "done" (which `deliver_due` records, with the effects that
    finished at the same moment), or "retried" or "failed" (recorded here, each on its own).

    Its log lines (the handler's and the outcome's) name the effect's workspace."""
    with logs.request_scope(team=effect.team_id):
        return _deliver(rt, handlers, effect, now)


def _deliver(
    rt: Runtime, handlers: Mapping[str, EffectHandler], effect: outbox.Claimed, now: datetime | None
) -> str:
    handler = handlers.get(effect.kind)
    try:
        if handler is None:
            raise PermanentError(f"no handler for {effect.kind!r} in this version of the bot")
        if effect.team_id is not None:  # many workspaces: its own token and rows
            try:
                rt = rt.for_team(effect.team_id)
            except NotInstalled as exc:
                raise PermanentError(str(exc)) from None
        with rt.sender.lane(lane_of(effect.payload)):  # paced, as the reminder sweep is
            rt.sender.foreground.give_way()  # its reads and rendering after the acks in flight
            handler(rt.paced(), effect)
    except Exception as exc:  # every failure is recorded; none escapes the worker
        permanent, wait, error = classify(exc, effect.attempt)
        with transaction(rt.sessions) as session:
            if permanent:
                outbox.fail(session, effect.id, error)
            else:
                outbox.retry_at(session, effect.id, (now or utcnow()) + wait, error)
        if permanent:
            log.error("effect %s (%s) failed for good: %s", effect.id, effect.kind, error)
            _tell_owner(rt, effect, error)
            return "failed"
        log.warning(
            "effect %s (%s) will be retried in %ds: %s",
            effect.id,
            effect.kind,
            wait.total_seconds(),
            error,
        )
        return "retried"
    return "done"  # recorded by deliver_due, with the effects that finished at the same time


def lane_of(payload: Mapping[str, object]) -> str | None:
    """The channel an effect posts to, when its payload names one ("channel": a channel id, or
    a user id for their DM): its effects then take turns with each other and with reminders
    to that channel. No effect kind names one yet (their payloads hold ids to look up)."""
    channel = payload.get("channel")
    return channel if isinstance(channel, str) and channel else None


WHAT = {
    "reviews.status": "update the review's status message",
    "action_items.assigned": "tell an action item's owner about it",
    "action_items.all_done": "ask you to confirm the improvements",
    "action_items.improvements_confirmed": "show the improvements as confirmed",
    "knowledge.report": "post the lessons report",
    "invoices.post": "post the tax invoice",
}


def _tell_owner(rt: Runtime, effect: outbox.Claimed, error: str) -> None:
    """The review's owner hears what the bot could not do, once, best effort."""
    review_id = effect.payload.get("review_id")
    if not isinstance(review_id, int):
        return
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return
        owner, title = review.owner_id, review.title
    what = WHAT.get(effect.kind, effect.kind)
    try:
        rt.client.chat_postMessage(
            channel=owner,
            text=(
                f"I could not {what} for “{escape(title)}” ({escape(error)}). Nothing was lost: "
                "an admin can retry it with `postmortem-bot outbox retry`."
            ),
        )
    except Exception as exc:  # noqa: BLE001 - the failure itself is already recorded
        log.warning(
            "could not tell %s about failed effect %s: %s", owner, effect.id, type(exc).__name__
        )

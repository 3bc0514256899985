"""Sending many Slack messages at once without tripping Slack's limits: `PacedSender`.

Slack posts about one message a second in each channel (each DM is a channel of its own) and an
unpublished number a minute in the workspace; past either it answers 429 with `Retry-After` and
posts nothing. One call at a time is safe but slow (2.4 reminders a second at real Slack's
latency), so bulk senders (the reminder sweep, the outbox, digests, survey invitations) share one
`PacedSender` per process:

- `run(jobs)` runs jobs on a few threads, at most one per channel (a job's *lane*) at a time and
  in the order given per channel: one person's DMs go out one after the other, others' alongside;
  `lane(key)` holds a channel the same way for a caller with threads of its own;
- every Web API call made through `sender.client` takes its turn under a pace per method, shared
  by all the process's bulk senders;
- the process's `Foreground` (the Slack requests it is answering) goes first: after each call's
  answer, a bulk sender waits for the requests in flight to be answered (a short while at most)
  before it carries on with Python work of its own;
- a 429 is waited out and the call made again (Slack posted nothing, so a retry cannot
  duplicate). A 429 within a second of the same channel's previous message is that channel's
  limit: the channel is then spaced a second apart and nothing else slows down. Otherwise it is
  the workspace's limit: every call of the method waits out Retry-After, the method's pace is
  halved, then recovers by a fifth every two calm seconds until it is unpaced again.

The sender owns 429s: its client must not have slack_sdk's RateLimitErrorRetryHandler, which
sleeps inside the one call that was refused while the other threads carry on into the same
limit (bot/slack/client.py `make_client` with `retry_rate_limits=False`). Connection errors
and Slack's 5xx keep slack_sdk's own handlers.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError

T = TypeVar("T")

CHANNEL_GAP = 1.0
"""Slack's per-channel pace for posting: about one message a second."""
BACKOFF = 0.5  # the pace after a workspace 429, as a share of what was being sent
RECOVERY = 1.2  # the pace grows by this much …
RECOVER_EVERY = 2.0  # … every this many seconds without a 429
OBSERVE = 5.0  # seconds of call starts that say how fast calls were going before a 429
MAX_WAITS = 8
"""429s waited out for one call before it fails to its caller (which retries it later)."""
GIVE_WAY = 0.1
"""Seconds background work waits at most for the process's requests in flight to be answered."""


class Foreground:
    """The Slack requests this process is answering right now; background work gives way.

    One Python process runs one thread at a time. A delivery rendering a status message while
    eight people submit forms delays every one of their acks (Slack gives up after 3 s; people
    notice far sooner), and the delivery loses nothing by starting a few milliseconds later.
    `serving()` wraps each request; `give_way()` is called by background work between steps.
    Waiting is bounded, so a stream of requests slows background work but never stops it.
    """

    def __init__(self) -> None:
        self._quiet = threading.Condition()
        self._busy = 0

    @contextmanager
    def serving(self) -> Iterator[None]:
        with self._quiet:
            self._busy += 1
        try:
            yield
        finally:
            with self._quiet:
                self._busy -= 1
                if not self._busy:
                    self._quiet.notify_all()

    @property
    def busy(self) -> int:
        return self._busy

    def give_way(self, most: float | None = None) -> float:
        """Wait until no request is in flight, `most` seconds at most (GIVE_WAY); how long it
        waited."""
        if not self._busy:  # the common case, without the lock
            return 0.0
        started = time.monotonic()
        with self._quiet:
            self._quiet.wait_for(lambda: not self._busy, GIVE_WAY if most is None else most)
        return time.monotonic() - started


@dataclass
class _Method:
    """The workspace-wide pace of one Web API method."""

    rate: float | None = None  # calls a second; None: bounded only by the threads
    paused_until: float = -math.inf
    next_start: float = -math.inf
    calm_since: float = -math.inf  # when the pace last changed, or the last pause ends
    starts: deque[float] = field(default_factory=deque)


@dataclass
class _Lane:
    """One channel: whether a job holds it, and what its own limit taught."""

    busy: bool = False
    spacing: float = 0.0  # seconds between messages, once a 429 showed the channel's limit
    paused_until: float = -math.inf
    last_ok: dict[str, float] = field(default_factory=dict)  # method -> when Slack last took one


class Pace:
    """The shared state: each method's pace and each channel's lane. Thread-safe.

    `clock` and `sleep` are injectable so a test can run it on a fake clock.
    """

    def __init__(
        self,
        *,
        min_rate: float = 0.5,
        ceiling: float = 50.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.min_rate, self.ceiling = min_rate, ceiling
        self.clock, self.sleep = clock, sleep
        self.freed = threading.Condition()  # notified whenever a lane is let go
        self._methods: dict[str, _Method] = {}
        self._lanes: dict[str, _Lane] = {}
        self.workspace_limited = 0  # 429s put down to the workspace's limit
        self.channel_limited = 0  # … and to a channel's

    def rate(self, method: str) -> float | None:
        """The method's current pace (calls a second), None when unpaced."""
        with self.freed:
            return self._method(method).rate

    # --- lanes ---------------------------------------------------------------------------

    def try_hold(self, key: str) -> bool:
        with self.freed:
            lane = self._lanes.setdefault(key, _Lane())
            if lane.busy:
                return False
            lane.busy = True
            return True

    def hold(self, key: str) -> None:
        with self.freed:
            while not self.try_hold(key):
                self.freed.wait()

    def let_go(self, key: str) -> None:
        with self.freed:
            self._lanes[key].busy = False
            if len(self._lanes) > 5000:
                self._forget_idle_lanes()
            self.freed.notify_all()

    def _forget_idle_lanes(self) -> None:
        """Lanes are kept only for what they teach; a channel quiet for a minute has none."""
        now = self.clock()
        for key, lane in list(self._lanes.items()):
            if not lane.busy and all(now - t > 60 for t in lane.last_ok.values()):
                del self._lanes[key]

    # --- calls ---------------------------------------------------------------------------

    def _method(self, name: str) -> _Method:
        return self._methods.setdefault(name, _Method())

    def turn(self, method: str, lane: str | None) -> float:
        """Wait until a call of `method` (in `lane`) may start; when it started."""
        while True:
            with self.freed:
                now = self.clock()
                m = self._method(method)
                ready = max(m.paused_until, m.next_start)
                held = self._lanes.get(lane) if lane is not None else None
                if held is not None:
                    ready = max(
                        ready, held.paused_until, held.last_ok.get(method, -math.inf) + held.spacing
                    )
                if ready <= now:
                    if m.rate is not None:
                        m.next_start = max(now, m.next_start) + 1 / m.rate
                    m.starts.append(now)
                    while m.starts and m.starts[0] < now - OBSERVE:
                        m.starts.popleft()
                    return now
            self.sleep(ready - now)

    def answered(self, method: str, lane: str | None) -> None:
        """Slack took the call (or refused it for a reason other than its limits)."""
        with self.freed:
            now = self.clock()
            held = self._lanes.get(lane) if lane is not None else None
            if held is not None:
                held.last_ok[method] = now
            m = self._method(method)
            if m.rate is not None and now - m.calm_since >= RECOVER_EVERY:
                m.rate *= RECOVERY
                m.calm_since = now
                if m.rate >= self.ceiling:
                    m.rate = None
                    m.next_start = -math.inf

    def limited(self, method: str, lane: str | None, started: float, retry_after: float) -> None:
        """A call that started at `started` was answered 429: slow down as the answer says."""
        with self.freed:
            now = self.clock()
            held = self._lanes.get(lane) if lane is not None else None
            if held is not None and started - held.last_ok.get(method, -math.inf) < CHANNEL_GAP:
                held.spacing = max(held.spacing, CHANNEL_GAP)
                held.paused_until = max(held.paused_until, now + retry_after)
                self.channel_limited += 1
                return
            self.workspace_limited += 1
            m = self._method(method)
            if started >= m.calm_since:
                # The first 429 of a burst; calls already on their way when it came do not
                # halve the pace again.
                span = max(1.0, now - m.starts[0]) if m.starts else OBSERVE
                going = m.rate if m.rate is not None else len(m.starts) / span
                m.rate = max(self.min_rate, going * BACKOFF)
            m.paused_until = max(m.paused_until, now + retry_after)
            m.next_start = max(m.next_start, m.paused_until)
            m.calm_since = m.paused_until


def retry_after(exc: SlackApiError) -> float | None:
    """Seconds a 429 asks to wait, or None when `exc` is not a rate limit."""
    response = exc.response
    if getattr(response, "status_code", None) != 429 and response.get("error") != "ratelimited":
        return None
    headers = getattr(response, "headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(value), 0.0) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0


class PacedClient:
    """A Web API client whose every call takes its turn under the sender's `Pace`.

    Wraps any client object (a WebClient, or a test's mock): `client.chat_postMessage(...)` is
    paced as the method "chat.postMessage", in the lane the calling thread holds.
    """

    def __init__(
        self,
        inner: Any,
        pace: Pace,
        lane: Callable[[], str | None],
        max_waits: int = MAX_WAITS,
        foreground: Foreground | None = None,
    ) -> None:
        self._inner, self._pace, self._lane, self._max_waits = inner, pace, lane, max_waits
        self._foreground = foreground

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or "_" not in name or not callable(attr):
            return attr
        method = name.replace("_", ".")

        def paced(*args: Any, **kwargs: Any) -> Any:
            return self._call(method, lambda: attr(*args, **kwargs))

        return paced

    def _call(self, method: str, call: Callable[[], T]) -> T:
        lane = self._lane()
        waits = 0
        while True:
            started = self._pace.turn(method, lane)
            try:
                response = call()
            except SlackApiError as exc:
                wait = retry_after(exc)
                if wait is None:
                    self._pace.answered(method, lane)
                    raise
                if waits >= self._max_waits:
                    raise
                waits += 1
                self._pace.limited(method, lane, started, wait)
                continue
            self._pace.answered(method, lane)
            if self._foreground is not None:  # what the caller does with the answer can wait
                self._foreground.give_way()
            return response


class PacedSender:
    """Bulk sending for one process: `run` jobs by channel, calls through `client`."""

    def __init__(
        self,
        client: Any,
        *,
        concurrency: int = 8,
        pace: Pace | None = None,
        max_waits: int = MAX_WAITS,
        foreground: Foreground | None = None,
    ) -> None:
        self.pace = pace or Pace()
        self.concurrency = concurrency
        self.foreground = foreground or Foreground()
        self._local = threading.local()
        self.client: Any = PacedClient(client, self.pace, self.held, max_waits, self.foreground)

    def held(self) -> str | None:
        """The lane the calling thread holds, if any."""
        return getattr(self._local, "lane", None)

    @contextmanager
    def lane(self, key: str | None) -> Iterator[None]:
        """Hold `key`'s channel while the block runs (None: no channel, nothing held; a lane
        this thread already holds: held on, not waited for)."""
        if key is None or key == self.held():
            yield
            return
        self.pace.hold(key)
        try:
            with self._holding(key):
                yield
        finally:
            self.pace.let_go(key)

    @contextmanager
    def _holding(self, key: str | None) -> Iterator[None]:
        previous = self.held()
        self._local.lane = key
        try:
            yield
        finally:
            self._local.lane = previous

    def run(self, jobs: Iterable[tuple[str | None, Callable[[], T]]]) -> list[T]:
        """Run every job, `concurrency` at a time and one per lane at a time, each lane's in
        the order given; their results in that order. A job that raises does not stop the
        others: the first exception is raised once all have run."""
        pending = list(enumerate(jobs))
        results: dict[int, T] = {}
        errors: list[BaseException] = []
        freed = self.pace.freed

        def take() -> tuple[int, str | None, Callable[[], T]] | None:
            with freed:
                while pending:
                    for at, (index, (key, job)) in enumerate(pending):
                        if key is None or self.pace.try_hold(key):
                            del pending[at]
                            return index, key, job
                    freed.wait()
                return None

        def work() -> None:
            while (taken := take()) is not None:
                index, key, job = taken
                try:
                    with self._holding(key):
                        results[index] = job()
                except BaseException as exc:  # noqa: BLE001 - raised after the others ran
                    errors.append(exc)
                finally:
                    if key is not None:
                        self.pace.let_go(key)
                    else:
                        with freed:
                            freed.notify_all()

        count = min(self.concurrency, len(pending))
        threads = [
            threading.Thread(target=work, name=f"paced-{n}", daemon=True) for n in range(count)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return [results[i] for i in sorted(results)]

"""PacedSender: several jobs at once, one per channel, and Slack's 429s waited out, not lost.

Time is a fake clock whose sleep moves it forward, so Retry-After waits are checked by the
clock's reading, never by how long a test took.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.slack.pacing import Pace, PacedSender


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += max(seconds, 0.0)


def ratelimited(retry_after: str | None = "7") -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack/api",
        req_args={},
        data={"ok": False, "error": "ratelimited"},
        headers={"Retry-After": retry_after} if retry_after else {},
        status_code=429,
    )
    return SlackApiError("ratelimited", response)


class Slack:
    """A client that refuses the calls it is told to refuse, and records the ones it takes."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.refuse: list[SlackApiError] = []
        self.posted: list[tuple[str, float]] = []
        self.attempts = 0

    def chat_postMessage(self, *, channel: str, text: str) -> dict[str, Any]:  # noqa: N802
        self.attempts += 1
        if self.refuse:
            raise self.refuse.pop(0)
        self.posted.append((text, self.time.clock()))
        return {"ok": True, "channel": channel}


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


def sender_on(time: FakeTime, slack: Any, **kwargs: Any) -> PacedSender:
    return PacedSender(slack, pace=Pace(clock=time.clock, sleep=time.sleep), **kwargs)


def test_one_channel_never_has_two_jobs_at_once_and_keeps_their_order(time: FakeTime) -> None:
    sender = sender_on(time, None, concurrency=8)
    inside: dict[str, int] = defaultdict(int)
    most: dict[str, int] = defaultdict(int)
    order: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()
    # Two channels' first jobs wait for each other: they must run at the same time.
    both = threading.Barrier(2, timeout=10)

    def job(channel: str, n: int) -> int:
        with lock:
            inside[channel] += 1
            most[channel] = max(most[channel], inside[channel])
            order[channel].append(n)
        if n < 2:
            both.wait()
        for _ in range(2000):  # give another thread the chance to come in, if it could
            pass
        with lock:
            inside[channel] -= 1
        return n

    jobs = [(("DALICE", "DBOB", "DCAROL")[n % 3], n) for n in range(90)]
    results = sender.run([(channel, lambda c=channel, n=n: job(c, n)) for channel, n in jobs])
    assert results == list(range(90))
    assert dict(most) == {"DALICE": 1, "DBOB": 1, "DCAROL": 1}
    for channel in ("DALICE", "DBOB", "DCAROL"):
        assert order[channel] == [n for c, n in jobs if c == channel]


def test_a_job_for_a_channel_held_elsewhere_waits_for_it(time: FakeTime) -> None:
    """The outbox holds a lane with `lane()` while a sweep runs jobs: they take turns."""
    sender = sender_on(time, None, concurrency=2)
    events: list[str] = []
    held = threading.Event()
    release = threading.Event()

    def outbox() -> None:
        with sender.lane("DALICE"):
            events.append("outbox starts")
            held.set()
            release.wait(10)
            events.append("outbox ends")

    thread = threading.Thread(target=outbox)
    thread.start()
    held.wait(10)
    timer = threading.Timer(0.05, release.set)
    timer.start()
    sender.run([("DALICE", lambda: events.append("sweep"))])
    thread.join()
    assert events == ["outbox starts", "outbox ends", "sweep"]


def test_a_429_is_waited_out_for_the_method_and_the_message_sent_once(time: FakeTime) -> None:
    slack = Slack(time)
    sender = sender_on(time, slack, concurrency=1)
    slack.refuse = [ratelimited("7")]
    start = time.clock()
    sender.run(
        [
            ("DALICE", lambda: sender.client.chat_postMessage(channel="DALICE", text="a")),
            ("DBOB", lambda: sender.client.chat_postMessage(channel="DBOB", text="b")),
        ]
    )
    assert [text for text, _ in slack.posted] == ["a", "b"]  # nothing lost, nothing twice
    assert slack.attempts == 3
    # The workspace was told to wait 7 s: Alice's retry and Bob's first try both waited.
    assert all(at >= start + 7 for _, at in slack.posted)
    assert sender.pace.workspace_limited == 1


def test_after_a_workspace_429_the_pace_slows_then_recovers_gradually(time: FakeTime) -> None:
    slack = Slack(time)
    sender = sender_on(time, slack, concurrency=1)
    pace, method = sender.pace, "chat.postMessage"
    for n in range(20):  # twenty messages a second, then a 429
        sender.client.chat_postMessage(channel=f"D{n}", text="x")
        time.sleep(0.05)
    slack.refuse = [ratelimited("2")]
    sender.client.chat_postMessage(channel="DLAST", text="x")
    slowed = pace.rate(method)
    assert slowed is not None and slowed < 20
    rates = []
    for n in range(2000):
        sender.client.chat_postMessage(channel=f"E{n}", text="x")
        rates.append(pace.rate(method))
        if rates[-1] is None:
            break
    paced = [r for r in rates if r is not None]
    assert paced == sorted(paced) and len(set(paced)) > 3  # up in several steps …
    assert rates[-1] is None  # … until it is unpaced again
    # While paced, calls were spaced at least 1/rate apart on the clock.
    times = [at for _, at in slack.posted[21 : 21 + 5]]
    assert all(b - a >= 1 / paced[-1] - 1e-9 for a, b in zip(times, times[1:], strict=False))


def test_a_429_right_after_a_message_to_the_same_channel_spaces_that_channel_only(
    time: FakeTime,
) -> None:
    slack = Slack(time)
    sender = sender_on(time, slack, concurrency=1)
    with sender.lane("DALICE"):
        sender.client.chat_postMessage(channel="DALICE", text="1")
        slack.refuse = [ratelimited("1")]
        sender.client.chat_postMessage(channel="DALICE", text="2")
        sender.client.chat_postMessage(channel="DALICE", text="3")
    with sender.lane("DBOB"):
        bob_asked = time.clock()
        sender.client.chat_postMessage(channel="DBOB", text="b")
    posted = dict(slack.posted)
    assert [text for text, _ in slack.posted] == ["1", "2", "3", "b"]
    assert posted["2"] - posted["1"] >= 1 and posted["3"] - posted["2"] >= 1
    assert posted["b"] == bob_asked  # another channel did not wait
    assert sender.pace.rate("chat.postMessage") is None  # the workspace's pace is untouched
    assert (sender.pace.channel_limited, sender.pace.workspace_limited) == (1, 0)


def test_a_call_refused_too_often_fails_to_its_caller(time: FakeTime) -> None:
    slack = Slack(time)
    sender = sender_on(time, slack, concurrency=1, max_waits=3)
    slack.refuse = [ratelimited("1") for _ in range(4)]
    with pytest.raises(SlackApiError):
        sender.client.chat_postMessage(channel="DALICE", text="a")
    assert slack.posted == [] and slack.attempts == 4


def test_other_errors_are_not_retried(time: FakeTime) -> None:
    slack = Slack(time)
    sender = sender_on(time, slack)
    gone = SlackApiError(
        "gone",
        SlackResponse(
            client=None,
            http_verb="POST",
            api_url="",
            req_args={},
            data={"ok": False, "error": "channel_not_found"},
            headers={},
            status_code=200,
        ),
    )
    slack.refuse = [gone]
    with pytest.raises(SlackApiError):
        sender.client.chat_postMessage(channel="DALICE", text="a")
    assert slack.attempts == 1


def test_a_failing_job_does_not_stop_the_others(time: FakeTime) -> None:
    sender = sender_on(time, None, concurrency=2)
    done: list[int] = []

    def job(n: int) -> None:
        if n == 3:
            raise RuntimeError("boom")
        done.append(n)

    with pytest.raises(RuntimeError):
        sender.run([(f"D{n % 2}", lambda n=n: job(n)) for n in range(10)])
    assert sorted(done) == [0, 1, 2, 4, 5, 6, 7, 8, 9]


def test_a_job_may_ask_again_for_the_lane_it_holds(time: FakeTime) -> None:
    sender = sender_on(time, None, concurrency=1)

    def job() -> str:
        with sender.lane("DALICE"):  # e.g. an effect handler run from inside a sweep's job
            return "done"

    assert sender.run([("DALICE", job)]) == ["done"]

"""Many reminders at once against the fake Slack: sent concurrently, each once, one at a time per
person; a second sweeper leaves a running sweep's claims alone; timezones stay current."""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, select

from bot.action_items import nudges
from bot.action_items import service as reminders
from bot.reviews import service
from bot.runtime import Runtime, build_runtime
from sandbox.fake_slack import FakeSlack
from storage import reviews as store
from storage.db import transaction
from storage.nudges import Nudge
from workflows.loader import Registry

ALICE, BOB, ADMIN, CHANNEL = "U0ALICE", "U0BOB", "U0ADMIN", "C0REVIEWS"
REGISTRY = Registry.load()
DUE = "2026-12-04"  # a Friday: "coming up soon" on Wednesday at 09:00 in each owner's timezone
WEDNESDAY_LUNCH = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)  # 15:30 Sydney, 12:30 Perth


def make_items(rt: Runtime, rows: list[dict[str, str]]) -> list[int]:
    with transaction(rt.sessions) as session:
        review = service.start_review(
            session,
            REGISTRY["campaign_postmortem"],
            team_id="T0TEST",
            title="Black Friday email",
            channel_id=CHANNEL,
            owner_id=ADMIN,
            started_by=ADMIN,
        )
        changes = store.sync_action_items(
            session, review, stage_key="action_items", rows=rows, actor=ADMIN
        )
        ids = [(c.item.id, c.created, c.previous_owner) for c in changes]
    reminders.notify_changes(rt, ids)  # the assignment DMs, which schedule the first nudge
    return [i for i, _, _ in ids]


def posted_nudges(slack: FakeSlack) -> list[int]:
    """Nudge ids of the reminders Slack took, from the fake's own record."""
    return [
        c.params["metadata"]["event_payload"]["nudge_id"]
        for c in slack.calls_to("chat.postMessage")
        if c.ok and (c.params.get("metadata") or {}).get("event_type") == "postmortem_nudge"
    ]


class InFlight:
    """Counts chat.postMessage calls the fake is answering at once, overall and per channel."""

    def __init__(self, slack: FakeSlack, delay: float) -> None:
        self.lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        original = slack.handle_api

        def handle(method: str, params: dict, authorization: str | None) -> Any:
            if method != "chat.postMessage":
                return original(method, params, authorization)
            channel = str(params.get("channel"))
            with self.lock:
                for key in (channel, "*"):
                    self.now[key] += 1
                    self.most[key] = max(self.most[key], self.now[key])
            try:
                threading.Event().wait(delay)  # Slack takes a moment to answer
                return original(method, params, authorization)
            finally:
                with self.lock:
                    self.now[channel] -= 1
                    self.now["*"] -= 1

        slack.handle_api = handle  # type: ignore[method-assign]


def owners(slack: FakeSlack, count: int) -> list[str]:
    ids = [f"U0OWNER{n:03d}" for n in range(count)]
    for n, user in enumerate(ids):
        slack.add_user(user, user.lower(), tz="Australia/Perth" if n % 2 else "Australia/Sydney")
    return ids


def test_many_owners_are_reminded_concurrently_each_once_one_at_a_time_per_person(
    slack: FakeSlack, bot, engine: Engine
) -> None:
    people = owners(slack, 30)
    rows = [
        {"title": f"Item {n}", "owner": owner, "due_date": DUE} for n, owner in enumerate(people)
    ]
    rows += [{"title": f"Alice's {n}", "owner": ALICE, "due_date": DUE} for n in range(4)]
    make_items(bot.rt, rows)
    in_flight = InFlight(slack, delay=0.05)
    slack.reset_calls()
    # A sweeper that has just started (the CLI, a replica): nothing cached about anyone yet.
    fresh = build_runtime(bot.rt.settings, engine)
    result = nudges.sweep(fresh, WEDNESDAY_LUNCH)
    assert str(result) == "sent 34, missed 0, failed 0"
    ids = posted_nudges(slack)
    assert len(ids) == len(set(ids)) == 34  # each once
    with transaction(bot.rt.sessions) as session:
        assert Counter(session.scalars(select(Nudge.status))) == {"sent": 34}
    assert in_flight.most["*"] > 1  # several at once …
    assert max(n for key, n in in_flight.most.items() if key != "*") == 1  # … one per person
    assert len(slack.dms(ALICE)) == 4 + 4  # her four assignment DMs, then four reminders
    # The owners' timezones came from users.list pages, not one users.info each.
    assert slack.calls_to("users.info") == []
    assert len(slack.calls_to("users.list")) >= 1


@pytest.fixture
def gate(slack: FakeSlack) -> Iterator[threading.Event]:
    """Holds Slack's answer to every reminder after the third until the test opens it."""
    opened = threading.Event()
    original = slack.handle_api
    posted = Counter[str]()

    def handle(method: str, params: dict, authorization: str | None) -> Any:
        if method == "chat.postMessage" and "postmortem_nudge" in str(params.get("metadata")):
            posted["n"] += 1
            if posted["n"] > 3:
                opened.wait(30)
        return original(method, params, authorization)

    slack.handle_api = handle  # type: ignore[method-assign]
    yield opened
    opened.set()


class Recording:
    """A second process's Slack client: what it asked Slack, in order."""

    def __init__(self, inner: WebClient) -> None:
        self.inner, self.asked = inner, []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if callable(attr):

            def call(*args: Any, **kwargs: Any) -> Any:
                self.asked.append(name)
                return attr(*args, **kwargs)

            return call
        return attr


def test_a_second_sweeper_leaves_the_nudges_of_a_sweep_still_sending_alone(
    slack: FakeSlack, bot, engine: Engine, gate: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = make_items(
        bot.rt, [{"title": f"Item {n}", "owner": ALICE, "due_date": DUE} for n in range(12)]
    )
    monkeypatch.setattr(nudges, "HEARTBEAT", timedelta(milliseconds=50))
    first: list[nudges.SweepResult] = []
    sweeping = threading.Thread(target=lambda: first.append(nudges.sweep(bot.rt, WEDNESDAY_LUNCH)))
    sweeping.start()
    slack.wait_for(lambda: len(posted_nudges(slack)) == 3)  # the fourth is held by the gate
    with transaction(bot.rt.sessions) as session:
        claimed_at = {n.id: n.heartbeat_at for n in session.scalars(select(Nudge))}
    assert len(claimed_at) == 12

    def renewed() -> bool:
        with transaction(bot.rt.sessions) as session:
            return any(
                n.heartbeat_at > claimed_at[n.id]
                for n in session.scalars(select(Nudge).where(Nudge.status == "claimed"))
            )

    slack.wait_for(renewed)  # the running sweep renews its claims while it waits on Slack
    # Eleven minutes later by the sweep's clock, another process sweeps (cron beside `serve`).
    other = Recording(WebClient(token=slack.bot_token, base_url=slack.api_url))
    second = build_runtime(bot.rt.settings, engine, client=other)  # type: ignore[arg-type]
    result = nudges.sweep(second, WEDNESDAY_LUNCH + timedelta(minutes=11))
    assert str(result) == "sent 0, missed 0, failed 0"
    assert other.asked == []  # not a single Slack call for the nudges the first sweep holds
    assert sweeping.is_alive()  # (the first sweep was indeed still sending)
    gate.set()
    sweeping.join(30)
    assert str(first[0]) == "sent 12, missed 0, failed 0"
    assert sorted(posted_nudges(slack)) == sorted(claimed_at)  # each once
    assert len(ids) == 12


def test_a_user_change_event_moves_a_persons_reminders_to_their_new_timezone(
    slack: FakeSlack, bot
) -> None:
    assert bot.rt.people.timezones([BOB], "UTC") == {BOB: "Australia/Perth"}
    with slack.lock:
        user = slack.workspace.users[BOB]
        user["tz"] = "Australia/Sydney"
        changed = copy.deepcopy(user)
    slack.reset_calls()
    slack.event({"type": "user_change", "user": changed})
    slack.wait_for(lambda: bot.rt.people.timezone(BOB, "UTC") == "Australia/Sydney")
    assert bot.rt.people.timezones([BOB], "UTC") == {BOB: "Australia/Sydney"}
    assert [c.method for c in slack.calls if c.method.startswith("users.")] == []


def test_under_slacks_posting_limits_every_reminder_still_goes_out_once(
    slack: FakeSlack, bot
) -> None:
    people = owners(slack, 8)
    rows = [
        {"title": f"Item {n}", "owner": owner, "due_date": DUE} for n, owner in enumerate(people)
    ]
    rows += [{"title": f"Alice's {n}", "owner": ALICE, "due_date": DUE} for n in range(3)]
    make_items(bot.rt, rows)
    limits = slack.limit_posting(per_channel=1.0)  # Alice's three may not go out in a burst
    result = nudges.sweep(bot.rt, WEDNESDAY_LUNCH)
    assert str(result) == "sent 11, missed 0, failed 0"
    ids = posted_nudges(slack)
    assert len(ids) == len(set(ids)) == 11
    assert [m["text"].startswith(":alarm_clock:") for m in slack.dms(ALICE)[3:]] == [True] * 3
    # Slack did refuse some, and the sweep waited them out for Alice's DM alone.
    assert limits.refused >= 1
    assert bot.rt.sender.pace.channel_limited == limits.refused
    assert bot.rt.sender.pace.rate("chat.postMessage") is None
    slack.calls[:] = [c for c in slack.calls if c.error != "ratelimited"]

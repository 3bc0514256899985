"""Chaos on PostgreSQL: replicas and workers killed at random while Slack fails in bursts.

Three `postmortem-bot serve` processes (gunicorn) and two `postmortem-bot worker` processes share
one PostgreSQL database and one fake Slack. Four people start campaign reviews, submit stages and
add action items through signed requests, each sent to one of the replicas as a load balancer
would; a helpdesk posts low-CES tickets (and redelivers until it gets a 200); cron runs
`postmortem-bot remind --now …` sweeps. Meanwhile a seeded schedule SIGKILLs replicas, workers
and sweeps (and starts them again) and makes Slack answer 500s, 429s with Retry-After and
10-second delays in bursts. Then the faults stop, the workers drain the outbox, and the test
counts what Slack received against the database: every promised message exactly once, and every
status message showing its review's state.

It takes about two and a half minutes: `POSTMORTEM_SKIP_CHAOS=1` skips it locally, CI runs it.
`POSTMORTEM_CHAOS_SEED` replays another schedule (the threads still interleave as they will, so
a failure names the seed and the figures, not a replayable trace).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from helpers import processes
from helpers.delivered import Received, failed_effects, status_problem, wait_for_drain
from helpers.ticket_hooks import TOKEN, event
from sqlalchemy import Engine, func, make_url, select

from bot.action_items.service import ASSIGNMENT_EVENT, METADATA_EVENT
from bot.action_items.views import add_item_modal
from bot.reviews import status
from bot.reviews.service import workflow_of
from bot.reviews.views.stage_modal import ModalMeta, entered_values, stage_view
from bot.reviews.views.start_modal import start_view
from bot.tickets.service import TICKET_DM_EVENT
from sandbox.fake_slack import BotReply, FakeSlack
from storage import outbox
from storage.db import make_engine, session_factory
from storage.models import ActionItem, Review
from storage.nudges import SENT, Nudge
from storage.tickets import Ticket
from workflows.loader import Registry
from workflows.reports import report_stage
from workflows.samples import sample_answers

pytestmark = [
    pytest.mark.chaos,
    pytest.mark.skipif(
        os.environ.get("POSTMORTEM_SKIP_CHAOS") == "1",
        reason="POSTMORTEM_SKIP_CHAOS=1 (slow: about 2.5 minutes)",
    ),
]

SEED = int(os.environ.get("POSTMORTEM_CHAOS_SEED", "13"))
CHAOS_SECONDS = 70  # people, helpdesk and cron at work while processes die and Slack fails
DRAIN_SECONDS = 100  # then, with Slack healthy, the outbox must empty within this
PEOPLE = ("U0CH1", "U0CH2", "U0CH3", "U0CH4")
ITEM_OWNERS = (*PEOPLE, "U0BOB")
TICKET_OWNERS = ("alice@example.com", "U0CH1", "U0CH2", "bob@example.com")
CHANNEL, SUPPORT = "C0REVIEWS", "C0SUPPORT"
CAMPAIGN = "campaign_postmortem"
MAX_REVIEWS_EACH = 5  # bounded load: about 20 reviews, 80 stages, 60 items, 30 tickets
MAX_ITEMS_ADDED_EACH = 6
MAX_TICKETS = 30
REGISTRY = Registry.load()
SYDNEY = ZoneInfo("Australia/Sydney")
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NO_ANSWER = (OSError, http.client.HTTPException)  # killed mid-request, refused, timed out


# --- the fake Slack, sending each request to the replica the test picked ----------------------


class RoutedSlack(FakeSlack):
    """FakeSlack whose requests go to the URL this thread picked (a load balancer)."""

    def __init__(self, **kwargs: Any) -> None:
        self._route = threading.local()
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def request_url(self) -> str | None:
        return getattr(self._route, "url", None)

    @request_url.setter
    def request_url(self, value: str | None) -> None:
        self._route.url = value


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    name = f"pmbot_chaos_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    yield url.render_as_string(hide_password=False)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


# --- the cluster -------------------------------------------------------------------------------


class Cluster:
    """The replicas and workers, which the chaos schedule kills and starts again."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.serves = [processes.serve(f"serve{i}", env, workdir) for i in range(3)]
        self.workers = [processes.worker(f"worker{i}", env, workdir) for i in range(2)]
        self.sweeps: list[processes.BotProcess] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        for p in (*self.serves, *self.workers):
            p.start()
        for p in self.serves:
            p.wait_ready()

    def pick(self, rng: random.Random) -> processes.BotProcess:
        """A replica that is running (it may still be starting, or die the next moment)."""
        for _ in range(200):
            with self.lock:
                alive = [p for p in self.serves if p.alive]
            if alive:
                return rng.choice(alive)
            time.sleep(0.05)
        raise RuntimeError("no replica has been running for 10 s")

    def restart_later(self, process: processes.BotProcess, after: float) -> None:
        def again() -> None:
            time.sleep(after)
            with self.lock:
                if not process.alive:
                    process.start()

        threading.Thread(target=again, daemon=True).start()

    def ensure_running(self) -> None:
        with self.lock:
            for p in (*self.serves, *self.workers):
                if not p.alive:
                    p.start()
        for p in self.serves:
            p.wait_ready()

    def stop(self) -> None:
        for p in (*self.serves, *self.workers, *self.sweeps):
            p.stop()

    def logs(self) -> str:
        return "\n".join(
            f"=== {p.name} (killed {p.kills}x)\n{p.tail(40)}" for p in (*self.serves, *self.workers)
        )


# --- what the test did, to hold against the database -----------------------------------------


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    tickets: set[str] = field(default_factory=set)

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)


class Person:
    """Someone using the bot through Slack: every request signed, sent to a random replica."""

    def __init__(
        self,
        user: str,
        slack: RoutedSlack,
        cluster: Cluster,
        engine: Engine,
        ledger: Ledger,
        rng: random.Random,
        due: date,
    ) -> None:
        self.user, self.slack, self.cluster, self.ledger = user, slack, cluster, ledger
        self.sessions = session_factory(engine)
        self.rng, self.due = rng, due
        self.started = 0
        self.added = 0

    def send(self, request: Callable[[], BotReply]) -> BotReply | None:
        target = self.cluster.pick(self.rng)
        self.slack.request_url = f"{target.url}/slack/events"
        try:
            reply = request()
        except NO_ANSWER:
            self.ledger.count("requests without an answer")
            return None
        if reply.elapsed > 3:
            self.ledger.count("acks over 3 s")
        return reply

    def my_reviews(self) -> list[tuple[int, str | None]]:
        with self.sessions() as session:
            return [
                (r, stage)
                for r, stage in session.execute(
                    select(Review.id, Review.current_stage).where(
                        Review.owner_id == self.user, Review.trigger == "manual"
                    )
                )
            ]

    def act(self) -> None:
        reviews = self.my_reviews()
        open_reviews = [r for r, stage in reviews if stage is not None]
        roll = self.rng.random()
        if (roll < 0.25 or not open_reviews) and self.started < MAX_REVIEWS_EACH:
            self.start_review()
        elif (roll < 0.8 or self.added >= MAX_ITEMS_ADDED_EACH) and open_reviews:
            self.submit_stage(self.rng.choice(open_reviews))
        elif reviews and self.added < MAX_ITEMS_ADDED_EACH:
            self.add_item(self.rng.choice([r for r, _ in reviews]))

    # -- starting a review ----------------------------------------------------------------
    def start_review(self) -> None:
        self.started += 1
        title = f"Chaos {self.user} launch {self.started}"
        spec = start_view(
            REGISTRY.all(),
            user_id=self.user,
            channel_id=CHANNEL,
            workflow_key=CAMPAIGN,
            title=title,
        )
        for _ in range(40):
            view = self.slack.open_modal(self.user, spec)
            reply = self.send(lambda v=view: self.slack.submit(self.user, v["id"]))
            if reply is not None and reply.status == 200 and not reply.timed_out:
                if not reply.errors:
                    self.acknowledged(self.exists(Review, title), f"review {title!r}")
                    self.ledger.count("reviews started")
                    return
                if "Saving failed" not in str(reply.errors):
                    self.ledger.problem(f"start form refused: {reply.errors}")
                    return
            if self.exists(Review, title):  # saved, but the answer was lost
                self.ledger.count("reviews started")
                return
            time.sleep(0.3)
        self.ledger.problem(f"{title!r} could not be started in 40 tries")

    def acknowledged(self, in_database: bool, what: str) -> None:
        """The form closed (Slack showed success): the change must be in the database."""
        if not in_database:
            self.ledger.problem(f"{what} was acknowledged but is not in the database")

    def exists(self, model: type[Review] | type[ActionItem], title: str) -> bool:
        with self.sessions() as session:
            return bool(
                session.scalar(select(func.count()).select_from(model).where(model.title == title))
            )

    # -- submitting the current stage -------------------------------------------------------
    def submit_stage(self, review_id: int) -> None:
        with self.sessions() as session:
            review = session.get(Review, review_id)
            workflow = workflow_of(review)
            stage = workflow.stage(review.current_stage)
            title = review.title
        overrides: dict[str, Any] = {}
        for f in stage.fields:
            if f.role == "action_items":
                overrides[f.key] = [
                    {
                        "title": f"Fix {n} for review {review_id}",
                        "owner": self.rng.choice(ITEM_OWNERS),
                        "due_date": self.due.isoformat(),
                    }
                    for n in range(self.rng.randint(1, 2))
                ]
        answers = entered_values(stage, sample_answers(stage, **overrides))
        for _ in range(40):
            view = self.slack.open_modal(
                self.user,
                stage_view(stage, title=title, meta=ModalMeta(review_id, stage.key), values={}),
            )
            outcome = self._submit_pages(view, answers)
            if outcome == "saved":
                self.acknowledged(
                    self._moved_on(review_id, stage.key), f"stage {stage.key} of review {review_id}"
                )
            if outcome == "saved" or self._moved_on(review_id, stage.key):
                self.ledger.count("stages saved")
                return
            if outcome == "refused":
                return
            time.sleep(0.3)
        self.ledger.problem(f"stage {stage.key} of review {review_id} not saved in 40 tries")

    def _submit_pages(self, view: dict[str, Any], answers: dict[str, Any]) -> str:
        for _ in range(10):
            here = {b.get("block_id") for b in view["blocks"]}
            values = {k: v for k, v in answers.items() if k in here}
            reply = self.send(
                lambda v=view, vals=values: self.slack.submit(self.user, v["id"], vals)
            )
            if reply is None or reply.status != 200 or reply.timed_out:
                return "unknown"
            if reply.errors:
                if "Saving failed" not in str(reply.errors):
                    self.ledger.problem(f"stage form refused: {reply.errors}")
                    return "refused"
                return "unknown"
            body = reply.body if isinstance(reply.body, dict) else {}
            if not body:
                return "saved"  # the modal closed: saved
            shown = body.get("view") or {}
            if shown.get("callback_id") != "stage":  # "Not saved": a retry already saved it
                return "refused"
            view = self.slack.top_view(self.user)  # the next page of a long stage
        return "unknown"

    def _moved_on(self, review_id: int, stage_key: str) -> bool:
        with self.sessions() as session:
            return session.get(Review, review_id).current_stage != stage_key

    # -- adding an action item from the status message ------------------------------------
    def add_item(self, review_id: int) -> None:
        self.added += 1
        title = f"Added by {self.user} #{self.added}"
        with self.sessions() as session:
            review_title = session.get(Review, review_id).title
        spec = add_item_modal(review_id, review_title, self.user)
        values = {
            "title": {"v": title},
            "owner": {"v": self.rng.choice(ITEM_OWNERS)},
            "due": {"v": self.due.isoformat()},
        }
        for _ in range(40):
            view = self.slack.open_modal(self.user, spec)
            reply = self.send(lambda v=view: self.slack.submit(self.user, v["id"], values))
            acked = (
                reply is not None
                and reply.status == 200
                and not reply.timed_out
                and not reply.errors
            )
            if acked:
                self.acknowledged(self.exists(ActionItem, title), f"action item {title!r}")
            if acked or self.exists(ActionItem, title):
                self.ledger.count("items added")
                return
            time.sleep(0.3)
        self.ledger.problem(f"action item {title!r} not added in 40 tries")


class Helpdesk:
    """Posts low-CES ticket events, redelivering each until the bot answers 200."""

    def __init__(self, cluster: Cluster, ledger: Ledger, rng: random.Random) -> None:
        self.cluster, self.ledger, self.rng = cluster, ledger, rng
        self.sent = 0

    def post(self, body: dict[str, Any]) -> int | None:
        target = self.cluster.pick(self.rng)
        request = urllib.request.Request(  # noqa: S310 - a local URL
            f"{target.url}/hooks/tickets",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
                return int(reply.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except NO_ANSWER:
            return None

    def act(self) -> None:
        if self.sent >= MAX_TICKETS:
            return
        self.sent += 1
        ticket = f"CH-{self.sent:03d}"
        body = event(
            ticket_id=ticket,
            subject=f"Parcel {self.sent} lost <again>",
            url=f"https://help.example.com/t/{self.sent}",
            owner=self.rng.choice(TICKET_OWNERS),
            ces_score=2,
            ces_scale=7,
        )
        with self.ledger.lock:
            self.ledger.tickets.add(ticket)
        redeliver = self.rng.random() < 0.2  # helpdesks redeliver now and then regardless
        for _ in range(60):
            code = self.post(body)
            self.ledger.count(f"webhook answers {code or 'none'}")
            if code == 200 and not redeliver:
                return
            if code == 200:
                redeliver = False
                continue
            if code is not None and 400 <= code < 500:
                self.ledger.problem(f"ticket {ticket}: a valid event answered {code}")
                return
            time.sleep(0.3)
        self.ledger.problem(f"ticket {ticket}: no 200 in 60 deliveries")


# --- the chaos schedule ------------------------------------------------------------------------


class Chaos:
    SLOW_METHODS = (
        "chat.postMessage",
        "chat.update",
        "conversations.history",
        "conversations.open",
        "users.info",
        "chat.getPermalink",
    )

    def __init__(
        self, cluster: Cluster, slack: RoutedSlack, ledger: Ledger, rng: random.Random
    ) -> None:
        self.cluster, self.slack, self.ledger, self.rng = cluster, slack, ledger, rng

    def kill(self, pool: list[processes.BotProcess], what: str) -> None:
        with self.cluster.lock:
            alive = [p for p in pool if p.alive]
            if len(alive) < (2 if what == "serve" else 1):
                return  # keep one replica answering
            victim = self.rng.choice(alive)
            victim.kill()
        self.ledger.count(f"SIGKILL {what}")
        self.cluster.restart_later(victim, self.rng.uniform(0.5, 3.0))

    def run_one(self, kind: str) -> None:
        rng = self.rng
        if kind == "kill serve":
            self.kill(self.cluster.serves, "serve")
        elif kind == "kill worker":
            self.kill(self.cluster.workers, "worker")
        elif kind == "kill sweep":
            with self.cluster.lock:
                running = [p for p in self.cluster.sweeps if p.alive]
                if running:
                    rng.choice(running).kill()
                    self.ledger.count("SIGKILL remind")
        elif kind == "500s":
            self.slack.burst(
                rng.uniform(3, 6), error="internal_error", status=500, share=rng.choice([0.5, 1.0])
            )
            self.ledger.count("bursts of 500s")
        elif kind == "429s":
            self.slack.burst(
                rng.uniform(3, 6),
                error="ratelimited",
                status=429,
                retry_after=rng.choice([1, 2]),
                share=rng.choice([0.5, 1.0]),
            )
            self.ledger.count("bursts of 429s")
        elif kind == "delays":
            self.slack.burst(
                rng.uniform(4, 8), delay=10, methods=rng.sample(self.SLOW_METHODS, 3), share=0.5
            )
            self.ledger.count("bursts of 10 s delays")

    def run(self, stop: threading.Event) -> None:
        kinds = ["kill serve", "kill serve", "kill worker", "500s", "429s", "delays", "kill sweep"]
        self.rng.shuffle(kinds)  # every kind at least once, early
        while not stop.wait(self.rng.uniform(2.5, 5.0)):
            kind = (
                kinds.pop(0)
                if kinds
                else self.rng.choices(
                    ["kill serve", "kill worker", "kill sweep", "500s", "429s", "delays"],
                    weights=[3, 2, 1, 2, 2, 2],
                )[0]
            )
            self.run_one(kind)


def sweeps(
    cluster: Cluster,
    env: dict[str, str],
    workdir: Path,
    ledger: Ledger,
    first_day: date,
    stop: threading.Event,
) -> None:
    """Cron: `remind --now` one working morning after another (Sydney, 09:05)."""
    day = first_day
    while not stop.wait(6):
        while day.weekday() >= 5:
            day += timedelta(days=1)
        now = datetime(day.year, day.month, day.day, 9, 5, tzinfo=SYDNEY).isoformat()
        sweep = processes.BotProcess(
            f"remind-{day.isoformat()}", ["remind", "--now", now], env, workdir
        )
        with cluster.lock:
            cluster.sweeps.append(sweep.start())
        assert sweep.proc is not None
        code = sweep.proc.wait(timeout=120)
        ledger.count(f"remind exit {code}")
        if code not in (0, -9):
            ledger.problem(f"remind --now {now} exited {code}:\n{sweep.tail(20)}")
        day += timedelta(days=1)


def loop(
    stop: threading.Event, ledger: Ledger, actor: Callable[[], None], rng: random.Random
) -> None:
    """Act every 1-3 s, so the bounded work spreads over the whole chaos window."""
    while not stop.is_set():
        try:
            actor()
        except Exception as exc:  # noqa: BLE001 - any surprise is a finding, not a crash
            ledger.problem(f"{type(exc).__name__}: {exc}")
        stop.wait(rng.uniform(1.0, 3.0))


# --- the test ----------------------------------------------------------------------------------


def test_every_promised_message_is_delivered_once_through_kills_and_slack_outages(
    scratch_postgres: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    today = datetime.now(SYDNEY).date()
    due = today + timedelta(days=6)
    slack = RoutedSlack().start()
    slack.delay = 0.2  # every Web API call takes a while, so kills find deliveries in flight
    for user in PEOPLE:
        slack.add_user(user, user.lower(), f"Chaos {user}")
    slack.add_channel(SUPPORT, "support")
    env = processes.bot_env(
        slack, scratch_postgres, POSTMORTEM_WEBHOOK_TOKEN=TOKEN, POSTMORTEM_SUPPORT_CHANNEL=SUPPORT
    )
    upgraded = processes.run_cli(["db", "upgrade"], env, tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    engine = make_engine(scratch_postgres)
    cluster = Cluster(env, tmp_path)
    ledger = Ledger()
    stop = threading.Event()
    try:
        cluster.start()
        people = [
            Person(u, slack, cluster, engine, ledger, random.Random(rng.random()), due)
            for u in PEOPLE
        ]
        helpdesk = Helpdesk(cluster, ledger, random.Random(rng.random()))
        threads = [
            threading.Thread(target=loop, args=(stop, ledger, p.act, random.Random(rng.random())))
            for p in people
        ]
        threads.append(
            threading.Thread(
                target=loop, args=(stop, ledger, helpdesk.act, random.Random(rng.random()))
            )
        )
        threads.append(
            threading.Thread(
                target=sweeps,
                args=(cluster, env, tmp_path, ledger, today + timedelta(days=1), stop),
            )
        )
        chaos = Chaos(cluster, slack, ledger, random.Random(rng.random()))
        threads.append(threading.Thread(target=chaos.run, args=(stop,)))
        for t in threads:
            t.start()
        stop.wait(CHAOS_SECONDS)
        stop.set()
        for t in threads:
            t.join(timeout=120)
        slack.clear_faults()
        print(
            f"\nchaos seed {SEED}: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(ledger.counts.items()))
        )
        cluster.ensure_running()
        print(f"the outbox drained in {wait_for_drain(engine, DRAIN_SECONDS):.0f} s")
        assert ledger.problems == [], ledger.problems
        check_everything_delivered_once(slack, engine, ledger)
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        stop.set()
        cluster.stop()
        slack.stop()
        engine.dispose()


def check_everything_delivered_once(slack: FakeSlack, engine: Engine, ledger: Ledger) -> None:
    received = Received(slack)
    assert received.duplicates() == {}, "messages Slack received twice"
    with session_factory(engine)() as session:
        assert failed_effects(session) == []
        effects = session.scalar(select(func.count()).select_from(outbox.Effect))
        reviews = list(session.scalars(select(Review).order_by(Review.id)))
        assert ledger.counts["reviews started"] and ledger.counts["stages saved"]
        for review in reviews:
            assert status_problem(session, review, received) is None
            summaries = received.found(status.SUMMARY_EVENT, review_id=review.id)
            # A workflow with a report posts that as the thread's one reply, not a summary.
            summary_due = review.current_stage is None and report_stage(workflow_of(review)) is None
            assert len(summaries) == (1 if summary_due else 0), review.id

        items = list(session.scalars(select(ActionItem)))
        assert items, "the run created no action items"
        for item in items:
            dms = received.found(ASSIGNMENT_EVENT, item_id=item.id, owner=item.owner_id)
            assert len(dms) == 1, f"action item {item.id}: {len(dms)} assignment DMs"
            assert (dms[0][0], dms[0][1]["ts"]) == (item.dm_channel, item.dm_ts)

        tickets = list(session.scalars(select(Ticket)))
        assert {t.ticket_id for t in tickets} == ledger.tickets
        for ticket in tickets:
            review_ids = session.scalars(
                select(Review.id).where(Review.trigger_ref == f"ticket:{ticket.ticket_id}")
            ).all()
            assert review_ids == [ticket.review_id], ticket.ticket_id
            starts = received.found(TICKET_DM_EVENT, kind="start", review_id=ticket.review_id)
            assert len(starts) == 1, f"ticket {ticket.ticket_id}: {len(starts)} start DMs"

        nudges = list(session.scalars(select(Nudge)))
        for nudge in nudges:
            if nudge.status == SENT:  # (sent twice would be a duplicate, checked above)
                assert received.found(METADATA_EVENT, nudge_id=nudge.id), nudge.id
        print(
            f"checked {len(reviews)} reviews, {len(items)} action items, {len(tickets)} "
            f"tickets, {sum(n.status == SENT for n in nudges)} reminders sent, "
            f"{effects} effects"
        )

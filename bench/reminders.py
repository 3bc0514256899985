"""One reminder sweep over a large database: its time, and how many item rows it read.

    python bench/reminders.py                     # 1,000,000 items, 10,000 due, SQLite + PG
    python bench/reminders.py --items 100000 --due 1000 --db sqlite
    python bench/reminders.py --items 20000 --due 500 --owners 500 --slack-latency 0.2
    python bench/reminders.py --items 20000 --due 500 --owners 500 --slack-latency 0.2 \
        --rate-limit --budget 300

The sweep sends real DMs to the fake Slack on 127.0.0.1, so the figure includes the HTTP calls.
`--slack-latency` makes the fake answer every call that late (real Slack takes 100-300 ms for
chat.postMessage); `--owners` spreads the due items over that many people (each a DM channel,
each with a timezone to look up); `--rate-limit` makes the fake refuse (429 + Retry-After) a
second message within a second to one channel and more than `--budget` messages a minute in the
workspace. Duplicates are counted from the fake's own record of posted nudges (each carries its
nudge id in metadata), so a nudge posted twice is seen even if the bot believes it sent it once.
The last line for each database is `sweep: N nudges in T s, R nudges/s, 429s K, duplicates D`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import Engine, insert, make_url, text

from bot.action_items import nudges as reminders
from bot.config import load_settings
from bot.runtime import build_runtime
from sandbox.fake_slack import FakeSlack
from storage.db import make_engine, upgrade
from storage.models import ActionItem, Review, WorkflowVersion, Workspace

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # Wednesday afternoon in Sydney
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def owner_ids(owners: int) -> list[str]:
    """Two owners are the seeded Alice and Bob (the old figures); more are added to the fake."""
    return ["U0ALICE", "U0BOB"] if owners <= 2 else [f"U0OWNER{n:05d}" for n in range(owners)]


def seed(engine: Engine, items: int, due: int, owners: list[str]) -> None:
    with engine.begin() as conn:
        ws = conn.execute(
            insert(Workspace)
            .values(team_id="T0TEST", name="", settings={}, created_at=NOW)
            .returning(Workspace.id)
        ).scalar()
        wv = conn.execute(
            insert(WorkflowVersion)
            .values(
                key="campaign_postmortem", version=1, digest="bench", definition={}, created_at=NOW
            )
            .returning(WorkflowVersion.id)
        ).scalar()
        review = conn.execute(
            insert(Review)
            .values(
                workspace_id=ws,
                workflow_version_id=wv,
                workflow_key="campaign_postmortem",
                title="Bench",
                status="open",
                channel_id="C0REVIEWS",
                owner_id="U0ADMIN",
                started_by="U0ADMIN",
                trigger="manual",
                created_at=NOW,
                updated_at=NOW,
                permalink="https://fake.slack.local/archives/C0REVIEWS/p1",
            )
            .returning(Review.id)
        ).scalar()
        chunk = 50_000
        every = items // due if due else 0
        for start in range(0, items, chunk):
            rows = []
            for i in range(start, min(items, start + chunk)):
                is_due = i % every == 0 if due else False
                # the due items go round the owners, so --owners N means N recipients
                owner = owners[(i // every if is_due else i) % len(owners)]
                rows.append(
                    {
                        "review_id": review,
                        "title": f"Item {i}",
                        "owner_id": "U0ALICE" if len(owners) == 2 and i % 2 else owner,
                        "due_date": (NOW + timedelta(days=2)).date()
                        if is_due
                        else (NOW + timedelta(days=30 + i % 300)).date(),
                        "status": "open" if is_due or i % 5 else "done",
                        "created_at": NOW,
                        "updated_at": NOW,
                        "assigned_at": NOW - timedelta(days=30),
                        # as the app stores it: at or before the first nudge (Wednesday 09:00 local)
                        "next_nudge_at": NOW - timedelta(hours=6)
                        if is_due
                        else NOW + timedelta(days=20 + i % 300),
                    }
                )
            conn.execute(insert(ActionItem), rows)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


def rows_read(engine: Engine) -> int | None:
    if engine.dialect.name != "postgresql":
        return None
    time.sleep(1.5)
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
                "FROM pg_stat_user_tables WHERE relname = 'action_items'"
            )
        ).scalar()


def nudges_posted(slack: FakeSlack) -> list[int]:
    """The nudge id of every reminder Slack accepted, as the fake recorded them."""
    return [
        c.params["metadata"]["event_payload"]["nudge_id"]
        for c in slack.calls_to("chat.postMessage")
        if c.ok and (c.params.get("metadata") or {}).get("event_type") == "postmortem_nudge"
    ]


def timeline(slack: FakeSlack, start: float, step: float = 5.0) -> str:
    """Messages posted/refused per `step` seconds of the sweep: the back-off and recovery."""
    posted: dict[int, int] = {}
    refused: dict[int, int] = {}
    for call in slack.calls_to("chat.postMessage"):
        if call.at >= start:
            slot = int((call.at - start) // step)
            bucket = refused if call.status == 429 else posted
            bucket[slot] = bucket.get(slot, 0) + 1
    slots = range(max([*posted, *refused], default=-1) + 1)
    return ", ".join(f"{posted.get(i, 0)}/{refused.get(i, 0)}" for i in slots)


def run(name: str, url: str, args: argparse.Namespace) -> None:
    items, due = args.items, args.due
    owners = owner_ids(args.owners)
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    seed(engine, items, due, owners)
    seeded = time.perf_counter() - t0
    slack = FakeSlack().start()
    for n, user in enumerate(owners):
        if user not in slack.workspace.users:
            slack.add_user(
                user,
                user.lower(),
                f"Owner {n}",
                tz="Australia/Perth" if n % 3 == 0 else "Australia/Sydney",
            )
    try:
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_SIGNING_SECRET": slack.signing_secret,
                "SLACK_API_URL": slack.api_url,
                "DATABASE_URL": url,
            }
        )
        rt = build_runtime(settings, engine)
        with rt.sessions() as session:
            due_rows = len(
                session.execute(
                    reminders.select(ActionItem.id).where(
                        ActionItem.next_nudge_at <= NOW, ActionItem.status.in_(reminders.OPEN)
                    )
                ).all()
            )
        before = rows_read(engine)
        slack.delay = args.slack_latency
        if args.rate_limit:
            slack.limit_posting(per_channel=1.0, per_minute=args.budget)
        slack.reset_calls()
        started = time.time()
        t0 = time.perf_counter()
        result = reminders.sweep(rt, NOW)
        took = time.perf_counter() - t0
        posted = nudges_posted(slack)
        refused = sum(1 for c in slack.calls if c.status == 429)
        calls = len(slack.calls)
        shape = timeline(slack, started) if args.rate_limit else ""
        pace = getattr(getattr(rt, "sender", None), "pace", None)  # None before PacedSender
        if shape and pace is not None:
            shape += (
                f" | 429s put down to the workspace {pace.workspace_limited}, to a channel "
                f"{pace.channel_limited}; pace at the end "
                f"{pace.rate('chat.postMessage') or 'unpaced'}"
            )
        slack.delay = 0
        after = rows_read(engine)  # waits for PostgreSQL's lazily flushed statistics
        t0 = time.perf_counter()
        again = reminders.sweep(rt, NOW + timedelta(minutes=1))
        idle = time.perf_counter() - t0
    finally:
        slack.stop()
        engine.dispose()
    read = (
        f"{after - before:,} item rows read (pg_stat)"
        if before is not None
        else (f"{due_rows:,} item rows match the indexed due query")
    )
    print(
        f"{name:<10} {items:>9,} items, {due_rows:,} due to {len(owners)} owners, Slack "
        f"{args.slack_latency * 1000:.0f} ms a call{', rate-limited' if args.rate_limit else ''}"
        f" | seed {seeded:6.1f} s | sweep {took:6.2f} s ({result}; {calls} Slack calls) | "
        f"{read} | next sweep with nothing due {idle * 1000:.1f} ms ({again})"
    )
    if shape:
        print(f"{name:<10} posted/refused per 5 s: {shape}")
    distinct = set(posted)
    if len(distinct) != due_rows:
        print(f"{name:<10} NOT SENT: {due_rows - len(distinct)} of {due_rows} due nudges")
    print(
        f"sweep: {len(distinct)} nudges in {took:.1f} s, {len(distinct) / took:.1f} nudges/s, "
        f"429s {refused}, duplicates {len(posted) - len(distinct)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--owners", type=int, default=2, help="distinct DM recipients")
    parser.add_argument(
        "--slack-latency",
        type=float,
        default=0.0,
        help="seconds the fake Slack takes to answer each call",
    )
    parser.add_argument(
        "--rate-limit",
        action="store_true",
        help="the fake answers 429 past 1 message/s per channel or --budget",
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=300,
        help="messages a minute the workspace may post with --rate-limit",
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        path = f"{tempfile.mkdtemp()}/bench.db"
        run("SQLite", f"sqlite:///{path}", args)
    if args.db in ("postgresql", "both"):
        name = f"pmbot_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(PG_ADMIN).set(drivername="postgresql+psycopg", database=name)
            run("PostgreSQL", url.render_as_string(hide_password=False), args)
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

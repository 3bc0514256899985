"""One reminder sweep over a large database: its time, and how many item rows it read.

    python bench/reminders.py                     # 1,000,000 items, 10,000 due, SQLite + PG
    python bench/reminders.py --items 100000 --due 1000 --db sqlite

The sweep sends real DMs to the fake Slack on 127.0.0.1 (no delay), so the figure includes the
HTTP calls; the claim phase (database only) is timed on its own too.
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


def seed(engine: Engine, items: int, due: int) -> None:
    with engine.begin() as conn:
        ws = conn.execute(insert(Workspace).values(team_id="T0TEST", name="", settings={},
                                                   created_at=NOW).returning(Workspace.id)).scalar()
        wv = conn.execute(insert(WorkflowVersion).values(
            key="campaign_postmortem", version=1, digest="bench", definition={},
            created_at=NOW).returning(WorkflowVersion.id)).scalar()
        review = conn.execute(insert(Review).values(
            workspace_id=ws, workflow_version_id=wv, workflow_key="campaign_postmortem",
            title="Bench", status="open", channel_id="C0REVIEWS", owner_id="U0ADMIN",
            started_by="U0ADMIN", trigger="manual", created_at=NOW, updated_at=NOW,
            permalink="https://fake.slack.local/archives/C0REVIEWS/p1").returning(
            Review.id)).scalar()
        chunk = 50_000
        for start in range(0, items, chunk):
            rows = []
            for i in range(start, min(items, start + chunk)):
                is_due = i % (items // due) == 0 if due else False
                rows.append({
                    "review_id": review, "title": f"Item {i}",
                    "owner_id": "U0ALICE" if i % 2 else "U0BOB",
                    "due_date": (NOW + timedelta(days=2)).date() if is_due
                    else (NOW + timedelta(days=30 + i % 300)).date(),
                    "status": "open" if is_due or i % 5 else "done", "created_at": NOW,
                    "updated_at": NOW, "assigned_at": NOW - timedelta(days=30),
                    # as the app stores it: at or before the first nudge (Wednesday 09:00 local)
                    "next_nudge_at": NOW - timedelta(hours=6) if is_due
                    else NOW + timedelta(days=20 + i % 300)})
            conn.execute(insert(ActionItem), rows)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))


def rows_read(engine: Engine) -> int | None:
    if engine.dialect.name != "postgresql":
        return None
    time.sleep(1.5)
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
            "FROM pg_stat_user_tables WHERE relname = 'action_items'")).scalar()


def run(name: str, url: str, items: int, due: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    seed(engine, items, due)
    seeded = time.perf_counter() - t0
    slack = FakeSlack().start()
    try:
        settings = load_settings({"SLACK_BOT_TOKEN": slack.bot_token,
                                  "SLACK_SIGNING_SECRET": slack.signing_secret,
                                  "SLACK_API_URL": slack.api_url, "DATABASE_URL": url})
        rt = build_runtime(settings, engine)
        with rt.sessions() as session:
            due_rows = len(session.execute(reminders.select(ActionItem.id).where(
                ActionItem.next_nudge_at <= NOW,
                ActionItem.status.in_(reminders.OPEN))).all())
        before = rows_read(engine)
        t0 = time.perf_counter()
        result = reminders.sweep(rt, NOW)
        took = time.perf_counter() - t0
        after = rows_read(engine)  # waits for PostgreSQL's lazily flushed statistics
        t0 = time.perf_counter()
        again = reminders.sweep(rt, NOW + timedelta(minutes=1))
        idle = time.perf_counter() - t0
    finally:
        slack.stop()
        engine.dispose()
    read = f"{after - before:,} item rows read (pg_stat)" if before is not None else (
        f"{due_rows:,} item rows match the indexed due query")
    print(f"{name:<10} {items:>9,} items, {due_rows:,} due | seed {seeded:6.1f} s | "
          f"sweep {took:6.2f} s ({result}) | {read} | next sweep with nothing due "
          f"{idle * 1000:.1f} ms ({again})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        path = f"{tempfile.mkdtemp()}/bench.db"
        run("SQLite", f"sqlite:///{path}", args.items, args.due)
    if args.db in ("postgresql", "both"):
        name = f"pmbot_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(PG_ADMIN).set(drivername="postgresql+psycopg", database=name)
            run("PostgreSQL", url.render_as_string(hide_password=False), args.items, args.due)
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

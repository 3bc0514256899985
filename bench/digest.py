"""The digest's query and rendering over a large database: 10,000 reviews, 100,000 action items.

    python bench/digest.py                          # SQLite and PostgreSQL
    python bench/digest.py --reviews 2000 --items-per-review 10 --db sqlite

Reviews, their stage answers and action items are spread over two years. Two figures per
database: the usual digest (the two weeks since the last one) and a first digest covering the
whole history. Each is the median of five runs of collect() + render(); nothing is posted.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import Engine, insert, make_url, text
from sqlalchemy.orm import Session

from bot.digest import service as digest
from sandbox.fake_slack import problems
from storage.db import make_engine, upgrade
from storage.models import (
    ActionItem,
    FollowUp,
    Review,
    StageSubmission,
    WorkflowVersion,
    Workspace,
)
from workflows.loader import Registry
from workflows.meetings import next_meeting

NOW = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)  # Wed 2 Dec 09:00 in Sydney: posting time
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SPAN = timedelta(days=730)
CATEGORIES = ("delivery", "billing", "product_defect", "returns", "technical")


def seed(engine: Engine, reviews: int, items_per_review: int) -> None:
    registry = Registry.load()
    settings = digest.DigestSettings(
        channel="C0REVIEWS",
        first_meeting=NOW.date().replace(day=2) - timedelta(weeks=104),
        updated_at=NOW - SPAN,
    )
    with engine.begin() as conn:
        ws = conn.execute(
            insert(Workspace)
            .values(
                team_id="T0TEST",
                name="",
                settings={"digest": settings.to_json()},
                created_at=NOW - SPAN,
            )
            .returning(Workspace.id)
        ).scalar()
        versions = {}
        for key in ("support_postmortem", "campaign_postmortem"):
            wf = registry[key]
            versions[key] = conn.execute(
                insert(WorkflowVersion)
                .values(
                    key=key,
                    version=wf.version,
                    digest=wf.digest,
                    definition=wf.model_dump(mode="json"),
                    created_at=NOW - SPAN,
                )
                .returning(WorkflowVersion.id)
            ).scalar()
        chunk = 2000
        for first in range(0, reviews, chunk):
            batch = range(first, min(reviews, first + chunk))
            rows = []
            for i in batch:
                key = "support_postmortem" if i % 4 else "campaign_postmortem"
                created = NOW - SPAN + SPAN * i / reviews
                done = created + timedelta(days=10)
                finished = done < NOW and i % 7
                status = (
                    ("closed" if key == "support_postmortem" else "complete")
                    if finished
                    else ("in_review" if i % 3 == 0 and key == "support_postmortem" else "open")
                )
                rows.append(
                    {
                        "workspace_id": ws,
                        "workflow_version_id": versions[key],
                        "workflow_key": key,
                        "title": f"Review {i}",
                        "status": status,
                        "current_stage": None if finished else "report",
                        "channel_id": "C0REVIEWS",
                        "owner_id": f"U0OWNER{i % 40}",
                        "started_by": "U0ADMIN",
                        "trigger": "manual",
                        "created_at": created,
                        "updated_at": done if finished else created,
                        "completed_at": done if finished else None,
                        "permalink": f"https://fake.slack.local/archives/C0REVIEWS/p{i}",
                    }
                )
            ids = conn.execute(
                insert(Review).returning(Review.id, Review.created_at, Review.workflow_key), rows
            ).all()
            subs, items = [], []
            for (rid, created, key), i in zip(ids, batch, strict=True):
                meta = "metadata" if key == "support_postmortem" else "data_gathering"
                subs.append(
                    {
                        "review_id": rid,
                        "stage_key": meta,
                        "revision": 1,
                        "answers": {"category": CATEGORIES[i % 5], "ces_score": str(1 + i % 5)},
                        "submitted_by": "U0ALICE",
                        "submitted_at": created,
                    }
                )
                subs.append(
                    {
                        "review_id": rid,
                        "stage_key": "report" if key == "support_postmortem" else "lessons_learned",
                        "revision": 1,
                        "answers": {
                            "summary": f"What happened in review {i}. " * 5,
                            "lessons": f"Lesson {i}. " * 10,
                            "share_at_meeting": i % 5 == 0,
                        },
                        "submitted_by": "U0ALICE",
                        "submitted_at": created + timedelta(days=3),
                    }
                )
                for n in range(items_per_review):
                    due = (created + timedelta(days=7 + 3 * n)).date()
                    closed = (i + n) % 3 != 0 and created + timedelta(days=5 + 3 * n) < NOW
                    items.append(
                        {
                            "review_id": rid,
                            "title": f"Item {n} of review {i}",
                            "owner_id": f"U0OWNER{(i + n) % 40}",
                            "due_date": due,
                            "status": "done" if closed else "open",
                            "completed_at": created + timedelta(days=5 + 4 * n) if closed else None,
                            "created_at": created,
                            "updated_at": created,
                            "assigned_at": created,
                        }
                    )
            sub_ids = conn.execute(
                insert(StageSubmission).returning(StageSubmission.id, StageSubmission.review_id),
                subs,
            ).all()
            follow = [
                {
                    "review_id": rid,
                    "submission_id": sid,
                    "kind": "escalation",
                    "title": "Systemic issue",
                    "detail": "Needs a process change",
                    "status": "open",
                    "created_at": NOW - SPAN + SPAN * k / len(sub_ids),
                }
                for k, (sid, rid) in enumerate(sub_ids)
                if k % 40 == 0
            ]
            if follow:
                conn.execute(insert(FollowUp), follow)
            conn.execute(insert(ActionItem), items)


def run_once(engine: Engine, since: datetime | None) -> tuple[float, dict]:
    started = time.perf_counter()
    with Session(engine) as session:
        ws, settings = digest.load_settings(session, "T0TEST", rt=None, now=NOW)  # type: ignore[arg-type]
        schedule = settings.schedule("NSW")
        meeting = next_meeting(schedule, NOW)
        start = since or digest.covered_start(session, ws.id, "C0REVIEWS", schedule, meeting)
        content = digest.collect(session, ws.id, schedule, meeting, start, NOW)
    message = digest.render(content, settings)
    return time.perf_counter() - started, message


def bench(engine: Engine, label: str, reviews: int, items_per_review: int) -> None:
    upgrade(engine)
    t0 = time.perf_counter()
    seed(engine, reviews, items_per_review)
    if engine.dialect.name == "postgresql":
        # What autovacuum would have done in a real deployment after these rows came in: without
        # statistics the planner guesses, and the figures would not be a deployment's.
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    print(
        f"{label}: seeded {reviews:,} reviews, {reviews * items_per_review:,} action items "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    for name, since in (("two-week digest", None), ("whole history", NOW - SPAN)):
        run_once(engine, since)  # warm the caches
        times = []
        for _ in range(5):
            elapsed, message = run_once(engine, since)
            times.append(elapsed)
        assert problems("message", message) == [], problems("message", message)
        print(
            f"{label}: {name}: median {statistics.median(times) * 1000:.0f} ms "
            f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}); "
            f"{len(message['blocks'])} blocks, "
            f"{max(len(b.get('text', {}).get('text', '')) for b in message['blocks'])} "
            "chars in the longest block"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--items-per-review", type=int, default=10)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{folder}/bench.db")
            bench(engine, "SQLite", args.reviews, args.items_per_review)
            engine.dispose()
    if args.db in ("postgresql", "both"):
        name = f"pmbot_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(PG_ADMIN).set(drivername="postgresql+psycopg", database=name)
            engine = make_engine(url.render_as_string(hide_password=False))
            bench(engine, "PostgreSQL", args.reviews, args.items_per_review)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

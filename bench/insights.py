"""The insights' figures over a large database: 10,000 reviews, 100,000 action items.

    python bench/insights.py                          # SQLite and PostgreSQL
    python bench/insights.py --reviews 2000 --db sqlite

The reviews and action items are bench/digest.py's (two years of them); on top come a
knowledge-base entry with tags for every completed review, a helpdesk ticket with a CES score
behind every support review (some still open), service delivery engagements with quality
reviews sent back, and budgets and actual spend on the campaign reviews. PostgreSQL is
ANALYZEd after seeding, as autovacuum would have done. Each figure is the median of five runs of
`collect()` (every figure of the command, App Home and the CLI; no chart drawn), for the default
six months and for the whole history; then the digest's figures and the charts' drawing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import Engine, bindparam, insert, make_url, select, text, update
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).parent))
import digest as digest_bench  # noqa: E402  (bench/digest.py: the reviews and action items)

from bot.insights import charts  # noqa: E402
from bot.insights import service as insights  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402
from storage.knowledge import KnowledgeEntry  # noqa: E402
from storage.models import (  # noqa: E402
    ActionItem,
    Decision,
    Review,
    StageSubmission,
    WorkflowVersion,
    Workspace,
)
from storage.tickets import Ticket  # noqa: E402
from workflows.insights import parse_period  # noqa: E402
from workflows.loader import Registry  # noqa: E402

NOW, SPAN, PG_ADMIN = digest_bench.NOW, digest_bench.SPAN, digest_bench.PG_ADMIN
ZONE = ZoneInfo("Australia/Sydney")
THEMES = ("refunds", "courier", "sizing", "email", "pricing", "stock", "checkout", "returns")


def seed_more(engine: Engine) -> dict[str, int]:
    """Lessons, tickets, engagements and budgets over the digest bench's reviews."""
    registry = Registry.load()
    made: dict[str, int] = {}
    with engine.begin() as conn:
        ws = conn.execute(select(Workspace.id)).scalar_one()
        wf = registry["service_delivery"]
        version = conn.execute(
            insert(WorkflowVersion)
            .values(
                key=wf.key,
                version=wf.version,
                digest=wf.digest,
                definition=wf.model_dump(mode="json"),
                created_at=NOW - SPAN,
            )
            .returning(WorkflowVersion.id)
        ).scalar()
        # One support review in ten becomes a service delivery engagement.
        conn.execute(
            update(Review)
            .where(Review.id % 10 == 5)
            .values(workflow_key="service_delivery", workflow_version_id=version)
        )
        reviews = conn.execute(
            select(Review.id, Review.workflow_key, Review.created_at, Review.completed_at).order_by(
                Review.id
            )
        ).all()
        entries, tickets, subs, campaign = [], [], [], []
        for n, (rid, key, created, completed) in enumerate(reviews):
            if completed is not None:
                tags = [
                    key.split("_")[0],
                    THEMES[n % len(THEMES)],
                    THEMES[(n * 7 + 3) % len(THEMES)],
                ]
                entries.append(
                    {
                        "workspace_id": ws,
                        "review_id": rid,
                        "workflow_key": key,
                        "title": f"Lesson of review {n}",
                        "lessons": f"Lesson {n}",
                        "tags": tags,
                        "tags_text": "," + ",".join(tags) + ",",
                        "category": THEMES[n % len(THEMES)],
                        "created_at": completed,
                        "updated_at": completed,
                    }
                )
            if key == "support_postmortem":
                opened = created - timedelta(days=2)
                tickets.append(
                    {
                        "workspace_id": ws,
                        "ticket_id": f"T-{n}",
                        "source": "bench",
                        "raw": {},
                        "owner_id": "U0ALICE",
                        "customer_type": ("reseller", "end-user")[n % 2],
                        "category": THEMES[n % 5],
                        "ces_score": 1 + n % 7,
                        "ces_scale": 7,
                        "opened_at": opened,
                        "closed_at": None if n % 50 == 0 else created,
                        "review_id": rid,
                        "created_at": opened,
                        "updated_at": opened,
                    }
                )
            elif key == "service_delivery":
                for revision in range(1, 2 + n % 3):  # sent back 0, 1 or 2 times
                    subs.append(
                        (
                            rid,
                            "quality_review",
                            revision,
                            created + timedelta(days=3 * revision),
                            "approved" if revision == 1 + n % 3 else "revision_required",
                        )
                    )
            elif key == "campaign_postmortem":
                campaign.append((rid, created, n))
        for chunk in range(0, len(entries), 2000):
            conn.execute(insert(KnowledgeEntry), entries[chunk : chunk + 2000])
        for chunk in range(0, len(tickets), 2000):
            conn.execute(insert(Ticket), tickets[chunk : chunk + 2000])
        rows = conn.execute(
            insert(StageSubmission).returning(
                StageSubmission.id, StageSubmission.review_id, StageSubmission.submitted_at
            ),
            [
                {
                    "review_id": r,
                    "stage_key": s,
                    "revision": v,
                    "answers": {},
                    "submitted_by": "U0ALICE",
                    "submitted_at": at,
                }
                for r, s, v, at, _ in subs
            ],
        ).all()
        conn.execute(
            insert(Decision),
            [
                {
                    "review_id": rid,
                    "submission_id": sid,
                    "decision_key": "quality_outcome",
                    "option": option,
                    "decided_by": "U0ALICE",
                    "decided_at": at,
                }
                for (sid, rid, at), (_, _, _, _, option) in zip(rows, subs, strict=True)
            ],
        )
        conn.execute(
            insert(StageSubmission),
            [
                {
                    "review_id": rid,
                    "stage_key": "data_gathering",
                    "revision": 2,
                    "answers": {
                        "budget": {"amount": f"{1000 + n % 900}.00", "gst": "inclusive"},
                        "actual_spend": {"amount": f"{900 + n % 1000}.55", "gst": "exclusive"},
                    },
                    "submitted_by": "U0ALICE",
                    "submitted_at": created,
                }
                for rid, created, n in campaign
            ],
        )
        # Every item of one review in five is finished, so the review-to-last-action median
        # has reviews to measure.
        finish = conn.execute(
            select(ActionItem.id, ActionItem.created_at).where(
                ActionItem.review_id % 5 == 1, ActionItem.status != "done"
            )
        ).all()
        if finish:
            conn.execute(
                update(ActionItem)
                .where(ActionItem.id == bindparam("item"))
                .values(status="done", completed_at=bindparam("at"))
                .execution_options(synchronize_session=False),
                [{"item": i, "at": at + timedelta(days=25 + i % 20)} for i, at in finish],
            )
        made = {
            "lessons": len(entries),
            "tickets": len(tickets),
            "quality reviews": len(subs),
            "campaign budgets": len(campaign),
        }
    return made


def timed(label: str, func: Callable[[], object], runs: int = 5) -> object:
    func()  # warm the caches
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    print(
        f"{label}: median {statistics.median(times) * 1000:.0f} ms "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
    )
    return result


def bench(engine: Engine, label: str, reviews: int, items_per_review: int) -> None:
    upgrade(engine)
    t0 = time.perf_counter()
    digest_bench.seed(engine, reviews, items_per_review)
    made = seed_more(engine)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    print(
        f"{label}: seeded {reviews:,} reviews, {reviews * items_per_review:,} action items, "
        + ", ".join(f"{n:,} {k}" for k, n in made.items())
        + f" in {time.perf_counter() - t0:.1f} s"
    )
    defs = insights.definitions(Registry.load())
    today = NOW.astimezone(ZONE).date()

    def collect(period_text: str) -> Callable[[], object]:
        def run() -> object:
            with Session(engine) as session:
                ws = session.scalars(select(Workspace)).one()
                period = insights.period_for(session, ws.id, period_text, today)
                return insights.collect(session, ws, period, ZONE, NOW, defs)

        return run

    for name, period_text in (("six months", ""), ("whole history", "all")):
        ins = timed(f"{label}: insights, {name}", collect(period_text))
        print(
            f"{label}:   {ins.started_total():,} reviews started, "  # type: ignore[attr-defined]
            f"{sum(ins.repeat_reviews.values()):,} repeating a theme, "  # type: ignore[attr-defined]
            f"{ins.item_totals()}, median "  # type: ignore[attr-defined]
            f"{ins.median_days_to_last_action} days to the last action"
        )  # type: ignore[attr-defined]

    def digest_figures() -> object:
        with Session(engine) as session:
            ws = session.scalars(select(Workspace)).one()
            return insights.digest_figures(session, ws.id, NOW - timedelta(weeks=2), NOW, zone=ZONE)

    figures = timed(f"{label}: the digest's figures (two weeks and six months)", digest_figures)
    timed(f"{label}: drawing the digest's chart", lambda: insights._digest_png(figures), runs=3)  # type: ignore[arg-type]
    six = collect("")()
    timed(
        f"{label}: drawing the command's chart",
        lambda: charts.reviews_png(six),  # type: ignore[arg-type]
        runs=3,
    )
    assert parse_period("", today).months()


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
            engine.dispose()
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

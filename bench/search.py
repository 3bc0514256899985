"""Knowledge base search over 100,000 entries: query time on SQLite (FTS5) and PostgreSQL (GIN).

    python bench/search.py [--entries 100000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
    python bench/search.py --db postgresql

Builds a scratch database per engine with generated lessons (a vocabulary of realistic words, so
common and rare terms both occur), then times typical searches: one word, two words (all must
match), a rare word, a filtered search, and the loose "similar lessons" search.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import insert, make_url

from storage import knowledge as kb
from storage import reviews as store
from storage.db import make_engine, session_factory, upgrade
from storage.models import Review

_COMMON = (
    "refund delivery courier email campaign stock discount invoice customer returns "
    "policy template checklist warehouse forecast budget schedule launch banner price "
    "promotion ticket escalation instruction article supplier parcel payment"
)
_FILLER = (
    "the team found that a process step was missing and the information arrived late "
    "so we agreed to change how work is handed over between groups next time"
)
COMMON, FILLER = _COMMON.split(), _FILLER.split()
RARE = ("gazebo", "thermostat", "kayak", "trampoline")
WORKFLOWS = ("campaign_postmortem", "support_postmortem", "service_delivery")
QUERIES = {
    "one word": (["refund"], {}),
    "two words": (["courier", "late"], {}),
    "rare word": (["trampoline"], {}),
    "filtered": (["refund"], {"workflow_key": "support_postmortem", "tags": ["returns"]}),
    "similar (any word)": (["black", "friday", "refund", "email"], {"match_all": False}),
}
# The tip shown when a review starts (bot.knowledge.suggest_similar) calls kb.similar.
SEARCHES = {"similar (any word)": kb.similar}


def sentence(rng: random.Random, words: int) -> str:
    picked = rng.sample(COMMON, 3) + rng.sample(FILLER, words - 3)
    if rng.random() < 0.001:
        picked.append(rng.choice(RARE))
    rng.shuffle(picked)
    return " ".join(picked).capitalize() + "."


def fill(url: str, entries: int) -> tuple[object, int]:
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(7)
    with session_factory(engine)() as session:
        ws = store.workspace(session, "TBENCH")
        version = store.pin_workflow(session, "campaign_postmortem", 1, "bench", {})
        session.commit()
        ws_id, version_id = ws.id, version.id
    batch = 5000
    with engine.begin() as conn:
        for start in range(0, entries, batch):
            n = min(batch, entries - start)
            reviews = [
                {
                    "workspace_id": ws_id,
                    "workflow_version_id": version_id,
                    "workflow_key": "campaign_postmortem",
                    "title": f"Review {start + i}",
                    "status": "complete",
                    "channel_id": "C1",
                    "owner_id": "U1",
                    "started_by": "U1",
                    "trigger": "manual",
                }
                for i in range(n)
            ]
            ids = conn.execute(insert(Review).returning(Review.id), reviews).scalars().all()
            rows = []
            for review_id in ids:
                workflow = rng.choice(WORKFLOWS)
                tags = [workflow.split("_")[0], rng.choice(["returns", "delivery", "email"])]
                rows.append(
                    {
                        "workspace_id": ws_id,
                        "review_id": review_id,
                        "workflow_key": workflow,
                        "title": sentence(rng, 6),
                        "summary": sentence(rng, 12),
                        "lessons": sentence(rng, 14),
                        "root_causes": sentence(rng, 12),
                        "recommendations": sentence(rng, 10),
                        "body": sentence(rng, 20),
                        "tags": tags,
                        "tags_text": "," + ",".join(tags) + ",",
                        "share_at_meeting": False,
                        "report_md": "",
                        "revision": 1,
                    }
                )
            conn.execute(insert(kb.KnowledgeEntry), rows)
    return engine, ws_id


def measure(engine, ws_id: int, runs: int) -> dict[str, tuple[float, float, int]]:
    out = {}
    with session_factory(engine)() as session:
        for name, (words, filters) in QUERIES.items():
            if name in SEARCHES:
                search, filters = SEARCHES[name], {"limit": 5}  # as kb.search gives
            else:
                search = kb.search
            search(session, ws_id, words, **filters)  # warm the caches
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                hits = search(session, ws_id, words, **filters)
                times.append((time.perf_counter() - started) * 1000)
            out[name] = (statistics.median(times), max(times), len(hits))
    return out


def report(label: str, entries: int, build_s: float, results: dict) -> None:
    print(f"\n{label}: {entries:,} entries (loaded in {build_s:.1f} s)")
    print(f"  {'query':<20}{'median ms':>10}{'max ms':>9}{'hits':>6}")
    for name, (median, worst, hits) in results.items():
        print(f"  {name:<20}{median:>10.1f}{worst:>9.1f}{hits:>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="admin URL of a PostgreSQL server ('' to skip)",
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        sqlite(args.entries, args.runs)
    if args.pg and args.db in ("postgresql", "both"):
        postgresql(args.pg, args.entries, args.runs)


def sqlite(entries: int, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        engine, ws_id = fill(f"sqlite:///{Path(tmp) / 'bench.db'}", entries)
        build = time.perf_counter() - started
        report("SQLite FTS5", entries, build, measure(engine, ws_id, runs))
        engine.dispose()


def postgresql(admin_url: str, entries: int, runs: int) -> None:
    admin = psycopg.connect(admin_url, autocommit=True)
    name = f"pmbot_bench_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
        started = time.perf_counter()
        engine, ws_id = fill(url.render_as_string(hide_password=False), entries)
        build = time.perf_counter() - started
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE knowledge_entries")
        report("PostgreSQL tsvector + GIN", entries, build, measure(engine, ws_id, runs))
        engine.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()

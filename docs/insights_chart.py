"""Draws docs/insights.png, the README's chart, from a seeded half year of post-mortems.

    python docs/insights_chart.py

A support team's six months in a scratch SQLite database: reviews each month, a lesson on
courier delays published in January after which the theme comes back less each month, action
items kept on time more often, tickets' CES, and campaign budgets. The chart is drawn by the same
code as `postmortem-bot insights --format png`.
"""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.insights import charts
from bot.insights import service as insights
from storage.db import make_engine, upgrade
from storage.knowledge import KnowledgeEntry
from storage.models import ActionItem, Review, StageSubmission, WorkflowVersion
from storage.reviews import workspace
from storage.tickets import Ticket
from workflows.insights import parse_period
from workflows.loader import Registry

ZONE = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 6, 29, 23, 0, tzinfo=UTC)
OUT = Path(__file__).parent / "insights.png"
THEMES = ("courier-delay", "refund-wording", "sizing", "stock-levels")


def seed(session: Session) -> None:
    rng = random.Random(2026)
    registry = Registry.load()
    ws = workspace(session, "T0DEMO")
    versions = {}
    for key in ("support_postmortem", "campaign_postmortem"):
        wf = registry[key]
        row = WorkflowVersion(
            key=key, version=wf.version, digest=wf.digest, definition=wf.model_dump(mode="json")
        )
        session.add(row)
        session.flush()
        versions[key] = row.id
    n = 0
    for month in range(1, 7):
        # Fewer reviews on old themes as the lessons take hold; action items kept better.
        repeats, fresh = max(1, 7 - month), 5 + month % 3
        on_time_rate = 0.45 + month * 0.07
        for i in range(repeats + fresh):
            n += 1
            key = "campaign_postmortem" if i % 5 == 0 else "support_postmortem"
            created = datetime(2026, month, 1 + (i * 3) % 27, 1, tzinfo=UTC)
            completed = created + timedelta(days=12) if created + timedelta(days=12) < NOW else None
            review = Review(
                workspace_id=ws.id,
                workflow_version_id=versions[key],
                workflow_key=key,
                title=f"Review {n}",
                channel_id="C0DEMO",
                owner_id="U0DEMO",
                started_by="U0DEMO",
                created_at=created,
                updated_at=created,
                completed_at=completed,
                status="complete" if completed else "open",
                permalink=f"https://example.slack.com/archives/C0DEMO/p{n}",
            )
            session.add(review)
            session.flush()
            # The old theme comes back less each month; the rest are new problems.
            theme = THEMES[0] if i < repeats else f"{THEMES[1 + n % 3]}-{n}"
            if completed:
                session.add(
                    KnowledgeEntry(
                        workspace_id=ws.id,
                        review_id=review.id,
                        workflow_key=key,
                        title=f"Lesson {n}",
                        tags=[theme],
                        tags_text=f",{theme},",
                        created_at=completed,
                        updated_at=completed,
                    )
                )
            if key == "support_postmortem":
                session.add(
                    Ticket(
                        workspace_id=ws.id,
                        ticket_id=f"T-{n}",
                        source="demo",
                        raw={},
                        owner_id="U0DEMO",
                        customer_type=("reseller", "end-user")[n % 2],
                        category=("delivery", "billing", "returns")[n % 3],
                        ces_score=min(7, 2 + month // 2 + n % 3),
                        ces_scale=7,
                        opened_at=created - timedelta(days=3),
                        closed_at=created,
                        review_id=review.id,
                    )
                )
            else:
                budget = 5000 + 500 * (n % 4)
                session.add(
                    StageSubmission(
                        review_id=review.id,
                        stage_key="data_gathering",
                        revision=1,
                        submitted_by="U0DEMO",
                        submitted_at=created,
                        answers={
                            "budget": {"amount": f"{budget * 1.1:.2f}", "gst": "inclusive"},
                            "actual_spend": {
                                "amount": f"{budget * rng.uniform(0.85, 1.2):.2f}",
                                "gst": "exclusive",
                            },
                        },
                    )
                )
            for k in range(3):
                due = (created + timedelta(days=10 + 4 * k)).date()
                kept = rng.random() < on_time_rate
                done_at = created + timedelta(days=(8 if kept else 16) + 4 * k)
                if done_at < NOW and rng.random() < 0.92:
                    session.add(
                        ActionItem(
                            review_id=review.id,
                            title="Fix",
                            owner_id="U0DEMO",
                            due_date=due,
                            status="done",
                            completed_at=done_at,
                        )
                    )
                else:
                    session.add(
                        ActionItem(
                            review_id=review.id,
                            title="Fix",
                            owner_id="U0DEMO",
                            due_date=due,
                            status="open",
                        )
                    )
    session.commit()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/demo.db")
        upgrade(engine)
        with Session(engine) as session:
            seed(session)
            ws = workspace(session, "T0DEMO")
            period = parse_period("6m", NOW.astimezone(ZONE).date())
            ins = insights.collect(
                session, ws, period, ZONE, NOW, insights.definitions(Registry.load())
            )
        OUT.write_bytes(charts.overview_png(ins))
        engine.dispose()
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes) for {ins.period.label}")


if __name__ == "__main__":
    main()

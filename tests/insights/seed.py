"""Rows for the insights tests, inserted directly at chosen times (no Slack, no hooks)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from storage.knowledge import KnowledgeEntry
from storage.models import (
    ActionItem,
    AuditEntry,
    Decision,
    Review,
    StageSubmission,
    WorkflowVersion,
)
from storage.reviews import workspace
from storage.tickets import Ticket
from workflows.loader import Registry

SYDNEY = ZoneInfo("Australia/Sydney")
TEAM = "T0TEST"
REGISTRY = Registry.load()


class Seed:
    def __init__(self, session: Session, team: str = TEAM):
        self.session = session
        self.ws = workspace(session, team)
        self.versions: dict[str, int] = {}
        self.made = 0

    def version(self, key: str) -> int:
        if key not in self.versions:
            wf = REGISTRY[key]
            row = WorkflowVersion(
                key=key, version=wf.version, digest=wf.digest, definition=wf.model_dump(mode="json")
            )
            self.session.add(row)
            self.session.flush()
            self.versions[key] = row.id
        return self.versions[key]

    def review(
        self,
        key: str = "support_postmortem",
        *,
        created: datetime,
        completed: datetime | None = None,
        title: str | None = None,
    ) -> Review:
        self.made += 1
        review = Review(
            workspace_id=self.ws.id,
            workflow_version_id=self.version(key),
            workflow_key=key,
            title=title or f"Review {self.made}",
            status="complete" if completed else "open",
            channel_id="C0REVIEWS",
            owner_id="U0ALICE",
            started_by="U0ALICE",
            created_at=created,
            updated_at=created,
            completed_at=completed,
            permalink=f"https://slack.example/p{self.made}",
        )
        self.session.add(review)
        self.session.flush()
        return review

    def item(
        self,
        review: Review,
        *,
        due: date | None,
        status: str = "open",
        completed: datetime | None = None,
    ) -> ActionItem:
        item = ActionItem(
            review_id=review.id,
            title="Do it",
            owner_id="U0BOB",
            due_date=due,
            status=status,
            completed_at=completed,
        )
        self.session.add(item)
        self.session.flush()
        return item

    def submission(
        self,
        review: Review,
        stage: str,
        answers: dict[str, Any],
        *,
        revision: int = 1,
        at: datetime | None = None,
        decisions: dict[str, str] | None = None,
        edit: bool = False,
    ) -> StageSubmission:
        sub = StageSubmission(
            review_id=review.id,
            stage_key=stage,
            revision=revision,
            answers=answers,
            submitted_by="U0ALICE",
            submitted_at=at or review.created_at,
        )
        self.session.add(sub)
        self.session.flush()
        for key, option in (decisions or {}).items():
            self.session.add(
                Decision(
                    review_id=review.id,
                    submission_id=sub.id,
                    decision_key=key,
                    option=option,
                    decided_by="U0ALICE",
                    decided_at=at or review.created_at,
                )
            )
        if edit:
            self.session.add(
                AuditEntry(
                    workspace_id=self.ws.id,
                    review_id=review.id,
                    actor="U0ALICE",
                    action="stage.edited",
                    detail={"stage": stage, "revision": revision},
                )
            )
        self.session.flush()
        return sub

    def ticket(
        self,
        review: Review | None,
        *,
        opened: datetime,
        closed: datetime | None = None,
        score: float | None = None,
        scale: int | None = None,
        category: str | None = "delivery",
        customer: str | None = "reseller",
    ) -> Ticket:
        self.made += 1
        ticket = Ticket(
            workspace_id=self.ws.id,
            ticket_id=f"T-{self.made}",
            source="test",
            raw={},
            owner_id="U0ALICE",
            customer_type=customer,
            category=category,
            ces_score=score,
            ces_scale=scale,
            opened_at=opened,
            closed_at=closed,
            review_id=review.id if review else None,
        )
        self.session.add(ticket)
        self.session.flush()
        return ticket

    def lesson(
        self,
        review: Review,
        tags: list[str],
        *,
        published: datetime,
        title: str | None = None,
        team: str | None = None,
    ) -> KnowledgeEntry:
        entry = KnowledgeEntry(
            workspace_id=self.ws.id,
            review_id=review.id,
            workflow_key=review.workflow_key,
            title=title or review.title,
            tags=tags,
            tags_text="," + ",".join(tags) + ",",
            team=team,
            created_at=published,
            updated_at=published,
        )
        self.session.add(entry)
        self.session.flush()
        return entry

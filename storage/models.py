"""The database schema, as typed SQLAlchemy 2 models.

Every change here needs an Alembic migration: `tests/storage/test_migrations.py` fails when the
models and the migrations disagree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SlackId = String(32)
ACTION_ITEM_STATUSES = ("open", "in_progress", "blocked", "done", "cancelled")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), date: Date()}


class Workspace(Base):
    """A Slack team and its settings (reminder defaults, digest schedule, admins...)."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(SlackId, unique=True)
    # Its Enterprise Grid org, when it has one: an org-wide install serves it (bot/workspaces).
    enterprise_id: Mapped[str | None] = mapped_column(SlackId)
    name: Mapped[str] = mapped_column(String(255), default="")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkflowVersion(Base):
    """The exact definition a review started with, so editing a YAML file never breaks it."""

    __tablename__ = "workflow_versions"
    __table_args__ = (UniqueConstraint("key", "digest", name="uq_workflow_versions_key_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(16))
    # 20-25 KB of JSON, parsed once per process by `bot.reviews.service.workflow_of` (found by
    # key and digest): deferred, so reading a review with its version does not decode it again.
    definition: Mapped[dict[str, Any]] = mapped_column(deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Review(Base):
    """One run of a workflow."""

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_workspace_channel", "workspace_id", "channel_id"),
        Index("ix_reviews_workspace_owner", "workspace_id", "owner_id"),
        Index("ix_reviews_workspace_status", "workspace_id", "status"),
        UniqueConstraint("workspace_id", "trigger_ref", name="uq_reviews_workspace_trigger_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    workflow_version_id: Mapped[int] = mapped_column(ForeignKey("workflow_versions.id"))
    workflow_key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="open")
    current_stage: Mapped[str | None] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(SlackId)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(SlackId)
    started_by: Mapped[str] = mapped_column(SlackId)
    trigger: Mapped[str] = mapped_column(String(20), default="manual")
    # A stable id of what started it (e.g. "ticket:T-1234"): one review per trigger.
    trigger_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None]
    # Seed 000's "Improvement implementations confirmed": asked once every action item is done.
    improvements_asked_at: Mapped[datetime | None]
    improvements_confirmed_at: Mapped[datetime | None]
    improvements_confirmed_by: Mapped[str | None] = mapped_column(SlackId)

    workspace: Mapped[Workspace] = relationship()
    workflow_version: Mapped[WorkflowVersion] = relationship()
    action_items: Mapped[list[ActionItem]] = relationship(
        back_populates="review", order_by="ActionItem.id"
    )


class StageSubmission(Base):
    """The answers to one stage. Editing a stage adds a revision; history is never overwritten."""

    __tablename__ = "stage_submissions"
    __table_args__ = (
        UniqueConstraint(
            "review_id", "stage_key", "revision", name="uq_stage_submissions_review_stage_revision"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    stage_key: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    answers: Mapped[dict[str, Any]]
    submitted_by: Mapped[str] = mapped_column(SlackId)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("stage_submissions.id", ondelete="CASCADE")
    )
    decision_key: Mapped[str] = mapped_column(String(40))
    option: Mapped[str] = mapped_column(String(40))
    decided_by: Mapped[str] = mapped_column(SlackId)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUp(Base):
    """A record a decision created, e.g. an escalation for a systemic issue."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    # None for records made outside a stage (e.g. a consumer guarantees assessment).
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("stage_submissions.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(150))
    detail: Mapped[str] = mapped_column(Text, default="")
    # For compliance findings: the action item the finding suggests (prefilled in the form).
    suggested_action: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionItem(Base):
    __tablename__ = "action_items"
    __table_args__ = (
        Index("ix_action_items_owner_status", "owner_id", "status"),
        # The digest's "overdue", "due before the next meeting" and "done in the period": each
        # reads the items of some statuses in a date range, not every item ever recorded.
        Index("ix_action_items_status_due_date", "status", "due_date"),
        Index("ix_action_items_status_completed_at", "status", "completed_at"),
        CheckConstraint(
            "status IN ('open', 'in_progress', 'blocked', 'done', 'cancelled')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    # Where it was entered: the stage and its row, so editing the stage updates the same item.
    source_stage: Mapped[str | None] = mapped_column(String(40))
    position: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(150))
    owner_id: Mapped[str] = mapped_column(SlackId)
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default="open")
    action_point_needed: Mapped[bool | None]
    tracking_link: Mapped[str | None] = mapped_column(Text)
    status_note: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    # Reminders: who owns it since when, the owner's snooze, and when the next nudge falls due
    # (indexed, so a sweep reads only the items with something due).
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    snoozed_until: Mapped[datetime | None]
    next_nudge_at: Mapped[datetime | None] = mapped_column(index=True)
    # The owner's assignment DM, rewritten in place when the item changes.
    dm_channel: Mapped[str | None] = mapped_column(SlackId)
    dm_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    review: Mapped[Review] = relationship(back_populates="action_items")


class Draft(Base):
    """What a user typed into a stage modal and closed without submitting."""

    __tablename__ = "drafts"
    __table_args__ = (
        UniqueConstraint("review_id", "stage_key", "user_id", name="uq_drafts_review_stage_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    stage_key: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(SlackId)
    values: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """Who changed what, when: every change to a review goes through `storage.reviews.audit`."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    review_id: Mapped[int | None] = mapped_column(
        ForeignKey("reviews.id", ondelete="CASCADE"), index=True
    )
    actor: Mapped[str] = mapped_column(SlackId)
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)

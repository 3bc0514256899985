"""stage assignments and people notices

Revision ID: 0022_stage_assignments
Revises: 0021_tracker_settings
Create Date: 2026-11-30 14:30:00

A stage can be handed to a person (by the owner, an admin or the stage's YAML role); one-off
messages to the people on a review (lessons, stage-waiting nudges) are claimed once each.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_stage_assignments"
down_revision: str | None = "0021_tracker_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stage_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("stage_key", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("assigned_by", sa.String(length=32), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_stage_assignments_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_assignments")),
        sa.UniqueConstraint(
            "review_id", "stage_key", name="uq_stage_assignments_review_id_stage_key"
        ),
    )
    with op.batch_alter_table("stage_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stage_assignments_review_id"), ["review_id"], unique=False
        )
    op.create_table(
        "people_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("occurrence", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_people_notices_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people_notices")),
        sa.UniqueConstraint(
            "review_id",
            "user_id",
            "kind",
            "occurrence",
            name="uq_people_notices_review_id_user_id_kind_occurrence",
        ),
    )
    with op.batch_alter_table("people_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_people_notices_review_id"), ["review_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("people_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_notices_review_id"))
    op.drop_table("people_notices")
    with op.batch_alter_table("stage_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_assignments_review_id"))
    op.drop_table("stage_assignments")

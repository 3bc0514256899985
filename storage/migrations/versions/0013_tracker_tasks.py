"""tracker_tasks: action items mirrored in the team's tracker

Revision ID: 0013_tracker_tasks
Revises: 0012
Create Date: 2026-11-30 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_tracker_tasks"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracker_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("tracker", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["action_items.id"],
            name=op.f("fk_tracker_tasks_item_id_action_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_tasks")),
        sa.UniqueConstraint("item_id", name=op.f("uq_tracker_tasks_item_id")),
    )
    with op.batch_alter_table("tracker_tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tracker_tasks_tracker_external_id", ["tracker", "external_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tracker_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tracker_tasks_tracker_external_id")

    op.drop_table("tracker_tasks")

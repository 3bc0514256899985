"""tracker_references: tasks named in `tracker_task` answers, as their tracker describes them

Revision ID: 0021_tracker_settings
Revises: 0019_installations
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_tracker_settings"
down_revision: str | None = "0019_installations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracker_references",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("stage_key", sa.String(length=40), nullable=False),
        sa.Column("field_key", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tracker", sa.String(length=20), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=100), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_tracker_references_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_references")),
        sa.UniqueConstraint(
            "review_id", "stage_key", "field_key", name="uq_tracker_references_review_field"
        ),
    )


def downgrade() -> None:
    op.drop_table("tracker_references")

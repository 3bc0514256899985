"""review people: participants and stakeholders stored on the review

Revision ID: 0015_review_people
Revises: 0014_nudge_heartbeats
Create Date: 2026-11-30 14:20:00

Participants were a free-text field of a stage; the bot could not invite, survey or tell anyone.
Existing reviews start with nobody listed (their text answers stay in their stage submissions).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_review_people"
down_revision: str | None = "0014_nudge_heartbeats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("added_by", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('participant', 'stakeholder')", name=op.f("ck_review_people_role")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_review_people_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_people")),
        sa.UniqueConstraint("review_id", "user_id", name="uq_review_people_review_id_user_id"),
    )
    with op.batch_alter_table("review_people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_people_review_id"), ["review_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_people_review_id"))
    op.drop_table("review_people")

"""team sync: items a review's team adds before a stage opens, and one +1 per person per item

Revision ID: 0018_team_sync
Revises: 0017_surveys
Create Date: 2026-11-30 14:30:00

New tables only; existing reviews start with no items.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_team_sync"
down_revision: str | None = "0017_surveys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_sync_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("stage_key", sa.String(length=40), nullable=False),
        sa.Column("column", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_team_sync_items_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_sync_items")),
    )
    with op.batch_alter_table("team_sync_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_team_sync_items_review_id"), ["review_id"], unique=False
        )
    op.create_table(
        "team_sync_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["team_sync_items.id"],
            name=op.f("fk_team_sync_votes_item_id_team_sync_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_sync_votes")),
        sa.UniqueConstraint("item_id", "user_id", name="uq_team_sync_votes_item_id_user_id"),
    )
    with op.batch_alter_table("team_sync_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_sync_votes_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("team_sync_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_sync_votes_item_id"))
    op.drop_table("team_sync_votes")
    with op.batch_alter_table("team_sync_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_sync_items_review_id"))
    op.drop_table("team_sync_items")

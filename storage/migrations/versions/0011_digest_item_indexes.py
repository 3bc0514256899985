"""digest item indexes: action items by (status, due_date) and (status, completed_at)

Revision ID: 0011_digest_item_indexes
Revises: 0010
Create Date: 2026-12-02 09:00:00

The digest's overdue, due-soon and done-in-the-period sections each read open or done items in a
date range; without these indexes every digest scanned all action items ever recorded.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_digest_item_indexes"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_action_items_status_due_date", ["status", "due_date"], unique=False
        )
        batch_op.create_index(
            "ix_action_items_status_completed_at", ["status", "completed_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("action_items", schema=None) as batch_op:
        batch_op.drop_index("ix_action_items_status_completed_at")
        batch_op.drop_index("ix_action_items_status_due_date")

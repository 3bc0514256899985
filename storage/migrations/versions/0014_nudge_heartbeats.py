"""nudge heartbeats: a claimed reminder says when its sweep last was still working on it

Revision ID: 0014_nudge_heartbeats
Revises: 0013_tracker_tasks
Create Date: 2026-11-30 12:00:00

A claim used to count as abandoned ten minutes after it was made, so a sweep still sending after
ten minutes had its claims taken over by the next sweeper (extra Slack calls, a slower sweep). A
sweep now renews `heartbeat_at` while it works; claims from before this revision have none and are
taken over by the next sweep, which looks in the DM first, as for any interrupted claim.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_nudge_heartbeats"
down_revision: str | None = "0013_tracker_tasks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")

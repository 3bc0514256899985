"""Merge the feature branches (digests, knowledge base, tickets, reminders and compliance).

Revision ID: 0009
Revises: 0003, 0004, 0005, 0008
Create Date: 2026-11-23 09:22:31.039488
"""

from collections.abc import Sequence

revision: str = "0009"
down_revision: tuple[str, ...] = ("0003", "0004", "0005", "0008")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

"""recalls

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 09:39:36.901143
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_recalls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("identifiers", sa.Text(), nullable=False),
        sa.Column("hazard", sa.Text(), nullable=False),
        sa.Column("supplied", sa.Text(), nullable=False),
        sa.Column("consumer_action", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=False),
        sa.Column("action_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_safety_recalls_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_recalls")),
    )
    op.create_table(
        "safety_recall_deadlines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recall_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["recall_id"],
            ["safety_recalls.id"],
            name=op.f("fk_safety_recall_deadlines_recall_id_safety_recalls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_recall_deadlines")),
    )
    with op.batch_alter_table("safety_recall_deadlines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_safety_recall_deadlines_due_at"), ["due_at"], unique=False
        )

    with op.batch_alter_table("safety_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline_id", sa.Integer(), nullable=True))
        batch_op.alter_column("incident_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint(
            "uq_safety_alerts_deadline_id_kind", ["deadline_id", "kind"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_safety_alerts_deadline_id_safety_recall_deadlines"),
            "safety_recall_deadlines",
            ["deadline_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("safety_alerts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_safety_alerts_deadline_id_safety_recall_deadlines"), type_="foreignkey"
        )
        batch_op.drop_constraint("uq_safety_alerts_deadline_id_kind", type_="unique")
        batch_op.alter_column("incident_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("deadline_id")

    with op.batch_alter_table("safety_recall_deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safety_recall_deadlines_due_at"))

    op.drop_table("safety_recall_deadlines")
    op.drop_table("safety_recalls")

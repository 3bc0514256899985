"""product safety register

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 08:51:20.570542
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("batch_or_serials", sa.Text(), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=False),
        sa.Column("aware_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("aware_tz", sa.String(length=64), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("caused_or_may_have", sa.Boolean(), nullable=False),
        sa.Column("exemption", sa.String(length=30), nullable=True),
        sa.Column("actions_taken", sa.Text(), nullable=False),
        sa.Column("report_status", sa.String(length=20), nullable=False),
        sa.Column("report_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("accc_reference", sa.String(length=100), nullable=False),
        sa.Column("reported_by", sa.String(length=32), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_safety_incidents_review_id_reviews"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_safety_incidents_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_incidents")),
    )
    with op.batch_alter_table("safety_incidents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_safety_incidents_status_due", ["report_status", "report_due_at"], unique=False
        )

    op.create_table(
        "safety_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["safety_incidents.id"],
            name=op.f("fk_safety_alerts_incident_id_safety_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_alerts")),
        sa.UniqueConstraint("incident_id", "kind", name="uq_safety_alerts_incident_id_kind"),
    )


def downgrade() -> None:
    op.drop_table("safety_alerts")
    with op.batch_alter_table("safety_incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_safety_incidents_status_due")

    op.drop_table("safety_incidents")

"""feedback surveys: a stage's survey, its answers, and the DMs about it

Revision ID: 0017_surveys
Revises: 0015_review_people
Create Date: 2026-11-30 14:30:00

Answers are stored under a respondent key (an HMAC with the server's secret); an anonymous
answer keeps no user id. Each DM (asked, reminded) is a claim row, inserted once per person.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_surveys"
down_revision: str | None = "0015_review_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("stage_key", sa.String(length=40), nullable=False),
        sa.Column("sent_by", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_surveys_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("review_id", "stage_key", name="uq_surveys_review_id_stage_key"),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveys_closes_at"), ["closes_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_surveys_review_id"), ["review_id"], unique=False)
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("respondent_key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_responses_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint(
            "survey_id",
            "respondent_key",
            name="uq_survey_responses_survey_id_respondent_key",
        ),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_responses_survey_id"), ["survey_id"], unique=False
        )
    op.create_table(
        "survey_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('asked', 'reminded', 'closed')", name=op.f("ck_survey_deliveries_kind")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_deliveries_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_deliveries")),
        sa.UniqueConstraint(
            "survey_id",
            "user_id",
            "kind",
            name="uq_survey_deliveries_survey_id_user_id_kind",
        ),
    )
    with op.batch_alter_table("survey_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_deliveries_survey_id"), ["survey_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("survey_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_deliveries_survey_id"))
    op.drop_table("survey_deliveries")
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_responses_survey_id"))
    op.drop_table("survey_responses")
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveys_review_id"))
        batch_op.drop_index(batch_op.f("ix_surveys_closes_at"))
    op.drop_table("surveys")

"""knowledge base: lessons-learned entries and their full-text search

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-24 09:00:00

The search objects are raw SQL, per dialect: an FTS5 external-content table kept in sync by
triggers on SQLite; a generated tsvector column with a GIN index on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE knowledge_fts USING fts5(
        title, lessons, root_causes, recommendations, body,
        content='knowledge_entries', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER knowledge_entries_ai AFTER INSERT ON knowledge_entries BEGIN
        INSERT INTO knowledge_fts(rowid, title, lessons, root_causes, recommendations, body)
        VALUES (new.id, new.title, new.lessons, new.root_causes, new.recommendations, new.body);
    END""",
    """CREATE TRIGGER knowledge_entries_ad AFTER DELETE ON knowledge_entries BEGIN
        INSERT INTO knowledge_fts(knowledge_fts, rowid, title, lessons, root_causes, recommendations, body)
        VALUES ('delete', old.id, old.title, old.lessons, old.root_causes, old.recommendations,
                old.body);
    END""",
    """CREATE TRIGGER knowledge_entries_au AFTER UPDATE ON knowledge_entries BEGIN
        INSERT INTO knowledge_fts(knowledge_fts, rowid, title, lessons, root_causes, recommendations, body)
        VALUES ('delete', old.id, old.title, old.lessons, old.root_causes, old.recommendations,
                old.body);
        INSERT INTO knowledge_fts(rowid, title, lessons, root_causes, recommendations, body)
        VALUES (new.id, new.title, new.lessons, new.root_causes, new.recommendations, new.body);
    END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS knowledge_entries_au",
    "DROP TRIGGER IF EXISTS knowledge_entries_ad",
    "DROP TRIGGER IF EXISTS knowledge_entries_ai",
    "DROP TABLE IF EXISTS knowledge_fts",
]
POSTGRES_UP = [
    """ALTER TABLE knowledge_entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(lessons, '')), 'A')
        || setweight(to_tsvector('english', coalesce(root_causes, '') || ' '
                                 || coalesce(recommendations, '')), 'B')
        || setweight(to_tsvector('english', coalesce(body, '')), 'D')) STORED""",
    "CREATE INDEX ix_knowledge_entries_search ON knowledge_entries USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_knowledge_entries_search",
    "ALTER TABLE knowledge_entries DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    op.create_table(
        "knowledge_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("workflow_key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("lessons", sa.Text(), nullable=False),
        sa.Column("root_causes", sa.Text(), nullable=False),
        sa.Column("recommendations", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("tags_text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("product", sa.String(length=200), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("share_at_meeting", sa.Boolean(), nullable=False),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_md", sa.Text(), nullable=False),
        sa.Column("report_ts", sa.String(length=32), nullable=True),
        sa.Column("report_hash", sa.String(length=64), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_knowledge_entries_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_knowledge_entries_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_entries")),
        sa.UniqueConstraint("review_id", name=op.f("uq_knowledge_entries_review_id")),
    )
    with op.batch_alter_table("knowledge_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_knowledge_entries_workspace_created", ["workspace_id", "created_at"], unique=False
        )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == "sqlite" else POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
    with op.batch_alter_table("knowledge_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_knowledge_entries_workspace_created")

    op.drop_table("knowledge_entries")

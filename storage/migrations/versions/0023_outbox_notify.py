"""outbox: PostgreSQL tells listening workers when effects are added

Revision ID: 0023_outbox_notify
Revises: 0022_stage_assignments
Create Date: 2026-12-01 06:00:00

On PostgreSQL the outbox is delivered by processes other than the one that saved the change
(`serve`'s background process, `postmortem-bot worker`). A statement-level trigger sends a
NOTIFY on `storage.outbox.NOTIFY_CHANNEL` with every INSERT into the outbox; PostgreSQL
delivers it when the inserting transaction commits (never for one rolled back), so a listening
worker starts at once instead of at its next poll, and the saving request pays no round trip
for it. SQLite has one process and an in-process wake-up: nothing to do there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023_outbox_notify"
down_revision: str | None = "0022_stage_assignments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "postmortem_outbox"  # storage.outbox.NOTIFY_CHANNEL when this was written


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION postmortem_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION postmortem_outbox_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS postmortem_outbox_notify()")

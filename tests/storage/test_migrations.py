"""Models and migrations agree, on both databases; a model change without a migration fails."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, MetaData, String

from storage.db import current_revisions, head_revisions
from storage.schema import include_object, metadata


def _diff(engine: Engine, metadata: MetaData) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        return compare_metadata(context, metadata)


def test_migrations_match_the_models(engine: Engine) -> None:
    assert current_revisions(engine) == head_revisions(engine)
    assert _diff(engine, metadata) == []


def test_a_model_change_without_migration_is_detected(engine: Engine) -> None:
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["reviews"].append_column(Column("severity", String(10)))
    diff = _diff(engine, changed)
    assert [(d[0], d[3].name) for d in diff if d[0] == "add_column"] == [("add_column", "severity")]

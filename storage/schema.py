"""Every table of the app: importing this registers all model modules on `Base.metadata`.

Features keep their tables in their own modules (`storage/<feature>.py`); Alembic and the tests
read the metadata through here so none is forgotten.
"""

from __future__ import annotations

from storage import (
    assignments,
    digests,
    installations,
    knowledge,
    models,
    nudges,
    outbox,
    participants,
    safety,
    surveys,
    team_sync,
    tickets,
    trackers,
)
from storage.models import Base

MODEL_MODULES = [
    models,
    nudges,
    safety,
    digests,
    knowledge,
    tickets,
    outbox,
    trackers,
    participants,
    assignments,
    surveys,
    team_sync,
    installations,
]

metadata = Base.metadata


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate's filter: full-text search objects made by raw SQL are not compared."""
    return not (reflected and compare_to is None and knowledge.unmanaged(type_, name))

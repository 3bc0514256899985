"""Every table of the app: importing this registers all model modules on `Base.metadata`.

Features keep their tables in their own modules (`storage/<feature>.py`); Alembic and the tests
read the metadata through here so none is forgotten.
"""

from __future__ import annotations

from storage import models, nudges, safety
from storage.models import Base

MODEL_MODULES = [models, nudges, safety]

metadata = Base.metadata

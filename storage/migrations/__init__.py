"""Alembic migrations (feature branches merged by merge revisions; upgrade to heads)."""

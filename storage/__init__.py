"""Persistence: SQLAlchemy models, one query module per domain, Alembic migrations.

Knows nothing of Slack or of bot/; bot/ calls into it. SQLite (default) and PostgreSQL."""

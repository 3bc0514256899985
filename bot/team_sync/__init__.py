"""Async team sync: the team adds and +1s items before a stage opens (issue 14)."""

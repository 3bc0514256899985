"""Delivering the outbox: what changes promised to Slack, carried out with retries by workers."""

"""The Wednesday post-mortem meeting: its schedule and the digest posted before it."""

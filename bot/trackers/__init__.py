"""Action items mirrored in the team's tracker (ClickUp, Jira, Linear, GitHub Issues), both ways.

One adapter per tracker speaks that tracker's documented API; the service creates each task
exactly once through the outbox, closes it when the item is done in Slack, and applies what the
tracker reports (by signed webhook or by the reconcile) to the item.
"""

"""Support post-mortems: helpdesk webhooks, stale tickets, the In Review -> admin close loop."""

"""The pure domain: workflow definitions (YAML) and the rules that drive them.

No Slack, no SQL: the engine, calendars, meetings, nudge schedules, reports and the Australian
rules (workflows/au) are plain functions tested with hand-checked tables."""

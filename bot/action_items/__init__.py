"""Action items: assignment DMs, buttons, /postmortem actions and the reminder sweep."""

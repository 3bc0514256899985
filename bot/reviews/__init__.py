"""Reviews: the start and stage forms, the status message, and `/postmortem start|list|help`.

The core feature: others hear about a review's progress through ReviewHooks (bot/features.py)
and never the other way round."""

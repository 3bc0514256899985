"""Reviews: `/postmortem start|list|help`, the stage forms and the status message."""

from __future__ import annotations

from bot.features import Feature
from bot.reviews import commands, listeners, status

FEATURE = Feature(
    name="reviews",
    listeners=listeners.register,
    subcommands={
        "start": commands.start,
        "list": commands.list_reviews,
        "help": commands.show_help,
    },
    after_stage=(status.after_stage,),
    effects={
        "reviews.status": status.deliver_status,
        "reviews.escalate": status.deliver_escalation,
    },
)

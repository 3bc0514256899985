"""Action items: owners' DMs and buttons, `/postmortem actions`, and the reminder sweep."""

from __future__ import annotations

from bot.action_items import cli, listeners, nudges, service
from bot.features import Feature, Job

FEATURE = Feature(
    name="action_items",
    listeners=listeners.register,
    subcommands={"actions": listeners.my_actions},
    jobs=(Job("reminders", nudges.scheduled_sweep, 60),),
    commands=(cli.remind,),
    after_stage=(service.after_stage,),
    effects={
        "action_items.assigned": service.deliver_assignment,
        service.REDRAW_EFFECT: service.deliver_redraw,
        service.NOTICES_EFFECT: service.deliver_notices,
        service.BLOCKED_EFFECT: service.deliver_blocked,
        service.NUDGE_EFFECT: service.deliver_nudge,
        service.ALL_DONE_EFFECT: service.deliver_all_done,
        service.CONFIRMED_EFFECT: service.deliver_confirmed,
    },
)

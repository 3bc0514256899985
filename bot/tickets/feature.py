"""Support post-mortems: helpdesk tickets, the In Review loop and missing-feature requests."""

from __future__ import annotations

from bot.features import Feature, Job
from bot.tickets import cli, listeners, service, support

FEATURE = Feature(
    name="tickets",
    listeners=listeners.register,
    subcommands={"features": support.features},
    jobs=(
        Job("support_reminders", support.scheduled_reminders, 900),
        Job("stale_tickets", support.scheduled_stale, 3600),
    ),
    commands=(cli.tickets,),
    after_stage=(support.after_stage,),
    effects={
        "tickets.decision": support.deliver_decision,
        "tickets.admins_waiting": support.deliver_admins_waiting,
        "tickets.start_dm": service.deliver_start_dm,
        "tickets.stale_dm": service.deliver_stale_dm,
    },
)

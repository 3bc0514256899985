"""The product safety incident register (ACL s131, recalls s128)."""

from __future__ import annotations

from bot.features import Feature, Job
from bot.safety import cli, listeners, service

FEATURE = Feature(
    name="safety",
    listeners=listeners.register,
    subcommands={"safety": listeners.safety_command},
    jobs=(Job("safety", service.scheduled_alerts, 60),),
    commands=(cli.safety_group,),
    effects={service.MESSAGE_EFFECT: service.deliver_message},
)

"""The Wednesday post-mortem meeting's digest: schedule, preview, posting."""

from __future__ import annotations

from bot.digest import cli, listeners, service
from bot.features import Feature, Job

FEATURE = Feature(
    name="digest",
    listeners=listeners.register,
    subcommands={"digest": listeners.digest_command},
    jobs=(Job("digest", service.scheduled, 60),),
    commands=(cli.digest,),
)

"""The Wednesday post-mortem meeting's digest: schedule, preview, posting."""

from __future__ import annotations

from bot.config import Settings
from bot.digest import cli, listeners, service
from bot.features import Feature, Job


def check_settings(settings: Settings) -> None:
    service.check_env(settings.timezone)


FEATURE = Feature(
    name="digest",
    listeners=listeners.register,
    subcommands={"digest": listeners.digest_command},
    jobs=(Job("digest", service.scheduled, 60),),
    commands=(cli.digest,),
    checks=(check_settings,),
)

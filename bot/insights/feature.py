"""Insights: `/postmortem insights`, App Home's figures, the digest's chart, and the CLI."""

from __future__ import annotations

from bot.features import Feature
from bot.insights import cli, listeners

FEATURE = Feature(
    name="insights",
    listeners=listeners.register,
    subcommands={"insights": listeners.insights},
    commands=(cli.insights_command,),
)

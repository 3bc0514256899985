"""Lessons learned: reports, the knowledge base, `/postmortem search` and exports."""

from __future__ import annotations

from bot.features import Feature
from bot.knowledge import cli, listeners, service

FEATURE = Feature(
    name="knowledge",
    listeners=listeners.register,
    subcommands={"search": listeners.search},
    commands=(cli.export_command,),
    after_start=(service.after_start,),
    after_stage=(service.after_stage,),
    effects={
        "knowledge.report": service.deliver_report,
        "knowledge.similar": service.deliver_similar,
    },
)

"""Feedback surveys: sent from the status message (or when their stage opens), answered from a
DM, reminded once, compiled into the stage's form."""

from __future__ import annotations

from bot.features import Feature, Job
from bot.surveys import cli, listeners, service

FEATURE = Feature(
    name="surveys",
    listeners=listeners.register,
    jobs=(Job("survey_reminders", service.scheduled_sweep, 300),),
    commands=(cli.surveys,),
    after_start=(service.after_start,),
    after_stage=(service.after_stage,),
    people_added=(service.people_added,),
    effects={
        service.OPEN: service.deliver_open,
        service.ASK: service.deliver_ask,
        service.REMIND: service.deliver_remind,
    },
)

"""People: participants and stakeholders, stages handed to a person, the lessons told to all."""

from __future__ import annotations

from bot.features import Feature, Job
from bot.people import cli, listeners, service

FEATURE = Feature(
    name="people",
    listeners=listeners.register,
    jobs=(Job("stage_nudges", service.scheduled_sweep, 300),),
    commands=(cli.stage_nudges,),
    after_stage=(service.after_stage,),
    effects={
        service.INVITATION: service.deliver_invitation,
        service.STAGE_SAVED: service.deliver_stage_saved,
        service.ASSIGNED: service.deliver_assigned,
        service.LESSON: service.deliver_lesson,
        service.NUDGE: service.deliver_nudge,
    },
    hooked_effects={service.INVITE: service.deliver_invite},
)

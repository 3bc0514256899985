"""Async team sync: items added from the status message or a DM, +1s in the thread, and the
invitations sent when the stage before an async stage is saved."""

from __future__ import annotations

from bot.features import Feature
from bot.team_sync import listeners, service

FEATURE = Feature(
    name="team_sync",
    listeners=listeners.register,
    after_start=(service.after_start,),
    after_stage=(service.after_stage,),
    people_added=(service.people_added,),
    effects={
        service.POST: service.deliver_post,
        service.REFRESH: service.deliver_refresh,
        service.INVITE_ALL: service.deliver_invite_all,
        service.INVITE: service.deliver_invite,
    },
)

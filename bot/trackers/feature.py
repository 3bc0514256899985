"""Action items as tasks in the team's tracker: outbox effects, the reconcile job, the CLI,
`/postmortem tracker` (the admins' settings) and "Create task"."""

from __future__ import annotations

from bot.features import Feature, Job
from bot.trackers import cli, listeners, references, service

FEATURE = Feature(
    name="trackers",
    listeners=listeners.register,
    subcommands={"tracker": listeners.tracker_command},
    jobs=(Job("trackers_reconcile", service.scheduled_sync, 300),),
    commands=(cli.trackers,),
    after_stage=(references.after_stage,),
    effects={
        service.CREATE: service.deliver_create,
        service.CLOSE: service.deliver_close,
        service.REWRITE: service.deliver_rewrite,
        service.ASSIGN: service.deliver_assign,
        service.UNASSIGNED: service.deliver_unassigned,
        service.CANCELLED: service.deliver_cancelled,
        references.KIND: references.deliver,
    },
)

"""Australian Consumer Law: the consumer guarantees assessment and `/postmortem warranty`."""

from __future__ import annotations

from bot.consumer_law import listeners, service
from bot.features import Feature

FEATURE = Feature(
    name="consumer_law",
    listeners=listeners.register,
    subcommands={"warranty": listeners.warranty},
    effects={service.RESULT_EFFECT: service.deliver_result},
)

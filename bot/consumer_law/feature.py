"""Australian Consumer Law: the consumer guarantees assessment and `/postmortem warranty`."""

from __future__ import annotations

from bot.consumer_law import listeners
from bot.features import Feature

FEATURE = Feature(
    name="consumer_law", listeners=listeners.register, subcommands={"warranty": listeners.warranty}
)

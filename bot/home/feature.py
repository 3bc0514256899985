"""The App Home tab: what is waiting on you, your reviews and your action items."""

from __future__ import annotations

from bot.features import Feature
from bot.home import listeners

FEATURE = Feature(
    name="home",
    listeners=listeners.register,
    effects={listeners.PUBLISH_EFFECT: listeners.deliver_publish},
)

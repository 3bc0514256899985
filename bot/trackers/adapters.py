"""The adapter for the configured tracker."""

from __future__ import annotations

from bot.config import TrackerSettings
from bot.trackers.base import Tracker
from bot.trackers.clickup import ClickUp
from bot.trackers.github import GitHub
from bot.trackers.http import Transport
from bot.trackers.jira import Jira
from bot.trackers.linear import Linear

ADAPTERS: dict[str, type[ClickUp] | type[Jira] | type[Linear] | type[GitHub]] = {
    "clickup": ClickUp,
    "jira": Jira,
    "linear": Linear,
    "github": GitHub,
}


def make(settings: TrackerSettings, timezone: str, transport: Transport | None = None) -> Tracker:
    return ADAPTERS[settings.name](settings, timezone, transport)

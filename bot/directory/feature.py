"""Slack's `user_change` events keep the cached people (timezones, admin rights) current."""

from __future__ import annotations

from bot.directory import listeners
from bot.features import Feature

FEATURE = Feature(name="directory", listeners=listeners.register)

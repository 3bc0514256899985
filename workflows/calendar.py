"""Australian working-day arithmetic shared by reminders, meetings and product-safety deadlines.

Public holidays come from the `holidays` package (national plus the configured state's), so a
nudge, a digest and an ACCC deadline all agree on what a business day is.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

AU_STATES = ("ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA")


@lru_cache(maxsize=len(AU_STATES))
def _holidays_for(state: str) -> holidays.HolidayBase:
    if state not in AU_STATES:
        raise ValueError(f"unknown Australian state {state!r}: use one of {', '.join(AU_STATES)}")
    return holidays.country_holidays("AU", subdiv=state)


def holiday_name(day: date, state: str = "NSW") -> str | None:
    """The public holiday on `day` in `state`, or None."""
    return _holidays_for(state).get(day)


def is_working_day(day: date, state: str = "NSW") -> bool:
    """Monday to Friday and not a public holiday in `state`."""
    return day.weekday() < 5 and holiday_name(day, state) is None


def next_working_day(day: date, state: str = "NSW") -> date:
    """`day` itself when it is a working day, otherwise the first working day after it."""
    while not is_working_day(day, state):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int, state: str = "NSW") -> date:
    """Move `count` working days forward (back when negative), skipping weekends and holidays."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day, state):
            remaining -= 1
    return day


def working_days_between(start: date, end: date, state: str = "NSW") -> int:
    """Working days after `start` up to and including `end` (negative when `end` is earlier)."""
    if end < start:
        return -working_days_between(end, start, state)
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if is_working_day(start + timedelta(days=offset), state)
    )

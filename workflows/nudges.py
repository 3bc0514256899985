"""When an action item's owner is nudged: a pure calendar of reminders, in the owner's timezone.

Rules (defaults are workspace settings, carried by NudgePolicy):
- due soon: N working days before the due date, at the working hour;
- due today: the morning of the due date, when it is a working day (a due date on a weekend or
  holiday gets no "due today"; its first overdue nudge comes on the next working day);
- overdue: the first working day after the due date, then every M working days;
- escalation: once, K working days after the due date, to the review's owner;
- snooze: owner nudges before `snoozed_until` are dropped and one "snoozed" nudge is added at
  that time; escalation is not snoozed (the owner cannot silence their manager);
- reassignment: the new owner is not sent what fell due before they were assigned.
Working days are Monday to Friday without the configured state's public holidays.
Each nudge has a stable identity (item, kind, occurrence), the key that makes delivery
exactly-once in storage.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.calendar import (
    add_working_days,
    is_working_day,
    next_working_day,
    working_days_between,
)

Kind = Literal["due_soon", "due_today", "overdue", "snoozed", "escalation"]
CLOSED = ("done", "cancelled")
HORIZON = timedelta(days=400)


@dataclass(frozen=True)
class NudgePolicy:
    due_soon_days: int = 2
    overdue_every_days: int = 2
    escalate_after_days: int = 3
    hour: int = 9
    state: str = "NSW"
    default_tz: str = "Australia/Sydney"


@dataclass(frozen=True)
class ItemSchedule:
    item_id: int
    due_date: date
    status: str
    owner_tz: str | None
    assigned_at: datetime
    snoozed_until: datetime | None = None


@dataclass(frozen=True)
class PlannedNudge:
    item_id: int
    kind: Kind
    occurrence: str
    at: datetime  # aware, UTC

    @property
    def identity(self) -> tuple[int, str, str]:
        return (self.item_id, self.kind, self.occurrence)


def owner_zone(item: ItemSchedule, policy: NudgePolicy) -> ZoneInfo:
    try:
        return ZoneInfo(item.owner_tz) if item.owner_tz else ZoneInfo(policy.default_tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(policy.default_tz)


def _at(day: date, policy: NudgePolicy, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(policy.hour), tzinfo=zone).astimezone(UTC)


def _owner_days(item: ItemSchedule, policy: NudgePolicy, from_day: date
                ) -> Iterator[tuple[Kind, date]]:
    """Owner nudges on local days, in order, starting near `from_day` (the series is endless)."""
    due, state = item.due_date, policy.state
    if policy.due_soon_days > 0:
        yield "due_soon", add_working_days(due, -policy.due_soon_days, state)
    if is_working_day(due, state):
        yield "due_today", due
    first = add_working_days(due, 1, state)
    step = max(1, policy.overdue_every_days)
    # Skip ahead to the part of the series that can fall in the range asked for.
    k = max(0, working_days_between(first, from_day, state) // step - 1) if from_day > first else 0
    while True:
        yield "overdue", add_working_days(first, k * step, state)
        k += 1


def planned_nudges(item: ItemSchedule, policy: NudgePolicy, start: datetime,
                   end: datetime) -> list[PlannedNudge]:
    """Every nudge with start <= at < end, in time order."""
    if item.status in CLOSED:
        return []
    zone = owner_zone(item, policy)
    out: list[PlannedNudge] = []
    start_day = start.astimezone(zone).date() - timedelta(days=1)
    for kind, day in _owner_days(item, policy, start_day):
        at = _at(day, policy, zone)
        if at >= end:
            break
        snoozed = item.snoozed_until is not None and at < item.snoozed_until
        if start <= at and at >= item.assigned_at and not snoozed:
            out.append(PlannedNudge(item.item_id, kind, day.isoformat(), at))
    if item.snoozed_until is not None and start <= item.snoozed_until < end \
            and item.snoozed_until >= item.assigned_at:
        stamp = item.snoozed_until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
        out.append(PlannedNudge(item.item_id, "snoozed", stamp, item.snoozed_until))
    if policy.escalate_after_days > 0:
        day = add_working_days(item.due_date, policy.escalate_after_days, policy.state)
        at = _at(day, policy, zone)
        if start <= at < end:
            out.append(PlannedNudge(item.item_id, "escalation", "once", at))
    return sorted(out, key=lambda n: (n.at, n.kind))


def next_nudge_at(item: ItemSchedule, policy: NudgePolicy, after: datetime) -> datetime | None:
    """The first nudge strictly after `after`: stored (indexed) so a sweep reads only due items."""
    if item.status in CLOSED:
        return None
    window = timedelta(days=31)
    start = after + timedelta(microseconds=1)
    while start - after < HORIZON:
        found = planned_nudges(item, policy, start, start + window)
        if found:
            return found[0].at
        start += window
    return None


def classify(nudge: PlannedNudge, now: datetime, catch_up: timedelta = timedelta(hours=24)
             ) -> Literal["send", "missed", "future"]:
    """A nudge more than `catch_up` late is recorded as missed, not sent late in a burst."""
    if nudge.at > now:
        return "future"
    return "missed" if now - nudge.at > catch_up else "send"


def snooze_until(choice: str | date, now: datetime, tz: str, policy: NudgePolicy) -> datetime:
    """1 working day, 1 week, or a chosen date: at the working hour of a working day."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    if choice == "1_working_day":
        day = add_working_days(today, 1, policy.state)
    elif choice == "1_week":
        day = next_working_day(today + timedelta(days=7), policy.state)
    elif isinstance(choice, date):
        day = next_working_day(choice, policy.state)
    else:
        raise ValueError(f"unknown snooze choice {choice!r}")
    return _at(day, policy, zone)

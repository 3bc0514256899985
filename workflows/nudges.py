"""When an action item's owner is nudged: a pure calendar of reminders in the owner's timezone.

Pure domain (no Slack, no SQL, no clock): the sweep asks what is planned in a time range and
when the next nudge falls due, and stores the latter in an indexed column, so its work grows
with the nudges due, not with the items stored.

Rules (the numbers are workspace settings, carried by `NudgePolicy`). Every owner nudge is at
`policy.hour` local time in the owner's timezone, on a working day (Monday to Friday, not a
public holiday of `policy.state`, as `workflows.calendar` says):

- due_soon: `due_soon_days` working days before the due date, counted back from the due date
  even when it is not a working day (due Saturday, 2 days -> Thursday). 0 turns it off.
- due_today: on the due date itself, only when it is a working day.
- A due date on a weekend or holiday gets no due_today: the item is due while nobody works,
  so the next working day is its first overdue nudge. (The last working day before it is
  due_soon when `due_soon_days` is 1.)
- overdue: on the first working day after the due date, then every `overdue_every_days`
  working days, until the item is done or cancelled (the series never ends on its own).
- escalation: once, `escalate_after_days` working days after the due date (0 turns it off), to
  the review's owner, at the working hour of the item owner's calendar (the item is late on
  the owner's clock). Its occurrence is its date, so moving the due date re-arms it.
- snooze: owner nudges strictly before `snoozed_until` are dropped and one "snoozed" nudge is
  added at that moment; the due date does not move. A regular nudge at exactly that moment is
  kept. Escalation is never snoozed: the owner cannot silence the review's owner.
- assignment: the schedule is per (item, owner). Nothing scheduled before `assigned_at` is
  produced, so a new owner is not sent what fell due before they had the item, and a due_soon
  that would fall before the item was created (a due date too close) is skipped.
- done or cancelled: nothing at all.

Identity: (item_id, kind, occurrence) is the key of a unique constraint, giving exactly-once
delivery. For every kind except "snoozed" the occurrence is the ISO local date of the nudge,
which depends only on the due date and the state's calendar, not on the owner's timezone, so
it is stable across calls, reassignment and timezone changes. For "snoozed" it is the snooze
moment in UTC to the minute.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import takewhile
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.calendar import add_working_days, is_working_day, next_working_day

Kind = Literal["due_soon", "due_today", "overdue", "snoozed", "escalation"]
Verdict = Literal["send", "missed", "future"]
SnoozeChoice = Literal["1_working_day", "1_week"]
CLOSED = frozenset({"done", "cancelled"})
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class NudgePolicy:
    """Workspace reminder settings; defaults are the product's defaults."""

    due_soon_days: int = 2
    overdue_every_days: int = 2
    escalate_after_days: int = 3
    hour: int = 9
    state: str = "NSW"
    default_tz: str = "Australia/Sydney"


@dataclass(frozen=True)
class ItemSchedule:
    """What the calendar needs of an action item and its current owner (one per owner)."""

    item_id: int
    due_date: date
    status: str
    owner_tz: str | None
    assigned_at: datetime  # aware: when the current owner got the item
    snoozed_until: datetime | None = None  # aware


@dataclass(frozen=True)
class PlannedNudge:
    """One nudge; `identity` is unique per item, so storing it first makes delivery once only."""

    item_id: int
    kind: Kind
    occurrence: str
    at: datetime  # aware, UTC

    @property
    def identity(self) -> tuple[int, str, str]:
        return (self.item_id, self.kind, self.occurrence)


# --- time zones ---------------------------------------------------------------------------


def zone_or_default(tz: str | None, policy: NudgePolicy) -> ZoneInfo:
    """`tz`, or the workspace's default when Slack gave none or one zoneinfo does not know."""
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            pass
    return ZoneInfo(policy.default_tz)


def owner_zone(item: ItemSchedule, policy: NudgePolicy) -> ZoneInfo:
    return zone_or_default(item.owner_tz, policy)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {value!r}")


def _at(day: date, policy: NudgePolicy, zone: ZoneInfo) -> datetime:
    """The working hour on `day` in `zone`, in UTC (so 09:00 stays 09:00 across DST)."""
    return datetime.combine(day, time(policy.hour), tzinfo=zone).astimezone(UTC)


# --- fast working-day counting (so long-overdue items cost O(1), not O(age)) ---------------


@lru_cache(maxsize=64)
def _weekday_holidays(year: int, state: str) -> tuple[date, ...]:
    """The year's public holidays that fall on a weekday, sorted; built from calendar.py so the
    two always agree."""
    day, out = date(year, 1, 1), []
    while day.year == year:
        if day.weekday() < 5 and not is_working_day(day, state):
            out.append(day)
        day += ONE_DAY
    return tuple(out)


def _weekdays_through(day: date) -> int:
    """Mondays to Fridays from 1 Jan 0001 (a Monday) through `day`."""
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def _working_days_after(start: date, end: date, state: str) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start): the same as
    calendar.working_days_between, without walking every day."""
    if end <= start:
        return 0
    count = _weekdays_through(end) - _weekdays_through(start)
    for year in range(start.year, end.year + 1):
        days = _weekday_holidays(year, state)
        count -= bisect_right(days, end) - bisect_right(days, start)
    return count


def _last_working_day_through(day: date, state: str) -> date:
    while not is_working_day(day, state):
        day -= ONE_DAY
    return day


# --- the plan ------------------------------------------------------------------------------


def _overdue_days(due: date, policy: NudgePolicy, from_day: date) -> Iterator[date]:
    """The overdue series from its last element on or before `from_day` (or its start)."""
    state, step = policy.state, max(1, policy.overdue_every_days)
    first = add_working_days(due, 1, state)
    day = first
    if from_day > first:
        # Elements are the working days d with W(d) = k * step, W counting from `first`.
        lands = _last_working_day_through(from_day, state)
        behind = _working_days_after(first, lands, state) % step
        day = add_working_days(lands, -behind, state)
    while True:
        yield day
        day = add_working_days(day, step, state)


def _owner_nudges(
    item: ItemSchedule, policy: NudgePolicy, zone: ZoneInfo, floor: datetime
) -> Iterator[PlannedNudge]:
    """Owner nudges at or after `floor`, in time order (endless: the overdue series)."""
    due, state = item.due_date, policy.state

    def nudges() -> Iterator[tuple[Kind, date]]:
        if policy.due_soon_days > 0:
            yield "due_soon", add_working_days(due, -policy.due_soon_days, state)
        if is_working_day(due, state):
            yield "due_today", due
        from_day = floor.astimezone(zone).date() - ONE_DAY
        for day in _overdue_days(due, policy, from_day):
            yield "overdue", day

    for kind, day in nudges():
        at = _at(day, policy, zone)
        if at >= floor:
            yield PlannedNudge(item.item_id, kind, day.isoformat(), at)


def _one_off_nudges(
    item: ItemSchedule, policy: NudgePolicy, zone: ZoneInfo, floor: datetime
) -> list[PlannedNudge]:
    """The snoozed nudge and the escalation, when they fall at or after `floor`."""
    out = []
    until = item.snoozed_until
    if until is not None and until >= floor:
        stamp = until.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        out.append(PlannedNudge(item.item_id, "snoozed", stamp, until.astimezone(UTC)))
    if policy.escalate_after_days > 0:
        day = add_working_days(item.due_date, policy.escalate_after_days, policy.state)
        at = _at(day, policy, zone)
        if at >= floor:
            out.append(PlannedNudge(item.item_id, "escalation", day.isoformat(), at))
    return sorted(out, key=_order)


def _order(nudge: PlannedNudge) -> tuple[datetime, str]:
    return (nudge.at, nudge.kind)


def _nudges_from(
    item: ItemSchedule, policy: NudgePolicy, start: datetime
) -> Iterator[PlannedNudge]:
    """Every nudge at or after `start`, in time order; lazy, because the overdue series is
    endless. planned_nudges and next_nudge_at both read this, so they cannot disagree."""
    _require_aware(start, "start")
    _require_aware(item.assigned_at, "assigned_at")
    if item.snoozed_until is not None:
        _require_aware(item.snoozed_until, "snoozed_until")
    if item.status in CLOSED:
        return iter(())
    zone = owner_zone(item, policy)
    floor = max(start, item.assigned_at)
    owner_floor = floor if item.snoozed_until is None else max(floor, item.snoozed_until)
    return heapq.merge(
        _owner_nudges(item, policy, zone, owner_floor),
        _one_off_nudges(item, policy, zone, floor),
        key=_order,
    )


def planned_nudges(
    item: ItemSchedule, policy: NudgePolicy, start: datetime, end: datetime
) -> list[PlannedNudge]:
    """Every nudge with start <= at < end, in time order (ties by kind). Costs the nudges in
    the range, however long the item has been overdue."""
    _require_aware(end, "end")
    return list(takewhile(lambda n: n.at < end, _nudges_from(item, policy, start)))


def next_nudge_at(item: ItemSchedule, policy: NudgePolicy, after: datetime) -> datetime | None:
    """The first nudge strictly after `after`, or None when there will be none (closed item).
    The sweep stores it in an indexed column and only looks at items whose time has come."""
    _require_aware(after, "after")
    following = next(_nudges_from(item, policy, after + timedelta(microseconds=1)), None)
    return following.at if following else None


def classify(
    nudge: PlannedNudge, now: datetime, catch_up: timedelta = timedelta(hours=24)
) -> Verdict:
    """ "future" until it is due; "send" up to `catch_up` late (inclusive); after that "missed",
    recorded rather than sent, so a bot that was down does not DM a burst of stale reminders."""
    _require_aware(now, "now")
    if nudge.at > now:
        return "future"
    return "missed" if now - nudge.at > catch_up else "send"


def snooze_until(
    choice: SnoozeChoice | date, now: datetime, tz: str | None, policy: NudgePolicy
) -> datetime:
    """When a snooze ends (UTC): "1_working_day" is the next working day after today,
    "1_week" is today + 7 days, a date is that date; each at the working hour in `tz`, moved to
    the next working day when it is not one. A chosen date whose working hour has already
    passed (today, after 09:00) moves to the next working day, so a snooze never ends in the
    past."""
    _require_aware(now, "now")
    zone = zone_or_default(tz, policy)
    today = now.astimezone(zone).date()
    state = policy.state
    if isinstance(choice, datetime):
        raise TypeError("snooze to a date, not a datetime")
    if isinstance(choice, date):
        day = next_working_day(choice, state)
        if _at(day, policy, zone) <= now:
            day = next_working_day(max(day, today) + ONE_DAY, state)
    elif choice == "1_working_day":
        day = add_working_days(today, 1, state)
    elif choice == "1_week":
        day = next_working_day(today + timedelta(days=7), state)
    else:
        raise ValueError(f"unknown snooze choice {choice!r}")
    return _at(day, policy, zone)

"""The recurring post-mortem meeting: Wednesdays every N weeks, and when its digest is posted.

Seed 001: "Every few weeks dedicated PostMortem meetings will be organized on Wednesday unless
there is a dedicated meeting already booked." A meeting keeps its identity (its original date)
when an admin skips or moves it, so the digest's exactly-once key never changes under it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.calendar import holiday_name

WEDNESDAY = 2
BOOKED = "A dedicated meeting is already booked"


@dataclass(frozen=True)
class MeetingSchedule:
    first_meeting: date
    every_weeks: int = 2
    time: time = time(10, 0)
    tz: str = "Australia/Sydney"
    post_before: timedelta = timedelta(hours=1)
    state: str = "NSW"
    skip_holidays: bool = True
    skips: Mapping[date, str] = field(default_factory=dict)
    moves: Mapping[date, date] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.first_meeting.weekday() != WEDNESDAY:
            raise ValueError(f"the first meeting must be a Wednesday, not "
                             f"{self.first_meeting:%A %-d %B %Y}")
        if not 1 <= self.every_weeks <= 4:
            raise ValueError("meetings happen every 1, 2, 3 or 4 weeks")
        ZoneInfo(self.tz)


@dataclass(frozen=True)
class Meeting:
    original_date: date
    date: date
    starts_at: datetime
    post_at: datetime
    skipped: bool
    reason: str | None
    moved: bool

    @property
    def key(self) -> str:
        """Stable identity for the (meeting, channel) unique key of a digest."""
        return self.original_date.isoformat()


def first_wednesday_on_or_after(day: date) -> date:
    return day + timedelta(days=(WEDNESDAY - day.weekday()) % 7)


def parse_every_weeks(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 4:
        raise ValueError(f"{text!r}: meetings happen every 1, 2, 3 or 4 weeks")
    return int(text)


def parse_meeting_time(text: str) -> time:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{text!r}: use a 24-hour time such as 10:00")
    return time(int(match[1]), int(match[2]))


def _meeting(schedule: MeetingSchedule, original: date) -> Meeting:
    zone = ZoneInfo(schedule.tz)
    moved_to = schedule.moves.get(original)
    day = moved_to or original
    reason = schedule.skips.get(original)
    if reason is None and moved_to is None and schedule.skip_holidays:
        holiday = holiday_name(original, schedule.state)
        if holiday:
            reason = f"Public holiday: {holiday}"
    starts = datetime.combine(day, schedule.time, tzinfo=zone)
    return Meeting(original, day, starts, starts - schedule.post_before, reason is not None,
                   reason, moved_to is not None)


def _originals(schedule: MeetingSchedule, start: date, end: date) -> list[date]:
    step = schedule.every_weeks * 7
    offset = max(0, (start - schedule.first_meeting).days // step)
    day = schedule.first_meeting + timedelta(days=offset * step)
    out = []
    while day <= end:
        if day >= start:
            out.append(day)
        day += timedelta(days=step)
    return out


def meetings_between(schedule: MeetingSchedule, start: datetime, end: datetime) -> list[Meeting]:
    """Meetings (skipped ones marked) that start in [start, end), in time order."""
    # Moves can shift a meeting by days: look a little wider, then filter on the real start.
    originals = _originals(schedule, start.date() - timedelta(days=31),
                           end.date() + timedelta(days=31))
    found = [m for m in (_meeting(schedule, d) for d in originals) if start <= m.starts_at < end]
    return sorted(found, key=lambda m: m.starts_at)


def upcoming(schedule: MeetingSchedule, now: datetime, count: int = 5) -> list[Meeting]:
    out: list[Meeting] = []
    start = now + timedelta(microseconds=1)
    while len(out) < count:
        out += meetings_between(schedule, start, start + timedelta(days=120))
        start += timedelta(days=120)
    return out[:count]


def next_meeting(schedule: MeetingSchedule, now: datetime) -> Meeting | None:
    for meeting in upcoming(schedule, now, 30):
        if not meeting.skipped:
            return meeting
    return None


def due_to_post(schedule: MeetingSchedule, now: datetime,
                last_posted_key: str | None = None) -> Meeting | None:
    """The meeting whose digest belongs in the channel now (posting time passed, not begun)."""
    for meeting in meetings_between(schedule, now - timedelta(days=1),
                                    now + schedule.post_before + timedelta(days=1)):
        if (not meeting.skipped and meeting.post_at <= now < meeting.starts_at
                and meeting.key != last_posted_key):
            return meeting
    return None


def missed_since(schedule: MeetingSchedule, since: datetime, now: datetime) -> list[Meeting]:
    """Meetings that began in (since, now] without their digest: to be recorded as missed."""
    return [m for m in meetings_between(schedule, since, now + timedelta(microseconds=1))
            if not m.skipped and m.starts_at <= now]


def previous_meeting(schedule: MeetingSchedule, meeting: Meeting) -> Meeting | None:
    earlier = meetings_between(schedule, meeting.starts_at - timedelta(weeks=20),
                               meeting.starts_at)
    held = [m for m in earlier if not m.skipped]
    return held[-1] if held else None


def format_schedule(meetings: list[Meeting]) -> list[str]:
    lines = []
    for m in meetings:
        when = f"{m.starts_at:%a %-d %b %Y}"
        if m.skipped:
            lines.append(f"{when} — skipped ({m.reason})")
            continue
        moved = f" (moved from {m.original_date:%a %-d %b})" if m.moved else ""
        lines.append(f"{when} {m.starts_at:%H:%M %Z}{moved} — digest at "
                     f"{m.post_at:%a %H:%M %Z}")
    return lines

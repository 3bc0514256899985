"""The recurring post-mortem meeting: Wednesdays every N weeks, and when its digest is posted.

Seed 001: "Every few weeks dedicated PostMortem meetings will be organized on Wednesday unless
there is a dedicated meeting already booked." A meeting keeps its identity (its original date)
when an admin skips or moves it, so the digest's exactly-once key never changes under it.

Pure domain code: no Slack, no SQL, no clock. Every function takes the current time as an
aware datetime, so a scheduler tick, a start-up catch-up and a test all see the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.calendar import AU_STATES, holiday_name

WEDNESDAY = 2
BOOKED = "A dedicated meeting is already booked"
EVERY_WEEKS_CHOICES = (1, 2, 3, 4)
MAX_POST_BEFORE = timedelta(weeks=1)

_EVERY_WEEKS_HELP = "meetings happen every 1, 2, 3 or 4 weeks"
_TIME_HELP = "use a 24-hour time such as 10:00"


@dataclass(frozen=True)
class MeetingSchedule:
    """The cadence plus the admin's exceptions; everything else is derived from it.

    `skips` and `moves` are keyed by the meeting's original (cadence) date, which is its
    identity. Entries that are not on the cadence are ignored rather than fatal, so changing
    `every_weeks` never stops the bot from starting; `stray_overrides` lists them for a warning.
    """

    first_meeting: date
    every_weeks: int = 2
    time: time = time(10, 0)
    tz: str = "Australia/Sydney"
    post_before: timedelta = timedelta(hours=1)
    state: str = "NSW"
    skip_holidays: bool = True
    # hash=False: the mappings are read-only copies, compared but not hashed.
    skips: Mapping[date, str] = field(default_factory=dict, hash=False)
    moves: Mapping[date, date] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.first_meeting.weekday() != WEDNESDAY:
            raise ValueError(
                f"the first meeting must be a Wednesday, not {_long_date(self.first_meeting)}"
            )
        if isinstance(self.every_weeks, bool) or self.every_weeks not in EVERY_WEEKS_CHOICES:
            raise ValueError(f"{self.every_weeks!r}: {_EVERY_WEEKS_HELP}")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {self.tz!r}: use one such as Australia/Sydney"
            ) from exc
        if not timedelta(0) < self.post_before <= MAX_POST_BEFORE:
            raise ValueError(
                "the digest must be posted between a moment and a week before the meeting"
            )
        if self.state not in AU_STATES:
            raise ValueError(
                f"unknown Australian state {self.state!r}: use one of {', '.join(AU_STATES)}"
            )
        # Freeze private copies: a caller mutating its dict must not change a frozen schedule.
        object.__setattr__(self, "skips", MappingProxyType(dict(self.skips)))
        object.__setattr__(self, "moves", MappingProxyType(dict(self.moves)))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def is_on_cadence(self, day: date) -> bool:
        """Whether `day` is one of the Wednesdays this schedule produces."""
        days = (day - self.first_meeting).days
        return days >= 0 and days % (7 * self.every_weeks) == 0

    def stray_overrides(self) -> list[date]:
        """Skip/move keys matching no meeting (e.g. after a cadence change): worth a warning."""
        return sorted({d for d in (*self.skips, *self.moves) if not self.is_on_cadence(d)})

    @property
    def _reach(self) -> timedelta:
        """How far a move can shift a meeting from its original date; widens every search."""
        return max((abs(new - old) for old, new in self.moves.items()), default=timedelta(0))


@dataclass(frozen=True)
class Meeting:
    """One occurrence; skipped ones are kept so the schedule can say why there is no meeting."""

    original_date: date
    date: date
    starts_at: datetime
    post_at: datetime
    skipped: bool
    reason: str | None
    moved: bool

    @property
    def key(self) -> str:
        """Stable identity for the (meeting, channel) unique key of a digest: survives moves."""
        return self.original_date.isoformat()


def first_wednesday_on_or_after(day: date) -> date:
    """Where a new schedule can start: `day` itself when it is a Wednesday."""
    return day + timedelta(days=(WEDNESDAY - day.weekday()) % 7)


def parse_every_weeks(text: str) -> int:
    """POSTMORTEM_MEETING_EVERY_WEEKS: a whole number of weeks, 1 to 4."""
    match = re.fullmatch(r"\s*([0-9]+)\s*", text or "")
    if not match or int(match[1]) not in EVERY_WEEKS_CHOICES:
        raise ValueError(f"{text!r}: {_EVERY_WEEKS_HELP}")
    return int(match[1])


def parse_meeting_time(text: str) -> time:
    """POSTMORTEM_MEETING_TIME: a local 24-hour HH:MM (the zone is configured separately)."""
    match = re.fullmatch(r"\s*([0-9]{1,2}):([0-9]{2})\s*", text or "")
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{text!r}: {_TIME_HELP}")
    return time(int(match[1]), int(match[2]))


def _long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` on `day` in `zone`; a wall time skipped by a DST change lands just after the gap."""
    naive_wall = datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone)
    return naive_wall.astimezone(UTC).astimezone(zone)


def _meeting(schedule: MeetingSchedule, original: date) -> Meeting:
    zone = schedule.zone
    moved_to = schedule.moves.get(original)
    moved = moved_to is not None and moved_to != original
    day = moved_to or original
    reason = schedule.skips.get(original)
    if reason is None and not moved and schedule.skip_holidays:
        holiday = holiday_name(original, schedule.state)
        if holiday:
            reason = f"Public holiday: {holiday}"
    starts = _local(day, schedule.time, zone)
    # Elapsed time, not wall time: "an hour before" stays an hour across a DST change.
    post = (starts.astimezone(UTC) - schedule.post_before).astimezone(zone)
    return Meeting(original, day, starts, post, reason is not None, reason, moved)


def _originals(schedule: MeetingSchedule, start: date, end: date) -> Iterable[date]:
    """Cadence dates in [start, end], counted from the first meeting."""
    step = 7 * schedule.every_weeks
    index = max(0, -(-(start - schedule.first_meeting).days // step))
    day = schedule.first_meeting + timedelta(days=index * step)
    while day <= end:
        yield day
        day += timedelta(days=step)


def meetings_between(schedule: MeetingSchedule, start: datetime, end: datetime) -> list[Meeting]:
    """Meetings (skipped ones marked) that start in [start, end), in time order.

    Selection is by when the meeting actually happens, so a moved meeting shows up at its new
    date; skipped ones keep the time they would have had.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    # In UTC: Python compares datetimes sharing a tzinfo by wall time, wrong in the DST fold.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    zone = schedule.zone
    slack = schedule._reach + timedelta(days=1)  # a day covers any zone's offset from `start`'s
    originals = _originals(
        schedule, start.astimezone(zone).date() - slack, end.astimezone(zone).date() + slack
    )
    found = [m for m in (_meeting(schedule, d) for d in originals) if start <= m.starts_at < end]
    return sorted(found, key=lambda m: (m.starts_at, m.original_date))


def upcoming(schedule: MeetingSchedule, now: datetime, count: int = 5) -> list[Meeting]:
    """The next `count` meetings starting after `now`, skipped ones included and marked."""
    _require_aware(now, "now")
    out: list[Meeting] = []
    start = now.astimezone(UTC) + timedelta(microseconds=1)
    chunk = timedelta(weeks=4 * schedule.every_weeks * max(count, 1))
    while len(out) < count:
        out += meetings_between(schedule, start, start + chunk)
        start += chunk
    return out[:count]


def next_meeting(schedule: MeetingSchedule, now: datetime) -> Meeting | None:
    """The next meeting that will actually be held (None if the next year is all skipped)."""
    for meeting in upcoming(schedule, now, 52 // schedule.every_weeks + 1):
        if not meeting.skipped:
            return meeting
    return None


def due_to_post(
    schedule: MeetingSchedule, now: datetime, last_posted_key: str | None = None
) -> Meeting | None:
    """The meeting whose digest belongs in the channel now: post_at <= now < starts_at.

    Called on every tick and on start-up, so a digest missed while the bot was down still goes
    out as long as the meeting has not begun. `last_posted_key` (and the database's unique
    (meeting, channel) key behind it) keeps it to one post per meeting.
    """
    _require_aware(now, "now")
    now = now.astimezone(UTC)
    window = meetings_between(schedule, now, now + schedule.post_before + timedelta(seconds=1))
    for meeting in window:
        if (
            not meeting.skipped
            and meeting.post_at <= now < meeting.starts_at
            and meeting.key != last_posted_key
        ):
            return meeting
    return None


def missed_since(schedule: MeetingSchedule, since: datetime, now: datetime) -> list[Meeting]:
    """Held meetings whose whole digest window fell between `since` and `now`: record as missed.

    `since` is the last moment the bot is known to have been running (its last tick). If it was
    running at any point of [post_at, starts_at) the digest went out then, so only windows
    that opened after `since` and closed by `now` count.
    """
    _require_aware(since, "since")
    _require_aware(now, "now")
    since, now = since.astimezone(UTC), now.astimezone(UTC)
    if now <= since:
        return []
    candidates = meetings_between(schedule, since, now + timedelta(microseconds=1))
    return [m for m in candidates if not m.skipped and since < m.post_at and m.starts_at <= now]


def previous_meeting(schedule: MeetingSchedule, meeting: Meeting) -> Meeting | None:
    """The last held meeting before `meeting`: where "since the previous digest" begins."""
    first = _local(schedule.first_meeting, schedule.time, schedule.zone)
    floor = first.astimezone(UTC) - schedule._reach - timedelta(days=1)
    end = meeting.starts_at.astimezone(UTC)
    chunk = timedelta(weeks=8 * schedule.every_weeks)
    while end > floor:
        earlier = [
            m
            for m in meetings_between(schedule, end - chunk, end)
            if not m.skipped and m.key != meeting.key
        ]
        if earlier:
            return earlier[-1]
        end -= chunk
    return None


def format_schedule(
    meetings: Iterable[Meeting], day: Callable[[date], str] | None = None
) -> list[str]:
    """Human lines for `postmortem-bot digest --schedule`, in the meeting's own time zone.

    `day` formats a meeting's date (Slack passes its "Fri 11 Dec" style); by default the year
    is always given.
    """
    lines = []
    for m in meetings:
        when = (
            day(m.starts_at.date())
            if day
            else f"{m.starts_at:%a} {m.starts_at.day} {m.starts_at:%b %Y}"
        )
        if m.skipped:
            lines.append(f"{when} — skipped ({m.reason})")
            continue
        moved = (
            f" (moved from {m.original_date:%a} {m.original_date.day} {m.original_date:%b})"
            if m.moved
            else ""
        )
        lines.append(f"{when} {m.starts_at:%H:%M %Z}{moved} — digest at {m.post_at:%a %H:%M %Z}")
    return lines

"""The Wednesday meeting cadence with a controlled clock: DST, year end, skips, moves, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from workflows.meetings import (
    MeetingSchedule,
    due_to_post,
    first_wednesday_on_or_after,
    format_schedule,
    missed_since,
    next_meeting,
    parse_every_weeks,
    parse_meeting_time,
    previous_meeting,
    upcoming,
)

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def dates(schedule: MeetingSchedule, now: datetime = NOW, count: int = 5) -> list[str]:
    return [m.starts_at.isoformat() for m in upcoming(schedule, now, count)]


@pytest.mark.parametrize(
    ("weeks", "expected"),
    [
        (1, ["2026-11-25", "2026-12-02", "2026-12-09"]),
        (2, ["2026-11-25", "2026-12-09", "2026-12-23"]),
        (3, ["2026-11-25", "2026-12-16", "2027-01-06"]),
        (4, ["2026-11-25", "2026-12-23", "2027-01-20"]),
    ],
)
def test_every_n_weeks(weeks: int, expected: list[str]) -> None:
    s = MeetingSchedule(date(2026, 11, 25), weeks)
    assert [d[:10] for d in dates(s, count=3)] == expected


def test_ten_oclock_local_across_daylight_saving() -> None:
    s = MeetingSchedule(date(2026, 9, 30), 1)
    got = dates(s, datetime(2026, 9, 29, tzinfo=UTC), 2)
    assert got == ["2026-09-30T10:00:00+10:00", "2026-10-07T10:00:00+11:00"]  # AEST → AEDT
    got = dates(s, datetime(2027, 3, 30, tzinfo=UTC), 2)
    assert got == ["2027-03-31T10:00:00+11:00", "2027-04-07T10:00:00+10:00"]
    perth = MeetingSchedule(date(2026, 9, 30), 1, tz="Australia/Perth")
    assert dates(perth, datetime(2026, 9, 29, tzinfo=UTC), 2) == [
        "2026-09-30T10:00:00+08:00",
        "2026-10-07T10:00:00+08:00",
    ]


def test_year_boundary_and_a_wednesday_holiday() -> None:
    # Every 2 weeks from 9 Dec 2026: 23 Dec, then 6 Jan 2027 (no holiday), 20 Jan.
    s = MeetingSchedule(date(2026, 12, 9), 2)
    assert [d[:10] for d in dates(s, datetime(2026, 12, 10, tzinfo=UTC), 3)] == [
        "2026-12-23",
        "2027-01-06",
        "2027-01-20",
    ]
    # Australia Day 2028 is a Wednesday: skipped by default, kept when told not to skip.
    s = MeetingSchedule(date(2028, 1, 12), 2)
    [jan26] = [m for m in upcoming(s, datetime(2028, 1, 20, tzinfo=UTC), 1)]
    assert (jan26.date, jan26.skipped, jan26.reason) == (
        date(2028, 1, 26),
        True,
        "Public holiday: Australia Day",
    )
    kept = MeetingSchedule(date(2028, 1, 12), 2, skip_holidays=False)
    assert not upcoming(kept, datetime(2028, 1, 20, tzinfo=UTC), 1)[0].skipped
    assert next_meeting(s, datetime(2028, 1, 20, tzinfo=UTC)).date == date(2028, 2, 9)


def test_skipped_and_moved_meetings() -> None:
    s = MeetingSchedule(
        date(2026, 11, 25),
        1,
        skips={date(2026, 12, 2): "Booked already"},
        moves={date(2026, 12, 9): date(2026, 12, 10)},
    )
    meetings = upcoming(s, NOW, 3)
    assert [(m.key, m.date, m.skipped, m.moved) for m in meetings] == [
        ("2026-11-25", date(2026, 11, 25), False, False),
        ("2026-12-02", date(2026, 12, 2), True, False),
        ("2026-12-09", date(2026, 12, 10), False, True),
    ]
    assert meetings[2].post_at.isoformat() == "2026-12-10T09:00:00+11:00"
    assert format_schedule(meetings) == [
        "Wed 25 Nov 2026 10:00 AEDT — digest at Wed 09:00 AEDT",
        "Wed 2 Dec 2026 — skipped (Booked already)",
        "Thu 10 Dec 2026 10:00 AEDT (moved from Wed 9 Dec) — digest at Thu 09:00 AEDT",
    ]
    assert previous_meeting(s, meetings[2]).key == "2026-11-25"


def test_when_to_post() -> None:
    s = MeetingSchedule(date(2026, 11, 25), 2)
    before = datetime(2026, 11, 24, 21, 59, tzinfo=UTC)  # 08:59 Sydney
    inside = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)  # 09:30
    begun = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # 10:00
    assert due_to_post(s, before) is None
    assert due_to_post(s, inside).key == "2026-11-25"
    assert due_to_post(s, inside, last_posted_key="2026-11-25") is None
    assert due_to_post(s, begun) is None
    assert [m.key for m in missed_since(s, before - timedelta(days=1), begun)] == ["2026-11-25"]


def test_first_wednesday_and_parsing() -> None:
    assert [first_wednesday_on_or_after(date(2026, 11, d)) for d in (23, 25, 26)] == [
        date(2026, 11, 25),
        date(2026, 11, 25),
        date(2026, 12, 2),
    ]
    assert parse_every_weeks("3") == 3
    assert parse_meeting_time("9:30") == time(9, 30)
    for bad in ("0", "5", "two"):
        with pytest.raises(ValueError, match="every 1, 2, 3 or 4 weeks"):
            parse_every_weeks(bad)
    with pytest.raises(ValueError, match="24-hour time"):
        parse_meeting_time("25:00")
    with pytest.raises(ValueError, match="must be a Wednesday"):
        MeetingSchedule(date(2026, 11, 26))

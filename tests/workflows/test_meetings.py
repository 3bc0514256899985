"""Meeting schedule edge cases with exact aware datetimes: cadence, DST, holidays, posting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from workflows.calendar import holiday_name
from workflows.meetings import (
    BOOKED,
    Meeting,
    MeetingSchedule,
    due_to_post,
    first_wednesday_on_or_after,
    format_schedule,
    meetings_between,
    missed_since,
    next_meeting,
    parse_every_weeks,
    parse_meeting_time,
    previous_meeting,
    upcoming,
)

SYD = ZoneInfo("Australia/Sydney")
PERTH = ZoneInfo("Australia/Perth")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def syd(*args: int) -> datetime:
    return datetime(*args, tzinfo=SYD)  # type: ignore[misc]


def starts(meetings: list[Meeting]) -> list[str]:
    return [m.starts_at.isoformat() for m in meetings]


# --- construction and parsing -------------------------------------------------------------


def test_defaults() -> None:
    s = MeetingSchedule(date(2026, 11, 25))
    assert (s.every_weeks, s.time, s.tz, s.post_before, s.state, s.skip_holidays) == (
        2,
        time(10, 0),
        "Australia/Sydney",
        timedelta(hours=1),
        "NSW",
        True,
    )
    assert dict(s.skips) == {} and dict(s.moves) == {}


@pytest.mark.parametrize("day", [23, 24, 26, 27, 28, 29])
def test_first_meeting_must_be_a_wednesday(day: int) -> None:
    with pytest.raises(ValueError, match="must be a Wednesday"):
        MeetingSchedule(date(2026, 11, day))


@pytest.mark.parametrize("weeks", [0, 5, -1, True])
def test_every_weeks_out_of_range(weeks: int) -> None:
    with pytest.raises(ValueError, match="every 1, 2, 3 or 4 weeks"):
        MeetingSchedule(date(2026, 11, 25), weeks)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tz": "Australia/Atlantis"}, "unknown time zone"),
        ({"tz": "../etc/passwd"}, "unknown time zone"),
        ({"state": "XX"}, "unknown Australian state"),
        ({"post_before": timedelta(0)}, "between a moment and a week"),
        ({"post_before": timedelta(days=8)}, "between a moment and a week"),
    ],
)
def test_invalid_settings_are_value_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MeetingSchedule(date(2026, 11, 25), **kwargs)


def test_schedule_is_frozen_and_hashable_and_copies_its_overrides() -> None:
    skips = {date(2026, 12, 9): BOOKED}
    s = MeetingSchedule(date(2026, 11, 25), skips=skips)
    skips[date(2026, 12, 23)] = "later edit"
    assert dict(s.skips) == {date(2026, 12, 9): BOOKED}
    with pytest.raises(TypeError):
        s.skips[date(2027, 1, 6)] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        s.every_weeks = 3  # type: ignore[misc]
    assert hash(s) == hash(MeetingSchedule(date(2026, 11, 25), skips={date(2026, 12, 9): BOOKED}))
    assert s == MeetingSchedule(date(2026, 11, 25), skips={date(2026, 12, 9): BOOKED})


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 23), date(2026, 11, 25)),  # Monday
        (date(2026, 11, 24), date(2026, 11, 25)),  # Tuesday
        (date(2026, 11, 25), date(2026, 11, 25)),  # Wednesday: itself
        (date(2026, 11, 26), date(2026, 12, 2)),  # Thursday
        (date(2026, 11, 27), date(2026, 12, 2)),  # Friday
        (date(2026, 11, 28), date(2026, 12, 2)),  # Saturday
        (date(2026, 11, 29), date(2026, 12, 2)),  # Sunday
        (date(2026, 12, 31), date(2027, 1, 6)),  # Thursday across the year end
    ],
)
def test_first_wednesday_on_or_after(day: date, expected: date) -> None:
    assert first_wednesday_on_or_after(day) == expected
    assert expected.weekday() == 2


@pytest.mark.parametrize(("text", "weeks"), [("1", 1), ("2", 2), (" 3 ", 3), ("4", 4), ("04", 4)])
def test_parse_every_weeks(text: str, weeks: int) -> None:
    assert parse_every_weeks(text) == weeks


@pytest.mark.parametrize("text", ["", "0", "5", "two", "2.5", "-2", "²", "2 weeks"])
def test_parse_every_weeks_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"every 1, 2, 3 or 4 weeks"):
        parse_every_weeks(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10:00", time(10, 0)),
        ("9:30", time(9, 30)),
        ("09:05", time(9, 5)),
        (" 23:59 ", time(23, 59)),
        ("0:00", time(0, 0)),
    ],
)
def test_parse_meeting_time(text: str, expected: time) -> None:
    assert parse_meeting_time(text) == expected


@pytest.mark.parametrize("text", ["", "10", "24:00", "10:60", "10am", "10:00:00", "1000", "٣:00"])
def test_parse_meeting_time_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="24-hour time such as 10:00"):
        parse_meeting_time(text)


# --- cadence ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weeks", "expected"),
    [
        (1, [(2026, 11, 4), (2026, 11, 11), (2026, 11, 18), (2026, 11, 25)]),
        (2, [(2026, 11, 4), (2026, 11, 18), (2026, 12, 2), (2026, 12, 16)]),
        (3, [(2026, 11, 4), (2026, 11, 25), (2026, 12, 16), (2027, 1, 6)]),
        (4, [(2026, 11, 4), (2026, 12, 2), (2026, 12, 30), (2027, 1, 27)]),
    ],
)
def test_every_n_weeks_counted_from_the_first_meeting(weeks: int, expected: list) -> None:
    s = MeetingSchedule(date(2026, 11, 4), weeks)
    got = upcoming(s, utc(2026, 1, 1), 4)  # before the first meeting: starts there
    assert starts(got) == [syd(*ymd, 10).isoformat() for ymd in expected]
    assert [m.key for m in got] == [date(*ymd).isoformat() for ymd in expected]
    # Starting mid-cycle keeps the phase of the first meeting.
    later = upcoming(s, utc(2026, 11, 5), 3)
    assert [m.date for m in later] == [date(*ymd) for ymd in expected[1:]]


def test_starts_at_and_post_at_are_exact_aware_datetimes() -> None:
    s = MeetingSchedule(date(2026, 11, 25), 2)
    [m] = upcoming(s, utc(2026, 11, 23), 1)
    assert m.starts_at == utc(2026, 11, 24, 23, 0)  # 10:00 AEDT = 23:00 UTC the day before
    assert m.starts_at.tzinfo == SYD and m.post_at.tzinfo == SYD
    assert m.post_at.isoformat() == "2026-11-25T09:00:00+11:00"
    assert (m.original_date, m.date, m.skipped, m.reason, m.moved, m.key) == (
        date(2026, 11, 25),
        date(2026, 11, 25),
        False,
        None,
        False,
        "2026-11-25",
    )


def test_sydney_daylight_saving_starts_and_ends() -> None:
    s = MeetingSchedule(date(2026, 9, 23), 1)
    # DST starts Sunday 4 Oct 2026: 10:00 local both weeks, an hour apart in UTC.
    sep30, oct7 = upcoming(s, utc(2026, 9, 29), 2)
    assert sep30.starts_at.isoformat() == "2026-09-30T10:00:00+10:00"
    assert sep30.starts_at == utc(2026, 9, 30, 0, 0)
    assert sep30.post_at.isoformat() == "2026-09-30T09:00:00+10:00"
    assert oct7.starts_at.isoformat() == "2026-10-07T10:00:00+11:00"
    assert oct7.starts_at == utc(2026, 10, 6, 23, 0)
    assert oct7.post_at.isoformat() == "2026-10-07T09:00:00+11:00"
    # DST ends Sunday 4 Apr 2027.
    mar31, apr7 = upcoming(s, utc(2027, 3, 30), 2)
    assert mar31.starts_at == utc(2027, 3, 30, 23, 0)
    assert mar31.starts_at.isoformat() == "2027-03-31T10:00:00+11:00"
    assert apr7.starts_at == utc(2027, 4, 7, 0, 0)
    assert apr7.starts_at.isoformat() == "2027-04-07T10:00:00+10:00"
    assert format_schedule([mar31, apr7]) == [
        "Wed 31 Mar 2027 10:00 AEDT — digest at Wed 09:00 AEDT",
        "Wed 7 Apr 2027 10:00 AEST — digest at Wed 09:00 AEST",
    ]


def test_perth_has_no_daylight_saving() -> None:
    s = MeetingSchedule(date(2026, 9, 30), 1, tz="Australia/Perth", state="WA")
    got = upcoming(s, utc(2026, 9, 29), 2)
    assert starts(got) == ["2026-09-30T10:00:00+08:00", "2026-10-07T10:00:00+08:00"]
    assert [m.starts_at for m in got] == [utc(2026, 9, 30, 2), utc(2026, 10, 7, 2)]
    assert got[0].post_at == datetime(2026, 9, 30, 9, tzinfo=PERTH)
    assert format_schedule(got[:1]) == ["Wed 30 Sep 2026 10:00 AWST — digest at Wed 09:00 AWST"]


def test_year_boundary_every_two_weeks() -> None:
    s = MeetingSchedule(date(2026, 12, 2), 2, time=time(14, 30))
    got = upcoming(s, syd(2026, 12, 20), 3)
    assert starts(got) == [
        "2026-12-30T14:30:00+11:00",
        "2027-01-13T14:30:00+11:00",
        "2027-01-27T14:30:00+11:00",
    ]
    assert got[1].starts_at == utc(2027, 1, 13, 3, 30)
    assert [m.skipped for m in got] == [False, False, False]
    assert previous_meeting(s, got[1]).key == "2026-12-30"


def test_meetings_between_is_half_open_on_start_time() -> None:
    s = MeetingSchedule(date(2026, 11, 25), 1)
    got = meetings_between(s, syd(2026, 11, 25, 10), syd(2026, 12, 9, 10))
    assert [m.key for m in got] == ["2026-11-25", "2026-12-02"]
    assert meetings_between(s, syd(2026, 11, 25, 10, 1), syd(2026, 11, 26)) == []
    # Bounds in another zone compare as instants.
    got = meetings_between(s, utc(2026, 11, 24, 23), utc(2026, 11, 24, 23, 0, 1))
    assert [m.key for m in got] == ["2026-11-25"]


def test_naive_datetimes_are_rejected() -> None:
    s = MeetingSchedule(date(2026, 11, 25))
    naive = datetime(2026, 11, 25, 9, 30)  # noqa: DTZ001 - the point of the test
    for call in (
        lambda: upcoming(s, naive),
        lambda: due_to_post(s, naive, None),
        lambda: next_meeting(s, naive),
        lambda: missed_since(s, naive, naive),
        lambda: meetings_between(s, naive, naive),
    ):
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


# --- skips, moves, holidays -----------------------------------------------------------------


def test_skipped_meeting_is_listed_but_not_next() -> None:
    s = MeetingSchedule(date(2026, 11, 25), 1, skips={date(2026, 12, 2): BOOKED})
    got = upcoming(s, syd(2026, 11, 26), 2)
    assert [(m.key, m.skipped, m.reason) for m in got] == [
        ("2026-12-02", True, BOOKED),
        ("2026-12-09", False, None),
    ]
    assert next_meeting(s, syd(2026, 11, 26)).key == "2026-12-09"
    assert format_schedule(got) == [
        "Wed 2 Dec 2026 — skipped (A dedicated meeting is already booked)",
        "Wed 9 Dec 2026 10:00 AEDT — digest at Wed 09:00 AEDT",
    ]
    # No digest for a skipped meeting, and it is never "missed".
    assert due_to_post(s, syd(2026, 12, 2, 9, 30), None) is None
    assert missed_since(s, syd(2026, 12, 1), syd(2026, 12, 3)) == []
    # The digest after a skip covers everything since the last held meeting.
    assert previous_meeting(s, got[1]).key == "2026-11-25"


def test_moved_meeting_keeps_its_identity_and_post_time_follows() -> None:
    s = MeetingSchedule(date(2026, 11, 25), 2, moves={date(2026, 12, 9): date(2026, 12, 10)})
    got = upcoming(s, syd(2026, 11, 26), 2)
    moved = got[0]
    assert (moved.key, moved.original_date, moved.date, moved.moved, moved.skipped) == (
        "2026-12-09",
        date(2026, 12, 9),
        date(2026, 12, 10),
        True,
        False,
    )
    assert moved.starts_at == syd(2026, 12, 10, 10)
    assert moved.post_at == syd(2026, 12, 10, 9)
    assert got[1].key == "2026-12-23" and not got[1].moved
    # Nothing is due on the original Wednesday, the digest goes out on the Thursday.
    assert due_to_post(s, syd(2026, 12, 9, 9, 30), None) is None
    assert due_to_post(s, syd(2026, 12, 10, 9, 30), None) == moved
    assert format_schedule([moved]) == [
        "Thu 10 Dec 2026 10:00 AEDT (moved from Wed 9 Dec) — digest at Thu 09:00 AEDT"
    ]


def test_meeting_moved_earlier_across_a_window_boundary() -> None:
    # Moved from Wed 6 Jan to Mon 28 Dec: found by a query that only spans the new date.
    s = MeetingSchedule(date(2026, 12, 9), 4, moves={date(2027, 1, 6): date(2026, 12, 28)})
    got = meetings_between(s, syd(2026, 12, 27), syd(2026, 12, 29))
    assert [(m.key, m.date) for m in got] == [("2027-01-06", date(2026, 12, 28))]
    assert meetings_between(s, syd(2027, 1, 5), syd(2027, 1, 8)) == []


def test_move_to_the_same_day_is_not_a_move() -> None:
    s = MeetingSchedule(date(2026, 11, 25), 1, moves={date(2026, 12, 2): date(2026, 12, 2)})
    [m] = meetings_between(s, syd(2026, 12, 2), syd(2026, 12, 3))
    assert not m.moved


def test_post_before_is_elapsed_time_across_a_dst_change() -> None:
    # Moved to Sunday 4 Oct 2026, DST starts at 02:00: a day's notice is 24 real hours, so the
    # digest goes out at 09:00 AEST on Saturday, not at 10:00 wall-clock time.
    s = MeetingSchedule(
        date(2026, 9, 30),
        1,
        post_before=timedelta(days=1),
        moves={date(2026, 10, 7): date(2026, 10, 4)},
    )
    [m] = meetings_between(s, syd(2026, 10, 4), syd(2026, 10, 5))
    assert m.starts_at.isoformat() == "2026-10-04T10:00:00+11:00"
    assert m.post_at.isoformat() == "2026-10-03T09:00:00+10:00"
    # (Same-zone subtraction is wall-clock in Python, hence the UTC.)
    assert m.starts_at.astimezone(UTC) - m.post_at.astimezone(UTC) == timedelta(days=1)
    assert due_to_post(s, syd(2026, 10, 3, 8, 59), None) is None
    assert due_to_post(s, syd(2026, 10, 3, 9), None) == m


def test_local_time_in_a_dst_gap_lands_after_the_gap() -> None:
    # 02:30 does not exist in Sydney on 4 Oct 2026; it becomes 03:30 AEDT, the same instant.
    s = MeetingSchedule(
        date(2026, 9, 30), 1, time=time(2, 30), moves={date(2026, 9, 30): date(2026, 10, 4)}
    )
    [m] = upcoming(s, utc(2026, 9, 1), 1)
    assert m.starts_at.isoformat() == "2026-10-04T03:30:00+11:00"
    assert m.starts_at == utc(2026, 10, 3, 16, 30)
    assert m.post_at.isoformat() == "2026-10-04T01:30:00+10:00"


def test_real_wednesday_public_holidays_exist() -> None:
    assert date(2028, 1, 26).weekday() == 2
    assert holiday_name(date(2028, 1, 26), "NSW") == "Australia Day"
    assert date(2030, 12, 25).weekday() == 2
    assert holiday_name(date(2030, 12, 25), "NSW") == "Christmas Day"


def test_wednesday_public_holiday_is_skipped_by_default() -> None:
    s = MeetingSchedule(date(2030, 12, 11), 2)
    xmas, jan8 = upcoming(s, syd(2030, 12, 12), 2)
    assert (xmas.key, xmas.skipped, xmas.reason) == (
        "2030-12-25",
        True,
        "Public holiday: Christmas Day",
    )
    assert xmas.starts_at == syd(2030, 12, 25, 10)
    assert next_meeting(s, syd(2030, 12, 12)) == jan8
    assert jan8.starts_at.isoformat() == "2031-01-08T10:00:00+11:00"
    assert format_schedule([xmas]) == ["Wed 25 Dec 2030 — skipped (Public holiday: Christmas Day)"]
    assert due_to_post(s, syd(2030, 12, 25, 9, 30), None) is None


def test_wednesday_public_holiday_kept_when_not_skipping_holidays() -> None:
    s = MeetingSchedule(date(2030, 12, 11), 2, skip_holidays=False)
    [xmas] = upcoming(s, syd(2030, 12, 12), 1)
    assert (xmas.skipped, xmas.reason) == (False, None)
    assert due_to_post(s, syd(2030, 12, 25, 9, 30), None) == xmas


def test_holiday_meeting_moved_off_the_holiday_is_held() -> None:
    s = MeetingSchedule(date(2028, 1, 12), 2, moves={date(2028, 1, 26): date(2028, 1, 27)})
    [m] = upcoming(s, syd(2028, 1, 13), 1)
    assert (m.key, m.date, m.skipped, m.moved) == ("2028-01-26", date(2028, 1, 27), False, True)


def test_explicit_skip_reason_wins_over_the_holiday() -> None:
    s = MeetingSchedule(date(2028, 1, 12), 2, skips={date(2028, 1, 26): BOOKED})
    [m] = upcoming(s, syd(2028, 1, 13), 1)
    assert (m.skipped, m.reason) == (True, BOOKED)


def test_stray_overrides_are_ignored_but_reported() -> None:
    # Written for a weekly cadence, then the cadence became fortnightly.
    s = MeetingSchedule(
        date(2026, 11, 25),
        2,
        skips={date(2026, 12, 2): BOOKED},
        moves={date(2026, 12, 16): date(2026, 12, 17)},
    )
    assert s.stray_overrides() == [date(2026, 12, 2), date(2026, 12, 16)]
    assert [m.skipped for m in upcoming(s, syd(2026, 11, 26), 2)] == [False, False]
    assert s.is_on_cadence(date(2026, 12, 9)) and not s.is_on_cadence(date(2026, 11, 11))


def test_next_meeting_none_when_a_whole_year_is_skipped() -> None:
    first = date(2026, 11, 25)
    skips = {first + timedelta(weeks=4 * i): BOOKED for i in range(20)}
    s = MeetingSchedule(first, 4, skips=skips)
    assert next_meeting(s, syd(2026, 11, 1)) is None


# --- posting the digest ------------------------------------------------------------------------

SCHEDULE = MeetingSchedule(date(2026, 11, 25), 2)  # 10:00 AEDT, digest at 09:00 AEDT


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (utc(2026, 11, 24, 21, 59, 59), None),  # 08:59:59 Sydney: too early
        (utc(2026, 11, 24, 22, 0), "2026-11-25"),  # 09:00 exactly: window opens
        (utc(2026, 11, 24, 22, 30), "2026-11-25"),  # 09:30
        (utc(2026, 11, 24, 22, 59, 59), "2026-11-25"),  # 09:59:59: last moment
        (utc(2026, 11, 24, 23, 0), None),  # 10:00: meeting has begun
        (utc(2026, 11, 25, 3, 0), None),  # afternoon
        (utc(2026, 12, 2, 22, 30), None),  # off week
    ],
)
def test_due_to_post_window(now: datetime, due: str | None) -> None:
    meeting = due_to_post(SCHEDULE, now, None)
    assert (meeting.key if meeting else None) == due


def test_due_to_post_not_twice() -> None:
    inside = syd(2026, 11, 25, 9, 30)
    assert due_to_post(SCHEDULE, inside, "2026-11-25") is None
    assert due_to_post(SCHEDULE, inside, "2026-11-11").key == "2026-11-25"


def test_missed_digest_goes_out_on_start_up_if_the_meeting_has_not_begun() -> None:
    # Down from 08:00 to 09:50: the start-up tick still posts.
    assert due_to_post(SCHEDULE, syd(2026, 11, 25, 9, 50), None).key == "2026-11-25"
    assert missed_since(SCHEDULE, syd(2026, 11, 25, 8), syd(2026, 11, 25, 9, 50)) == []


def test_missed_since() -> None:
    # Down from Monday until Wednesday 11:00: the whole window passed unseen.
    [missed] = missed_since(SCHEDULE, syd(2026, 11, 23), syd(2026, 11, 25, 11))
    assert missed.key == "2026-11-25" and missed.starts_at == utc(2026, 11, 24, 23)
    # Running at 09:15 (inside the window) means the digest went out then: not missed.
    assert missed_since(SCHEDULE, syd(2026, 11, 25, 9, 15), syd(2026, 11, 25, 11)) == []
    # The meeting has not begun yet: not missed (it is due instead).
    assert missed_since(SCHEDULE, syd(2026, 11, 23), syd(2026, 11, 25, 9, 59)) == []
    # Down for a month: both meetings are missed, in order; skipped ones are not.
    s = MeetingSchedule(date(2026, 11, 25), 2, skips={date(2026, 12, 9): BOOKED})
    got = missed_since(s, syd(2026, 11, 20), syd(2026, 12, 31))
    assert [m.key for m in got] == ["2026-11-25", "2026-12-23"]
    assert missed_since(s, syd(2026, 12, 31), syd(2026, 11, 20)) == []


def test_previous_meeting() -> None:
    s = MeetingSchedule(
        date(2026, 11, 25), 1, skips={date(2026, 12, 9): BOOKED, date(2026, 12, 16): BOOKED}
    )
    dec23 = next_meeting(s, syd(2026, 12, 17))
    assert dec23.key == "2026-12-23"
    assert previous_meeting(s, dec23).key == "2026-12-02"
    first = next_meeting(s, syd(2026, 11, 1))
    assert first.key == "2026-11-25" and previous_meeting(s, first) is None


def test_previous_meeting_far_back() -> None:
    # Every 4 weeks with a year of skips in between: still finds the last held meeting.
    first = date(2026, 11, 25)
    skips = {first + timedelta(weeks=4 * i): BOOKED for i in range(1, 13)}
    s = MeetingSchedule(first, 4, skips=skips)
    later = next_meeting(s, syd(2026, 11, 26))
    assert later.original_date == first + timedelta(weeks=52)
    assert previous_meeting(s, later).key == "2026-11-25"


def test_with_a_controlled_clock() -> None:
    # What the scheduler does: read the clock, ask what is due.
    with time_machine.travel(syd(2026, 11, 25, 9, 0, 30), tick=False):
        now = datetime.now(UTC)
        assert due_to_post(SCHEDULE, now, None).key == "2026-11-25"
        assert next_meeting(SCHEDULE, now).key == "2026-11-25"
        assert [m.key for m in upcoming(SCHEDULE, now, 3)] == [
            "2026-11-25",
            "2026-12-09",
            "2026-12-23",
        ]


def test_ambiguous_local_time_at_dst_end_is_the_first_and_compared_as_an_instant() -> None:
    # 02:30 happens twice in Sydney on Sunday 4 Apr 2027: the meeting takes the first (AEDT).
    s = MeetingSchedule(
        date(2027, 3, 31), 1, time=time(2, 30), moves={date(2027, 4, 7): date(2027, 4, 4)}
    )
    [m] = meetings_between(s, syd(2027, 4, 3), syd(2027, 4, 5))
    assert m.starts_at.isoformat() == "2027-04-04T02:30:00+11:00"
    # (An ambiguous wall time never compares == across zones in Python, hence astimezone.)
    assert m.starts_at.astimezone(UTC) == utc(2027, 4, 3, 15, 30)
    # 02:15 on the second pass (AEST) is after it in real time, though earlier on the wall.
    later = datetime(2027, 4, 4, 2, 15, fold=1, tzinfo=SYD)
    assert later.astimezone(UTC) == utc(2027, 4, 3, 16, 15)
    assert upcoming(s, later, 1)[0].key == "2027-04-14"
    assert due_to_post(s, later, None) is None
    assert [x.key for x in missed_since(s, syd(2027, 4, 3), later)] == ["2027-04-07"]

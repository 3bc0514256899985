from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows.au.product_safety import (
    Incident,
    ReportStatus,
    recall_deadlines,
    reminder_times,
    report_due,
    report_required,
    validate_incident,
)

SYD = ZoneInfo("Australia/Sydney")


def local(day: date, state_zone: str = "Australia/Sydney", hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(state_zone))


# ACCC "How to submit a mandatory report" table, week of 16 March 2026 (no holidays in NSW).
@pytest.mark.parametrize(
    ("aware", "due"),
    [
        (date(2026, 3, 16), date(2026, 3, 18)),  # Monday -> Wednesday
        (date(2026, 3, 17), date(2026, 3, 19)),  # Tuesday -> Thursday
        (date(2026, 3, 18), date(2026, 3, 20)),  # Wednesday -> Friday
        (date(2026, 3, 19), date(2026, 3, 23)),  # Thursday -> Monday
        (date(2026, 3, 20), date(2026, 3, 23)),  # Friday -> Monday
        (date(2026, 3, 21), date(2026, 3, 23)),  # Saturday -> Monday
        (date(2026, 3, 22), date(2026, 3, 24)),  # Sunday -> Tuesday
    ],
)
def test_accc_weekday_table(aware: date, due: date) -> None:
    assert report_due(local(aware)) == datetime(due.year, due.month, due.day, 23, 59, tzinfo=SYD)


@pytest.mark.parametrize(
    ("aware", "state", "due"),
    [
        # Fri 25 Dec Christmas, Mon 28 Dec Boxing Day (observed)
        (date(2026, 12, 23), "NSW", date(2026, 12, 29)),
        (date(2026, 12, 24), "NSW", date(2026, 12, 29)),
        # Fri 1 Jan 2027 New Year's Day
        (date(2026, 12, 30), "NSW", date(2027, 1, 4)),
        # Tue 26 Jan 2027 Australia Day
        (date(2027, 1, 24), "NSW", date(2027, 1, 27)),
        (date(2027, 1, 24), "WA", date(2027, 1, 27)),
        # Tue 3 Nov 2026 Melbourne Cup: Victoria only
        (date(2026, 11, 1), "VIC", date(2026, 11, 4)),
        (date(2026, 11, 1), "NSW", date(2026, 11, 3)),
        # Mon 5 Oct 2026 Labour Day in NSW, ordinary day in VIC
        (date(2026, 10, 3), "NSW", date(2026, 10, 6)),
        (date(2026, 10, 3), "VIC", date(2026, 10, 5)),
        # Mon 1 Jun 2026 Western Australia Day
        (date(2026, 5, 30), "WA", date(2026, 6, 2)),
        (date(2026, 5, 30), "SA", date(2026, 6, 1)),
        # Mon 3 Aug 2026 NSW bank holiday: banks only, not a public holiday in the holidays
        # package, so the deadline does not move
        (date(2026, 8, 1), "NSW", date(2026, 8, 3)),
        # Good Friday 3 Apr, Easter Monday 6 Apr 2026
        (date(2026, 4, 1), "QLD", date(2026, 4, 7)),
    ],
)
def test_public_holidays_move_the_deadline(aware: date, state: str, due: date) -> None:
    zone = {
        "NSW": "Australia/Sydney",
        "VIC": "Australia/Melbourne",
        "WA": "Australia/Perth",
        "SA": "Australia/Adelaide",
        "QLD": "Australia/Brisbane",
    }[state]
    result = report_due(local(aware, zone), state)
    assert result == datetime(due.year, due.month, due.day, 23, 59, tzinfo=ZoneInfo(zone))
    assert str(result.tzinfo) == zone


def test_utc_awareness_is_the_next_day_in_sydney() -> None:
    aware = datetime(2026, 3, 16, 14, 30, tzinfo=UTC)  # Monday in UTC, 1:30 am Tuesday AEDT
    assert report_due(aware) == datetime(2026, 3, 19, 23, 59, tzinfo=SYD)  # Thursday
    # the same instant is still Monday evening in Perth
    assert report_due(aware, "WA") == datetime(
        2026, 3, 18, 23, 59, tzinfo=ZoneInfo("Australia/Perth")
    )


def test_naive_and_unknown_state_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        report_due(datetime(2026, 3, 16, 10))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="unknown Australian state"):
        report_due(local(date(2026, 3, 16)), "NZ")


def incident(**changes) -> Incident:
    base = {
        "product_name": "Camp stove",
        "aware_at": local(date(2026, 3, 16)),
        "what_happened": "Gas leak caused burns needing hospital treatment",
        "outcome": "serious_injury_or_illness",
        "caused_or_may_have": True,
    }
    return Incident(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "required", "cites"),
    [
        ({}, True, "s131(1)"),
        ({"outcome": "death"}, True, "s131(1)"),
        ({"outcome": "other"}, False, "s131(1)"),
        ({"caused_or_may_have": False}, False, "s131(2)(a)"),
        ({"exemption": "not_caused_by_product"}, False, "s131(2)(a)"),
        ({"exemption": "tga"}, False, "TGA"),
        ({"exemption": "apvma"}, False, "APVMA"),
        ({"exemption": "food_borne_illness"}, False, "health authorities"),
        ({"outcome": "death", "exemption": "coroner"}, False, "coroner"),
        ({"exemption": "road_vehicle"}, False, "road"),
    ],
)
def test_report_required(changes: dict, required: bool, cites: str) -> None:
    result, reason = report_required(incident(**changes))
    assert result is required
    assert cites in reason


NOW = datetime(2026, 3, 17, 9, tzinfo=SYD)


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({}, {}),
        (
            {"aware_at": NOW + timedelta(minutes=1)},
            {"aware_at": "The date of awareness can't be in the future."},
        ),
        (
            {"aware_at": datetime(2026, 3, 16, 10)},  # noqa: DTZ001 - naive on purpose
            {"aware_at": "Give the date and time with a time zone."},
        ),
        (
            {"product_name": " ", "what_happened": ""},
            {"product_name": "Name the product.", "what_happened": "Describe what happened."},
        ),
        ({"status": ReportStatus("submitted", date(2026, 3, 17), "ACCC-123")}, {}),
        (
            {"status": ReportStatus("submitted", date(2026, 3, 17))},
            {"status": "Give the ACCC reference number for the submitted report."},
        ),
        (
            {"status": ReportStatus("submitted", accc_reference="ACCC-123")},
            {"status": "Give the date the report was submitted."},
        ),
        (
            {"status": ReportStatus("not_required", reason="minor")},
            {"status": "A report is required for this incident (ACL s131)."},
        ),
        (
            {"outcome": "other", "status": ReportStatus("not_required")},
            {"status": "Say why a report is not required."},
        ),
        ({"outcome": "other", "status": ReportStatus("not_required", reason="A scratch")}, {}),
    ],
)
def test_validate_incident(changes: dict, errors: dict[str, str]) -> None:
    assert validate_incident(incident(**changes), NOW) == errors


def test_recall_deadlines() -> None:
    action = datetime(2026, 3, 16, 10, tzinfo=SYD)  # Monday
    published = datetime(2026, 3, 17, 8, tzinfo=SYD)
    deadlines = {d.kind: d for d in recall_deadlines(action, published, "NSW")}
    assert deadlines["notify_accc"].due_at == datetime(2026, 3, 18, 23, 59, tzinfo=SYD)
    assert deadlines["overseas_notices"].due_at == datetime(2026, 3, 26, 23, 59, tzinfo=SYD)
    assert deadlines["progress_report"].due_at == datetime(2026, 4, 17, 23, 59, tzinfo=SYD)
    assert "s128" in deadlines["notify_accc"].description


def test_recall_progress_report_clamps_month_end_and_skips_weekend() -> None:
    action = datetime(2027, 1, 29, 10, tzinfo=SYD)  # Friday
    published = datetime(2027, 1, 31, 8, tzinfo=SYD)
    deadlines = {d.kind: d.due_at for d in recall_deadlines(action, published, "NSW")}
    assert deadlines["notify_accc"] == datetime(2027, 2, 1, 23, 59, tzinfo=SYD)  # Sun -> Mon
    assert deadlines["overseas_notices"] == datetime(2027, 2, 8, 23, 59, tzinfo=SYD)  # Mon 8 Feb
    # 31 Jan + one month = 28 Feb 2027, a Sunday -> Monday 1 March
    assert deadlines["progress_report"] == datetime(2027, 3, 1, 23, 59, tzinfo=SYD)


def test_recall_without_publication_has_no_progress_report() -> None:
    kinds = [d.kind for d in recall_deadlines(datetime(2026, 3, 16, 10, tzinfo=SYD), None)]
    assert kinds == ["notify_accc", "overseas_notices"]


def test_reminder_times() -> None:
    due = datetime(2026, 3, 18, 23, 59, tzinfo=SYD)
    assert reminder_times(due) == [
        datetime(2026, 3, 17, 23, 59, tzinfo=SYD),
        datetime(2026, 3, 18, 19, 59, tzinfo=SYD),
    ]


def test_reminder_times_across_daylight_saving_end() -> None:
    # Daylight saving ends 3 am Sunday 5 April 2026 in Sydney: 24 elapsed hours before
    # 11:59 pm Sunday is 12:59 am Sunday (the wall clock only goes back 23 hours).
    due = datetime(2026, 4, 5, 23, 59, tzinfo=SYD)
    first, second = reminder_times(due)
    assert due.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=24)
    assert (first.year, first.month, first.day, first.hour, first.minute) == (2026, 4, 5, 0, 59)
    assert first.utcoffset() == timedelta(hours=11)
    assert (second.hour, second.minute) == (19, 59)

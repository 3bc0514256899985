"""The nudge calendar: owner's timezone, working days, holidays, DST, snooze, reassignment."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows.nudges import (
    ItemSchedule,
    NudgePolicy,
    classify,
    next_nudge_at,
    planned_nudges,
    snooze_until,
)

POLICY = NudgePolicy()
SYD, PER, AKL = (
    ZoneInfo("Australia/Sydney"),
    ZoneInfo("Australia/Perth"),
    ZoneInfo("Pacific/Auckland"),
)
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


def item(due: date, tz: str | None = "Australia/Sydney", **kw) -> ItemSchedule:
    return ItemSchedule(
        item_id=7,
        due_date=due,
        status=kw.pop("status", "open"),
        owner_tz=tz,
        assigned_at=kw.pop("assigned_at", LONG_AGO),
        **kw,
    )


def plan(i: ItemSchedule, days: int = 30, policy: NudgePolicy = POLICY) -> list[tuple[str, str]]:
    start = datetime.combine(i.due_date - timedelta(days=10), datetime.min.time(), tzinfo=UTC)
    return [
        (n.kind, n.at.isoformat())
        for n in planned_nudges(i, policy, start, start + timedelta(days=days))
    ]


def test_a_week_of_nudges_in_sydney_summer_time() -> None:
    # Due Friday 4 Dec 2026; Sydney is UTC+11 in December, so 09:00 is 22:00 UTC the day before.
    assert plan(item(date(2026, 12, 4)), days=22) == [
        ("due_soon", "2026-12-01T22:00:00+00:00"),  # Wed 2 Dec, 2 working days before
        ("due_today", "2026-12-03T22:00:00+00:00"),  # Fri 4 Dec
        ("overdue", "2026-12-06T22:00:00+00:00"),  # Mon 7 Dec
        ("escalation", "2026-12-08T22:00:00+00:00"),  # Wed 9 Dec, 3 working days late
        ("overdue", "2026-12-08T22:00:00+00:00"),  # Wed 9 Dec, every 2 working days
        ("overdue", "2026-12-10T22:00:00+00:00"),
        ("overdue", "2026-12-14T22:00:00+00:00"),  # skips the weekend
    ]


def test_owner_timezone_on_the_other_side_of_midnight_utc() -> None:
    due = date(2026, 12, 4)
    syd = planned_nudges(item(due), POLICY, LONG_AGO, datetime(2026, 12, 5, tzinfo=UTC))
    per = planned_nudges(
        item(due, "Australia/Perth"), POLICY, LONG_AGO, datetime(2026, 12, 5, tzinfo=UTC)
    )
    akl = planned_nudges(
        item(due, "Pacific/Auckland"), POLICY, LONG_AGO, datetime(2026, 12, 5, tzinfo=UTC)
    )
    assert [n.at.astimezone(SYD).date() for n in syd] == [date(2026, 12, 2), date(2026, 12, 4)]
    assert [n.at.isoformat() for n in per] == [
        "2026-12-02T01:00:00+00:00",
        "2026-12-04T01:00:00+00:00",
    ]
    assert [n.at.isoformat() for n in akl] == [
        "2026-12-01T20:00:00+00:00",
        "2026-12-03T20:00:00+00:00",
    ]
    assert all(
        n.at.astimezone(tz).hour == 9 for ns, tz in ((syd, SYD), (per, PER), (akl, AKL)) for n in ns
    )


@pytest.mark.parametrize(
    ("due", "utc_hour"),
    [
        (date(2026, 10, 2), 23),  # before DST starts on 4 Oct: AEST, UTC+10
        (date(2026, 10, 6), 22),  # after: AEDT, UTC+11
        (date(2027, 4, 2), 22),  # before DST ends on 4 Apr
        (date(2027, 4, 6), 23),
    ],
)
def test_daylight_saving_keeps_nine_oclock_local(due: date, utc_hour: int) -> None:
    today = [
        n
        for n in planned_nudges(item(due), POLICY, LONG_AGO, datetime(2027, 6, 1, tzinfo=UTC))
        if n.kind == "due_today"
    ]
    assert today[0].at.astimezone(SYD).hour == 9
    assert today[0].at.hour == utc_hour


def test_a_weekend_due_date_has_no_due_today() -> None:
    kinds = plan(item(date(2026, 12, 5)), days=19)  # Saturday
    assert ("due_today", "2026-12-04T22:00:00+00:00") not in kinds
    assert kinds[1] == ("overdue", "2026-12-06T22:00:00+00:00")  # Monday 7 Dec


def test_public_holidays_are_skipped() -> None:
    # Due Thursday 24 Dec 2026: Christmas (Fri) and Boxing Day's substitute (Mon 28) are holidays.
    kinds = plan(item(date(2026, 12, 24)), days=22)
    assert ("overdue", "2026-12-28T22:00:00+00:00") in kinds  # Tue 29 Dec, first working day
    assert not any(at.startswith(("2026-12-24T22", "2026-12-27T22")) for _, at in kinds)


def test_done_and_cancelled_items_get_nothing() -> None:
    for status in ("done", "cancelled"):
        i = item(date(2026, 12, 4), status=status)
        assert plan(i) == []
        assert next_nudge_at(i, POLICY, LONG_AGO) is None


def test_snooze_drops_owner_nudges_until_then_but_not_escalation() -> None:
    until = datetime(2026, 12, 10, 22, tzinfo=UTC)  # Fri 11 Dec 09:00 Sydney
    kinds = plan(item(date(2026, 12, 4), snoozed_until=until), days=22)
    assert kinds[:3] == [
        ("escalation", "2026-12-08T22:00:00+00:00"),
        ("overdue", "2026-12-10T22:00:00+00:00"),
        ("snoozed", "2026-12-10T22:00:00+00:00"),
    ]


def test_a_new_owner_is_not_sent_what_fell_due_before() -> None:
    assigned = datetime(2026, 12, 7, 23, tzinfo=UTC)
    kinds = plan(item(date(2026, 12, 4), assigned_at=assigned), days=17)
    assert kinds == [
        ("escalation", "2026-12-08T22:00:00+00:00"),  # Mon 7 Dec's overdue is gone
        ("overdue", "2026-12-08T22:00:00+00:00"),
        ("overdue", "2026-12-10T22:00:00+00:00"),
    ]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("1_working_day", "2026-12-06T22:00:00+00:00"),  # Friday → Monday 09:00
        ("1_week", "2026-12-10T22:00:00+00:00"),  # Fri 11 Dec 09:00
        (date(2026, 12, 25), "2026-12-28T22:00:00+00:00"),  # Christmas → Tue 29 Dec
    ],
)
def test_snooze_choices(choice, expected: str) -> None:
    now = datetime(2026, 12, 4, 3, tzinfo=UTC)  # Friday afternoon in Sydney
    assert snooze_until(choice, now, "Australia/Sydney", POLICY).isoformat() == expected


def test_identities_are_stable() -> None:
    i = item(date(2026, 12, 4))
    first = [
        n.identity for n in planned_nudges(i, POLICY, LONG_AGO, datetime(2027, 1, 1, tzinfo=UTC))
    ]
    again = [
        n.identity for n in planned_nudges(i, POLICY, LONG_AGO, datetime(2027, 1, 1, tzinfo=UTC))
    ]
    assert first == again and len(set(first)) == len(first)
    assert first[0] == (7, "due_soon", "2026-12-02")


def test_next_nudge_at_agrees_with_the_plan() -> None:
    rng = random.Random(2026)
    for _ in range(200):
        due = date(2026, 11, 1) + timedelta(days=rng.randrange(120))
        i = item(due, rng.choice(["Australia/Sydney", "Australia/Perth", "Pacific/Auckland"]))
        after = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(200_000))
        upcoming = planned_nudges(
            i, POLICY, after + timedelta(microseconds=1), after + timedelta(days=200)
        )
        assert next_nudge_at(i, POLICY, after) == upcoming[0].at


def test_catch_up_window() -> None:
    n = planned_nudges(
        item(date(2026, 12, 4)), POLICY, LONG_AGO, datetime(2026, 12, 3, tzinfo=UTC)
    )[0]
    assert classify(n, n.at - timedelta(seconds=1)) == "future"
    assert classify(n, n.at + timedelta(hours=24)) == "send"
    assert classify(n, n.at + timedelta(hours=24, seconds=1)) == "missed"

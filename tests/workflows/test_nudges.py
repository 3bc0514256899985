"""The nudge calendar (workflows.nudges) with fixed aware datetimes: the module reads no clock.

Times are asserted in UTC on purpose: 09:00 in Sydney is 22:00 or 23:00 UTC the day before
depending on daylight saving, 09:00 in Auckland is 20:00 or 21:00 UTC the day before, and 09:00
in Perth is 01:00 UTC the same day, so a wrong timezone or DST shift shows up as a wrong value.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import workflows.calendar as calendar
from workflows.calendar import add_working_days, is_working_day, working_days_between
from workflows.nudges import (
    ItemSchedule,
    NudgePolicy,
    PlannedNudge,
    classify,
    next_nudge_at,
    planned_nudges,
    snooze_until,
)

POLICY = NudgePolicy()
SYDNEY, PERTH, AUCKLAND = "Australia/Sydney", "Australia/Perth", "Pacific/Auckland"
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
FAR_AHEAD = datetime(2028, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


def utc(text: str) -> datetime:
    """'2026-12-01 22:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def item(
    due: date,
    tz: str | None = SYDNEY,
    *,
    status: str = "open",
    assigned_at: datetime = LONG_AGO,
    snoozed_until: datetime | None = None,
    item_id: int = 7,
) -> ItemSchedule:
    return ItemSchedule(
        item_id=item_id,
        due_date=due,
        status=status,
        owner_tz=tz,
        assigned_at=assigned_at,
        snoozed_until=snoozed_until,
    )


def plan(
    i: ItemSchedule,
    start: datetime = LONG_AGO,
    end: datetime | None = None,
    policy: NudgePolicy = POLICY,
) -> list[tuple[str, str, datetime]]:
    """(kind, occurrence, at) for the nudges up to two weeks after the due date by default."""
    if end is None:
        end = datetime.combine(i.due_date + timedelta(days=14), time(), tzinfo=UTC)
    return [(n.kind, n.occurrence, n.at) for n in planned_nudges(i, policy, start, end)]


# --- the basic schedule ------------------------------------------------------------------


def test_a_sydney_owner_in_summer_time() -> None:
    # Due Friday 4 Dec 2026. Sydney is UTC+11 in December: 09:00 is 22:00 UTC the day before.
    assert plan(item(date(2026, 12, 4)), end=utc("2026-12-16 00:00")) == [
        ("due_soon", "2026-12-02", utc("2026-12-01 22:00")),  # Wed: 2 working days before
        ("due_today", "2026-12-04", utc("2026-12-03 22:00")),  # Fri
        ("overdue", "2026-12-07", utc("2026-12-06 22:00")),  # Mon: first working day after
        ("escalation", "2026-12-09", utc("2026-12-08 22:00")),  # Wed: 3 working days late
        ("overdue", "2026-12-09", utc("2026-12-08 22:00")),  # every 2 working days
        ("overdue", "2026-12-11", utc("2026-12-10 22:00")),
        ("overdue", "2026-12-15", utc("2026-12-14 22:00")),  # Fri + 2 skips the weekend
    ]


def test_perth_and_auckland_owners_either_side_of_midnight_utc() -> None:
    due = date(2026, 12, 4)
    end = utc("2026-12-08 00:00")
    # Perth (UTC+8, no DST): 09:00 is 01:00 UTC on the same date.
    assert plan(item(due, PERTH), end=end) == [
        ("due_soon", "2026-12-02", utc("2026-12-02 01:00")),
        ("due_today", "2026-12-04", utc("2026-12-04 01:00")),
        ("overdue", "2026-12-07", utc("2026-12-07 01:00")),
    ]
    # Auckland (UTC+13 in December): 09:00 is 20:00 UTC the day before.
    assert plan(item(due, AUCKLAND), end=end) == [
        ("due_soon", "2026-12-02", utc("2026-12-01 20:00")),
        ("due_today", "2026-12-04", utc("2026-12-03 20:00")),
        ("overdue", "2026-12-07", utc("2026-12-06 20:00")),
    ]


def test_each_nudge_is_nine_oclock_local_for_every_owner() -> None:
    for tz in (SYDNEY, PERTH, AUCKLAND):
        nudges = planned_nudges(item(date(2026, 12, 4), tz), POLICY, LONG_AGO, FAR_AHEAD)[:40]
        assert {n.at.astimezone(ZoneInfo(tz)).time() for n in nudges} == {time(9)}
        assert {n.at.tzinfo for n in nudges} == {UTC}


def test_unknown_or_missing_timezone_uses_the_workspace_default() -> None:
    due = date(2026, 12, 4)
    sydney = plan(item(due, SYDNEY))
    assert plan(item(due, None)) == sydney
    assert plan(item(due, "Mars/Olympus_Mons")) == sydney
    assert plan(item(due, "")) == sydney
    perth_default = NudgePolicy(default_tz=PERTH)
    assert plan(item(due, None), policy=perth_default)[0] == (
        "due_soon",
        "2026-12-02",
        utc("2026-12-02 01:00"),
    )


# --- daylight saving ---------------------------------------------------------------------


def test_nine_oclock_stays_local_when_sydney_daylight_saving_starts() -> None:
    # DST starts Sunday 4 Oct 2026 (UTC+10 -> UTC+11); Monday 5 Oct is Labour Day in NSW.
    assert plan(item(date(2026, 10, 2)), end=utc("2026-10-13 00:00")) == [
        ("due_soon", "2026-09-30", utc("2026-09-29 23:00")),  # AEST
        ("due_today", "2026-10-02", utc("2026-10-01 23:00")),  # Fri, AEST
        ("overdue", "2026-10-06", utc("2026-10-05 22:00")),  # Tue, AEDT; Labour Day skipped
        ("escalation", "2026-10-08", utc("2026-10-07 22:00")),
        ("overdue", "2026-10-08", utc("2026-10-07 22:00")),
        ("overdue", "2026-10-12", utc("2026-10-11 22:00")),
    ]


def test_nine_oclock_stays_local_when_sydney_daylight_saving_ends() -> None:
    # DST ends Sunday 4 Apr 2027 (UTC+11 -> UTC+10); Easter Monday was 29 Mar.
    assert plan(item(date(2027, 4, 1)), end=utc("2027-04-09 00:00")) == [
        ("due_soon", "2027-03-30", utc("2027-03-29 22:00")),  # Tue, Easter Monday skipped
        ("due_today", "2027-04-01", utc("2027-03-31 22:00")),  # AEDT
        ("overdue", "2027-04-02", utc("2027-04-01 22:00")),  # Fri, AEDT
        ("escalation", "2027-04-06", utc("2027-04-05 23:00")),  # Tue, AEST
        ("overdue", "2027-04-06", utc("2027-04-05 23:00")),
        ("overdue", "2027-04-08", utc("2027-04-07 23:00")),
    ]


def test_perth_has_no_daylight_saving_while_sydney_and_auckland_do() -> None:
    days = [date(2026, 10, 2), date(2026, 10, 6)]  # before and after Sydney's change
    for tz, hours in ((SYDNEY, [23, 22]), (PERTH, [1, 1]), (AUCKLAND, [20, 20])):
        got = [
            next(
                n.at.hour
                for n in planned_nudges(item(d, tz), POLICY, LONG_AGO, FAR_AHEAD)
                if n.kind == "due_today"
            )
            for d in days
        ]
        assert got == hours, tz  # Auckland's DST began 27 Sep 2026, before both


# --- weekends and holidays ---------------------------------------------------------------


def test_a_saturday_due_date_has_no_due_today_and_monday_is_overdue() -> None:
    assert plan(item(date(2026, 12, 5)), end=utc("2026-12-10 00:00")) == [
        ("due_soon", "2026-12-03", utc("2026-12-02 22:00")),  # Thu: 2 working days before
        ("overdue", "2026-12-07", utc("2026-12-06 22:00")),  # Mon
        ("escalation", "2026-12-09", utc("2026-12-08 22:00")),  # Mon, Tue, Wed
        ("overdue", "2026-12-09", utc("2026-12-08 22:00")),
    ]


def test_with_one_due_soon_day_a_weekend_due_date_is_due_soon_on_friday() -> None:
    policy = NudgePolicy(due_soon_days=1)
    assert plan(item(date(2026, 12, 6)), end=utc("2026-12-07 00:00"), policy=policy) == [
        ("due_soon", "2026-12-04", utc("2026-12-03 22:00")),
        ("overdue", "2026-12-07", utc("2026-12-06 22:00")),
    ]


def test_christmas_boxing_day_substitute_and_new_year_are_skipped() -> None:
    # Due Thu 24 Dec 2026: Fri 25 Christmas, Mon 28 Boxing Day (observed), Fri 1 Jan.
    assert plan(item(date(2026, 12, 24)), end=utc("2027-01-07 00:00")) == [
        ("due_soon", "2026-12-22", utc("2026-12-21 22:00")),
        ("due_today", "2026-12-24", utc("2026-12-23 22:00")),
        ("overdue", "2026-12-29", utc("2026-12-28 22:00")),  # Tue
        ("escalation", "2026-12-31", utc("2026-12-30 22:00")),  # Tue, Wed, Thu
        ("overdue", "2026-12-31", utc("2026-12-30 22:00")),
        ("overdue", "2027-01-05", utc("2027-01-04 22:00")),  # Thu + 2: Mon 4, Tue 5
        ("overdue", "2027-01-07", utc("2027-01-06 22:00")),
    ]


def test_due_on_australia_day() -> None:
    # Tue 26 Jan 2027 is a public holiday: no due_today, Wednesday is the first overdue.
    assert plan(item(date(2027, 1, 26)), end=utc("2027-02-02 00:00")) == [
        ("due_soon", "2027-01-22", utc("2027-01-21 22:00")),  # Fri: Mon 25, Fri 22
        ("overdue", "2027-01-27", utc("2027-01-26 22:00")),
        ("escalation", "2027-01-29", utc("2027-01-28 22:00")),
        ("overdue", "2027-01-29", utc("2027-01-28 22:00")),
        ("overdue", "2027-02-02", utc("2027-02-01 22:00")),  # Mon 1 Feb, Tue 2 Feb
    ]


def test_the_configured_state_decides_the_holidays() -> None:
    # Mon 1 Jun 2026 is Western Australia Day, a working day in NSW.
    due = date(2026, 5, 29)
    nsw = plan(item(due, PERTH), end=utc("2026-06-03 00:00"))
    wa = plan(item(due, PERTH), end=utc("2026-06-03 00:00"), policy=NudgePolicy(state="WA"))
    assert nsw[-1] == ("overdue", "2026-06-01", utc("2026-06-01 01:00"))
    assert wa[-1] == ("overdue", "2026-06-02", utc("2026-06-02 01:00"))


# --- policy settings ---------------------------------------------------------------------


def test_policy_settings_change_the_schedule() -> None:
    policy = NudgePolicy(due_soon_days=0, overdue_every_days=1, escalate_after_days=0, hour=14)
    assert plan(item(date(2026, 12, 4)), end=utc("2026-12-10 00:00"), policy=policy) == [
        ("due_today", "2026-12-04", utc("2026-12-04 03:00")),  # 14:00 AEDT
        ("overdue", "2026-12-07", utc("2026-12-07 03:00")),
        ("overdue", "2026-12-08", utc("2026-12-08 03:00")),
        ("overdue", "2026-12-09", utc("2026-12-09 03:00")),
    ]


def test_overdue_continues_until_the_item_is_closed() -> None:
    i = item(date(2026, 12, 4))
    window = planned_nudges(i, POLICY, utc("2027-09-01 00:00"), utc("2027-09-15 00:00"))
    # September is AEST (UTC+10): 09:00 is 23:00 UTC the day before.
    assert [(n.kind, n.occurrence, n.at) for n in window] == [
        ("overdue", "2027-09-03", utc("2027-09-02 23:00")),  # 186 working days after Mon 7 Dec
        ("overdue", "2027-09-07", utc("2027-09-06 23:00")),
        ("overdue", "2027-09-09", utc("2027-09-08 23:00")),
        ("overdue", "2027-09-13", utc("2027-09-12 23:00")),
        ("overdue", "2027-09-15", utc("2027-09-14 23:00")),
    ]
    # The series is counted from the due date, not from the window's start.
    first = add_working_days(date(2026, 12, 4), 1, "NSW")
    assert all(
        working_days_between(first, date.fromisoformat(n.occurrence), "NSW") % 2 == 0
        for n in window
    )


# --- closed items, creation and reassignment ---------------------------------------------


@pytest.mark.parametrize("status", ["done", "cancelled"])
def test_done_and_cancelled_items_get_no_nudges(status: str) -> None:
    i = item(date(2026, 12, 4), status=status, snoozed_until=utc("2026-12-10 22:00"))
    assert planned_nudges(i, POLICY, LONG_AGO, FAR_AHEAD) == []
    assert next_nudge_at(i, POLICY, LONG_AGO) is None


@pytest.mark.parametrize("status", ["open", "in_progress", "blocked"])
def test_open_statuses_are_nudged(status: str) -> None:
    i = item(date(2026, 12, 4), status=status)
    assert next_nudge_at(i, POLICY, LONG_AGO) == utc("2026-12-01 22:00")


def test_an_item_created_after_its_due_soon_moment_skips_it() -> None:
    created = utc("2026-12-02 23:00")  # Thu 3 Dec 10:00 Sydney, due Friday
    assert plan(item(date(2026, 12, 4), assigned_at=created), end=utc("2026-12-08 00:00")) == [
        ("due_today", "2026-12-04", utc("2026-12-03 22:00")),
        ("overdue", "2026-12-07", utc("2026-12-06 22:00")),
    ]


def test_a_nudge_at_the_moment_of_assignment_is_kept() -> None:
    assigned = utc("2026-12-03 22:00")
    assert plan(item(date(2026, 12, 4), assigned_at=assigned))[0] == (
        "due_today",
        "2026-12-04",
        assigned,
    )


def test_reassignment_the_new_owner_gets_only_what_falls_after() -> None:
    due = date(2026, 12, 4)
    moved = utc("2026-12-07 23:00")  # Tue 8 Dec 10:00 Sydney: Mon 7's overdue has gone out
    old = planned_nudges(item(due, SYDNEY), POLICY, LONG_AGO, moved)
    new = planned_nudges(
        item(due, PERTH, assigned_at=moved), POLICY, LONG_AGO, utc("2026-12-12 00:00")
    )
    assert [(n.kind, n.occurrence, n.at) for n in new] == [
        ("escalation", "2026-12-09", utc("2026-12-09 01:00")),  # Wed 09:00 Perth
        ("overdue", "2026-12-09", utc("2026-12-09 01:00")),
        ("overdue", "2026-12-11", utc("2026-12-11 01:00")),
    ]
    # Together the two owners' schedules never repeat an identity.
    ids = [n.identity for n in old + new]
    assert len(ids) == len(set(ids)) == 6


def test_an_escalation_before_the_assignment_is_not_replayed() -> None:
    moved = utc("2026-12-09 23:00")  # Thu 10 Dec, after Wednesday's escalation
    kinds = {
        n.kind
        for n in planned_nudges(
            item(date(2026, 12, 4), assigned_at=moved), POLICY, LONG_AGO, FAR_AHEAD
        )[:30]
    }
    assert kinds == {"overdue"}


# --- snooze ------------------------------------------------------------------------------


def test_snooze_drops_owner_nudges_before_it_and_adds_one_at_its_time() -> None:
    until = utc("2026-12-08 03:30")  # Tue 8 Dec 14:30 Sydney
    assert plan(item(date(2026, 12, 4), snoozed_until=until), end=utc("2026-12-10 00:00")) == [
        ("snoozed", "2026-12-08T03:30Z", until),
        ("escalation", "2026-12-09", utc("2026-12-08 22:00")),
        ("overdue", "2026-12-09", utc("2026-12-08 22:00")),  # the series is not shifted
    ]


def test_snooze_does_not_suppress_escalation_or_move_the_due_date() -> None:
    until = utc("2026-12-10 22:00")  # Fri 11 Dec 09:00 Sydney
    snoozed = plan(item(date(2026, 12, 4), snoozed_until=until), end=utc("2026-12-16 00:00"))
    assert snoozed == [
        ("escalation", "2026-12-09", utc("2026-12-08 22:00")),  # still Wednesday
        ("overdue", "2026-12-11", utc("2026-12-10 22:00")),  # at the same moment: kept
        ("snoozed", "2026-12-10T22:00Z", until),
        ("overdue", "2026-12-15", utc("2026-12-14 22:00")),
    ]


def test_a_snooze_from_before_the_assignment_is_not_sent_to_the_new_owner() -> None:
    i = item(
        date(2026, 12, 4),
        snoozed_until=utc("2026-12-06 22:00"),
        assigned_at=utc("2026-12-07 23:00"),
    )
    assert [n.kind for n in planned_nudges(i, POLICY, LONG_AGO, utc("2026-12-09 00:00"))] == [
        "escalation",
        "overdue",
    ]


FRIDAY_AFTERNOON = utc("2026-12-04 03:00")  # Fri 4 Dec, 14:00 Sydney, 11:00 Perth


@pytest.mark.parametrize(
    ("choice", "tz", "expected"),
    [
        ("1_working_day", SYDNEY, utc("2026-12-06 22:00")),  # Mon 7 Dec 09:00 Sydney
        ("1_working_day", PERTH, utc("2026-12-07 01:00")),  # Mon 7 Dec 09:00 Perth
        ("1_working_day", AUCKLAND, utc("2026-12-06 20:00")),  # Mon 7 Dec 09:00 Auckland
        ("1_week", SYDNEY, utc("2026-12-10 22:00")),  # Fri 11 Dec
        (date(2026, 12, 9), SYDNEY, utc("2026-12-08 22:00")),  # a working day: as chosen
        (date(2026, 12, 25), SYDNEY, utc("2026-12-28 22:00")),  # Christmas -> Tue 29 Dec
        (date(2026, 12, 5), PERTH, utc("2026-12-07 01:00")),  # Saturday -> Monday
        (date(2026, 12, 4), SYDNEY, utc("2026-12-06 22:00")),  # today, 09:00 has passed -> Mon
        ("1_working_day", "Nowhere/Special", utc("2026-12-06 22:00")),  # default tz
    ],
)
def test_snooze_choices(choice, tz: str, expected: datetime) -> None:
    assert snooze_until(choice, FRIDAY_AFTERNOON, tz, POLICY) == expected


def test_snooze_edge_cases_around_local_midnight_and_holidays() -> None:
    # Sun 6 Dec 09:00 in Auckland is still Saturday in UTC: one working day is Monday there.
    assert snooze_until("1_working_day", utc("2026-12-05 20:00"), AUCKLAND, POLICY) == utc(
        "2026-12-06 20:00"
    )
    # A week from Fri 18 Dec is Christmas: Boxing Day's substitute follows, so Tue 29 Dec.
    assert snooze_until("1_week", utc("2026-12-18 03:00"), SYDNEY, POLICY) == utc(
        "2026-12-28 22:00"
    )
    # Today, chosen before the working hour: today at 09:00 (Thu 3 Dec 07:00 Sydney).
    assert snooze_until(date(2026, 12, 3), utc("2026-12-02 20:00"), SYDNEY, POLICY) == utc(
        "2026-12-02 22:00"
    )
    # One working day from the Thursday before Australia Day (Mon 25, Tue 26 holiday) is Fri.
    assert snooze_until("1_working_day", utc("2027-01-21 03:00"), SYDNEY, POLICY) == utc(
        "2027-01-21 22:00"
    )
    # Across the DST change: Fri 2 Oct AEST -> Tue 6 Oct AEDT (Mon 5 is Labour Day).
    assert snooze_until("1_working_day", utc("2026-10-02 03:00"), SYDNEY, POLICY) == utc(
        "2026-10-05 22:00"
    )


def test_snooze_rejects_unknown_choices_and_naive_times() -> None:
    with pytest.raises(ValueError, match="unknown snooze choice"):
        snooze_until("forever", FRIDAY_AFTERNOON, SYDNEY, POLICY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="aware"):
        snooze_until("1_week", FRIDAY_AFTERNOON.replace(tzinfo=None), SYDNEY, POLICY)


def test_the_snooze_time_becomes_the_next_nudge() -> None:
    until = snooze_until("1_week", FRIDAY_AFTERNOON, SYDNEY, POLICY)
    i = item(date(2026, 12, 4), snoozed_until=until)
    assert next_nudge_at(i, POLICY, FRIDAY_AFTERNOON) == utc("2026-12-08 22:00")  # escalation
    assert next_nudge_at(i, POLICY, utc("2026-12-08 22:00")) == until


# --- identity ----------------------------------------------------------------------------


def test_identities_are_stable_and_unique() -> None:
    i = item(date(2026, 12, 4), snoozed_until=utc("2026-12-08 03:30"))
    first = planned_nudges(i, POLICY, LONG_AGO, FAR_AHEAD)
    again = planned_nudges(i, POLICY, LONG_AGO, FAR_AHEAD)
    assert [n.identity for n in first] == [n.identity for n in again]
    assert first == again
    assert len({n.identity for n in first}) == len(first)
    assert first[0].identity == (7, "snoozed", "2026-12-08T03:30Z")
    assert first[1].identity == (7, "escalation", "2026-12-09")


def test_identities_do_not_depend_on_the_owners_timezone_or_the_window() -> None:
    due = date(2026, 12, 4)
    ids = {
        tz: [n.identity for n in planned_nudges(item(due, tz), POLICY, LONG_AGO, FAR_AHEAD)]
        for tz in (SYDNEY, PERTH, AUCKLAND)
    }
    assert ids[SYDNEY] == ids[PERTH] == ids[AUCKLAND]
    # Cutting the range into pieces gives the same nudges as one long call.
    cuts = [
        LONG_AGO,
        utc("2026-12-03 22:00"),
        utc("2026-12-08 22:00"),
        utc("2027-02-01 07:13"),
        FAR_AHEAD,
    ]
    pieces = [
        n
        for a, b in zip(cuts, cuts[1:], strict=False)
        for n in planned_nudges(item(due), POLICY, a, b)
    ]
    assert pieces == planned_nudges(item(due), POLICY, LONG_AGO, FAR_AHEAD)


def test_planned_nudges_are_frozen() -> None:
    n = planned_nudges(item(date(2026, 12, 4)), POLICY, LONG_AGO, FAR_AHEAD)[0]
    assert n == PlannedNudge(7, "due_soon", "2026-12-02", utc("2026-12-01 22:00"))
    with pytest.raises(AttributeError):
        n.kind = "overdue"  # type: ignore[misc]


# --- next_nudge_at -----------------------------------------------------------------------


def test_next_nudge_at_is_strictly_after() -> None:
    i = item(date(2026, 12, 4))
    assert next_nudge_at(i, POLICY, utc("2026-12-01 21:59")) == utc("2026-12-01 22:00")
    assert next_nudge_at(i, POLICY, utc("2026-12-01 22:00")) == utc("2026-12-03 22:00")
    assert next_nudge_at(i, POLICY, utc("2026-12-01 22:00") - US) == utc("2026-12-01 22:00")
    # Years overdue, still one nudge every two working days.
    assert next_nudge_at(i, POLICY, utc("2030-06-03 00:00")) is not None


def test_next_nudge_at_agrees_with_planned_nudges_for_random_items() -> None:
    rng = random.Random(20261204)
    zones = [SYDNEY, PERTH, AUCKLAND, None, "Bogus/Zone"]
    for _ in range(400):
        due = date(2026, 9, 1) + timedelta(days=rng.randrange(500))
        policy = NudgePolicy(
            due_soon_days=rng.randrange(4),
            overdue_every_days=rng.randrange(1, 6),
            escalate_after_days=rng.randrange(6),
            hour=rng.choice([7, 9, 13]),
            state=rng.choice(["NSW", "VIC", "WA"]),
        )
        base = datetime.combine(due, time(), tzinfo=UTC)
        snoozed = (
            base + timedelta(minutes=rng.randrange(-20_000, 30_000)) if rng.random() < 0.4 else None
        )
        i = item(
            due,
            rng.choice(zones),
            assigned_at=base - timedelta(minutes=rng.randrange(-10_000, 40_000)),
            snoozed_until=snoozed,
        )
        after = base + timedelta(minutes=rng.randrange(-20_000, 80_000), seconds=rng.random())
        upcoming = planned_nudges(i, policy, after + US, after + timedelta(days=60))
        assert upcoming, (i, policy, after)
        assert next_nudge_at(i, policy, after) == upcoming[0].at, (i, policy, after)
        # and exactly at a nudge's time, the next one is strictly later
        later = [n.at for n in upcoming if n.at > upcoming[0].at]
        if later:
            assert next_nudge_at(i, policy, upcoming[0].at) == later[0]


def reference_plan(
    i: ItemSchedule, policy: NudgePolicy, start: datetime, end: datetime
) -> list[tuple[str, str, datetime]]:
    """The rules written the slow, obvious way: every local day, calendar.py's counters."""
    if i.status in ("done", "cancelled"):
        return []
    try:
        zone = ZoneInfo(i.owner_tz or policy.default_tz)
    except (ValueError, KeyError):
        zone = ZoneInfo(policy.default_tz)
    state, out = policy.state, []
    first = add_working_days(i.due_date, 1, state)
    day = i.due_date - timedelta(days=policy.due_soon_days * 3 + 10)
    while True:
        at = datetime.combine(day, time(policy.hour), tzinfo=zone).astimezone(UTC)
        if at >= end:
            break
        if is_working_day(day, state) and at >= start and at >= i.assigned_at:
            owner_ok = i.snoozed_until is None or at >= i.snoozed_until
            # due soon: exactly N working days from this one up to the day before the due date
            if (
                owner_ok
                and policy.due_soon_days
                and working_days_between(
                    day - timedelta(days=1), i.due_date - timedelta(days=1), state
                )
                == policy.due_soon_days
            ):
                out.append(("due_soon", day.isoformat(), at))
            if owner_ok and day == i.due_date:
                out.append(("due_today", day.isoformat(), at))
            if (
                owner_ok
                and day >= first
                and working_days_between(first, day, state) % max(1, policy.overdue_every_days) == 0
            ):
                out.append(("overdue", day.isoformat(), at))
            if (
                policy.escalate_after_days
                and working_days_between(i.due_date, day, state) == policy.escalate_after_days
            ):
                out.append(("escalation", day.isoformat(), at))
        day += timedelta(days=1)
    s = i.snoozed_until
    if s is not None and start <= s < end and s >= i.assigned_at:
        out.append(("snoozed", s.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ"), s))
    return sorted(out, key=lambda t: (t[2], t[0]))


def test_planned_nudges_match_the_slow_reference_for_random_items_and_windows() -> None:
    rng = random.Random(7)
    for _ in range(120):
        due = date(2026, 6, 1) + timedelta(days=rng.randrange(400))
        policy = NudgePolicy(
            due_soon_days=rng.randrange(4),
            overdue_every_days=rng.randrange(1, 5),
            escalate_after_days=rng.randrange(5),
            state=rng.choice(["NSW", "QLD"]),
        )
        base = datetime.combine(due, time(), tzinfo=UTC)
        i = item(
            due,
            rng.choice([SYDNEY, PERTH, AUCKLAND]),
            assigned_at=base + timedelta(hours=rng.randrange(-200, 100)),
            snoozed_until=base + timedelta(hours=rng.randrange(-50, 300))
            if rng.random() < 0.5
            else None,
        )
        start = base + timedelta(hours=rng.randrange(-300, 2000))
        end = start + timedelta(hours=rng.randrange(1, 1500))
        got = [(n.kind, n.occurrence, n.at) for n in planned_nudges(i, policy, start, end)]
        assert got == reference_plan(i, policy, start, end), (i, policy, start, end)


def test_a_long_overdue_item_costs_the_window_not_its_age(monkeypatch) -> None:
    """The overdue series jumps to the window: a week, eleven years after the due date, looks
    at a few days near each end, not at every day since."""
    i = item(date(2020, 3, 2))
    start, end = utc("2031-05-05 00:00"), utc("2031-05-12 00:00")
    planned_nudges(i, POLICY, start, end)  # warm the per-year holiday tables
    looked_at: list[date] = []
    real = calendar.holiday_name

    def counting(day: date, state: str = "NSW") -> str | None:
        looked_at.append(day)
        return real(day, state)

    monkeypatch.setattr(calendar, "holiday_name", counting)
    nudges = planned_nudges(i, POLICY, start, end)
    assert len(looked_at) < 60
    # near the due date (due soon, first overdue, escalation) or near the window, nothing between
    assert all(d < date(2020, 4, 1) or d > date(2031, 4, 1) for d in looked_at)
    monkeypatch.undo()
    first = add_working_days(i.due_date, 1, "NSW")
    days = [date.fromisoformat(n.occurrence) for n in nudges]
    assert {n.kind for n in nudges} == {"overdue"} and len(days) in (2, 3)
    assert [working_days_between(first, d, "NSW") % 2 for d in days] == [0] * len(days)
    assert [working_days_between(a, b, "NSW") for a, b in zip(days, days[1:], strict=False)] == [
        2
    ] * (len(days) - 1)
    assert all(n.at.astimezone(ZoneInfo(SYDNEY)).time() == time(9) for n in nudges)


# --- classify ----------------------------------------------------------------------------


def test_classify_at_the_catch_up_boundary() -> None:
    n = PlannedNudge(7, "overdue", "2026-12-07", utc("2026-12-06 22:00"))
    assert classify(n, n.at - US) == "future"
    assert classify(n, n.at) == "send"
    assert classify(n, n.at + timedelta(hours=24)) == "send"
    assert classify(n, n.at + timedelta(hours=24) + US) == "missed"
    assert classify(n, n.at + timedelta(hours=1), catch_up=timedelta(minutes=59)) == "missed"
    assert classify(n, n.at + timedelta(hours=1), catch_up=timedelta(hours=1)) == "send"
    # Same instant expressed in another zone: still exact.
    assert classify(n, n.at.astimezone(ZoneInfo(PERTH)) + timedelta(hours=24)) == "send"
    with pytest.raises(ValueError, match="aware"):
        classify(n, datetime(2026, 12, 7, 9))  # noqa: DTZ001 - the naive case under test


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 12, 1)  # noqa: DTZ001 - the naive case under test
    with pytest.raises(ValueError, match="aware"):
        planned_nudges(item(date(2026, 12, 4)), POLICY, naive, FAR_AHEAD)
    with pytest.raises(ValueError, match="aware"):
        next_nudge_at(item(date(2026, 12, 4)), POLICY, naive)
    with pytest.raises(ValueError, match="aware"):
        planned_nudges(item(date(2026, 12, 4), assigned_at=naive), POLICY, LONG_AGO, FAR_AHEAD)


# --- a sweep driven by next_nudge_at -----------------------------------------------------


def sweep(
    i: ItemSchedule,
    start: datetime,
    end: datetime,
    down: tuple[datetime, datetime] | None = None,
    tick: timedelta = timedelta(minutes=15),
) -> dict[tuple, tuple]:
    """What the nudge sweep does, in memory: a unique table keyed by identity, `stored` as the
    indexed next_nudge_at column, a sweep every `tick` except while the bot is down."""
    table: dict[tuple, tuple] = {}
    stored = next_nudge_at(i, POLICY, start)
    now = start
    while now < end:
        now += tick
        if down and down[0] <= now < down[1]:
            continue
        if stored is None or stored > now:
            continue
        for n in planned_nudges(i, POLICY, stored, now + US):
            table.setdefault(n.identity, (classify(n, now), now))
        stored = next_nudge_at(i, POLICY, now)
    return table


def test_a_sweep_sends_each_nudge_once_within_a_tick() -> None:
    i = item(date(2026, 12, 4), PERTH)
    start, end = utc("2026-11-25 00:00"), utc("2026-12-16 00:00")
    table = sweep(i, start, end)
    expected = planned_nudges(i, POLICY, start, end)
    assert list(table) == [n.identity for n in expected]
    assert all(table[n.identity] == ("send", n.at) for n in expected)  # on the hour, on time


def test_a_bot_down_for_days_sends_recent_nudges_and_records_old_ones_missed() -> None:
    i = item(date(2026, 12, 4))
    down = (utc("2026-12-01 00:00"), utc("2026-12-07 12:00"))  # back Mon 7 Dec 23:00 Sydney
    table = sweep(i, utc("2026-11-25 00:00"), utc("2026-12-10 00:00"), down)
    assert table == {
        (7, "due_soon", "2026-12-02"): ("missed", utc("2026-12-07 12:00")),
        (7, "due_today", "2026-12-04"): ("missed", utc("2026-12-07 12:00")),
        (7, "overdue", "2026-12-07"): ("send", utc("2026-12-07 12:00")),  # 14 h late
        (7, "escalation", "2026-12-09"): ("send", utc("2026-12-08 22:00")),
        (7, "overdue", "2026-12-09"): ("send", utc("2026-12-08 22:00")),
    }

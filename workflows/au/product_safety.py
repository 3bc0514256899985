"""Product safety deadlines: mandatory injury reports (ACL s131) and voluntary recalls (s128).

Sources: ACL (Competition and Consumer Act 2010, Sch 2) ss128, 131; productsafety.gov.au "How to
submit a mandatory report" (2 days, by 11:59 pm; a deadline on a weekend or public holiday moves
to the next business day; ACCC's table Mon->Wed ... Thu/Fri/Sat->Mon, Sun->Tue); Acts
Interpretation Act 1901 s36(2) (a last day on a weekend or holiday moves to the next working day).
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from workflows.calendar import AU_STATES, next_working_day

STATE_TIMEZONES: dict[str, str] = {
    "NSW": "Australia/Sydney",
    "VIC": "Australia/Melbourne",
    "QLD": "Australia/Brisbane",
    "SA": "Australia/Adelaide",
    "WA": "Australia/Perth",
    "TAS": "Australia/Hobart",
    "ACT": "Australia/Canberra",
    "NT": "Australia/Darwin",
}
DAY_END = time(23, 59)

Outcome = Literal["death", "serious_injury_or_illness", "other"]
Exemption = Literal[
    "not_caused_by_product", "tga", "apvma", "food_borne_illness", "coroner", "road_vehicle"
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
EXEMPTIONS: tuple[Exemption, ...] = get_args(Exemption)


def _zone(state: str) -> ZoneInfo:
    if state not in AU_STATES:
        raise ValueError(f"unknown Australian state {state!r}: use one of {', '.join(AU_STATES)}")
    return ZoneInfo(STATE_TIMEZONES[state])


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must include a time zone (got naive {value.isoformat()})")


def _due_end_of_day(day: date, state: str) -> datetime:
    """11:59 pm local on `day`, or on the next business day in `state` (productsafety.gov.au;
    Acts Interpretation Act 1901 s36(2))."""
    return datetime.combine(next_working_day(day, state), DAY_END, tzinfo=_zone(state))


def _days_after(start: datetime, days: int, state: str) -> datetime:
    _require_aware(start, "start")
    local_day = start.astimezone(_zone(state)).date()
    return _due_end_of_day(local_day + timedelta(days=days), state)


def report_due(aware_at: datetime, state: str = "NSW") -> datetime:
    """When a mandatory report is due: ACL s131(1) "within 2 days" of becoming aware, read as
    productsafety.gov.au "How to submit a mandatory report" does: 11:59 pm local time two days
    after the day of awareness, moved to the next business day in `state` when that is a
    weekend or public holiday (Mon->Wed, Tue->Thu, Wed->Fri, Thu/Fri/Sat->Mon, Sun->Tue)."""
    _require_aware(aware_at, "aware_at")
    return _days_after(aware_at, 2, state)


@dataclass(frozen=True)
class ReportStatus:
    """Where the report stands: due, submitted (date and ACCC reference) or not required (why)."""

    state: Literal["due", "submitted", "not_required"] = "due"
    submitted_on: date | None = None
    accc_reference: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Incident:
    """What the ACCC's mandatory report form asks for (ACL s131; productsafety.gov.au)."""

    product_name: str
    aware_at: datetime
    what_happened: str
    outcome: Outcome
    caused_or_may_have: bool
    model: str = ""
    batch_or_serial_numbers: tuple[str, ...] = ()
    supplier: str = ""
    where: str = ""
    exemption: Exemption | None = None
    actions_taken: str = ""
    status: ReportStatus = field(default_factory=ReportStatus)


_EXEMPTION_REASONS: dict[str, str] = {
    "not_caused_by_product": "It is clear the product did not cause it (ACL s131(2)(a)).",
    "tga": "Reportable to the TGA as therapeutic goods instead (ACL s131(2); Competition and "
    "Consumer Regulations 2010).",
    "apvma": "Reportable to the APVMA as an agricultural or veterinary chemical instead "
    "(ACL s131(2)).",
    "food_borne_illness": "Food-borne illness is reported to the health authorities instead "
    "(ACL s131(2)).",
    "coroner": "A death reportable to the coroner is not reported to the ACCC (ACL s131(2)).",
    "road_vehicle": "A road vehicle accident on a public road is reported under road laws "
    "instead (ACL s131(2)).",
}


def report_required(incident: Incident) -> tuple[bool, str]:
    """Whether ACL s131 requires a report to the ACCC, and why: only a death, serious injury or
    serious illness that the product caused or may have caused (including through foreseeable
    misuse, and overseas), unless clearly not caused by it or reportable under another law
    (s131(2))."""
    if incident.outcome == "other":
        return False, (
            "Only a death, serious injury or serious illness must be reported "
            "(ACL s131(1)); record it in your own incident log."
        )
    if incident.exemption is not None:
        return False, _EXEMPTION_REASONS[incident.exemption]
    if not incident.caused_or_may_have:
        return False, (
            "Not required only when it is clear the product did not cause it "
            "(ACL s131(2)(a)): record why you are sure."
        )
    return True, (
        "Report to the ACCC within 2 days of becoming aware (ACL s131(1)). A report "
        "is not an admission of liability (ACCC mandatory reporting guidance)."
    )


def validate_incident(incident: Incident, now: datetime) -> dict[str, str]:
    """Field -> message for a Slack modal, checking what s131 reporting needs: an aware time
    with a zone and not in the future, the product, what happened, and a status that matches."""
    _require_aware(now, "now")
    errors: dict[str, str] = {}
    if incident.aware_at.tzinfo is None or incident.aware_at.utcoffset() is None:
        errors["aware_at"] = "Give the date and time with a time zone."
    elif incident.aware_at > now:
        errors["aware_at"] = "The date of awareness can't be in the future."
    if not incident.product_name.strip():
        errors["product_name"] = "Name the product."
    if not incident.what_happened.strip():
        errors["what_happened"] = "Describe what happened."
    status = incident.status
    if status.state == "submitted":
        if status.submitted_on is None:
            errors["status"] = "Give the date the report was submitted."
        elif not status.accc_reference.strip():
            errors["status"] = "Give the ACCC reference number for the submitted report."
    elif status.state == "not_required":
        required, _ = report_required(incident)
        if required:
            errors["status"] = "A report is required for this incident (ACL s131)."
        elif not status.reason.strip():
            errors["status"] = "Say why a report is not required."
    return errors


@dataclass(frozen=True)
class Deadline:
    kind: str
    due_at: datetime
    description: str


def _one_month_after(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def recall_deadlines(
    recall_action_at: datetime, published_at: datetime | None, state: str = "NSW"
) -> list[Deadline]:
    """Deadlines of a voluntary recall (ACL s128; ACCC "Consumer product recall guidelines"):
    written notice to the ACCC (for the Minister) within 2 days of taking recall action
    (s128(2)); copies of notices given to overseas recipients within 10 days (s128), counted
    here from the recall action as the earliest possible notice; and a progress report one
    month after the recall is published. Each ends 11:59 pm local, moved off weekends and
    public holidays (Acts Interpretation Act 1901 s36(2))."""
    _require_aware(recall_action_at, "recall_action_at")
    deadlines = [
        Deadline(
            "notify_accc",
            _days_after(recall_action_at, 2, state),
            "Notify the ACCC in writing that you have taken recall action (ACL s128(2)).",
        ),
        Deadline(
            "overseas_notices",
            _days_after(recall_action_at, 10, state),
            "Send the ACCC copies of any recall notices given to people outside "
            "Australia (ACL s128).",
        ),
    ]
    if published_at is not None:
        _require_aware(published_at, "published_at")
        published_day = published_at.astimezone(_zone(state)).date()
        deadlines.append(
            Deadline(
                "progress_report",
                _due_end_of_day(_one_month_after(published_day), state),
                "Send the ACCC the first recall progress report, one month after publication "
                "(ACCC recall guidelines).",
            )
        )
    return deadlines


def reminder_times(due_at: datetime) -> list[datetime]:
    """Nudges 24 hours and 4 hours before a deadline, in elapsed time (so a daylight-saving
    change between them does not shift them), in the deadline's own zone."""
    _require_aware(due_at, "due_at")
    utc = due_at.astimezone(UTC)
    return [(utc - timedelta(hours=hours)).astimezone(due_at.tzinfo) for hours in (24, 4)]

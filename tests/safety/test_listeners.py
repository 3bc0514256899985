"""The product safety listeners (bot/safety/listeners.py), each called directly with mocks.

Recording an incident starts the ACCC clock (ACL s131) and alerts the safety channel; marking it
reported needs a submission date that is not in the future and the ACCC reference.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from unittest.mock import MagicMock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from helpers.slack_unit import (
    BOB,
    CHANNEL,
    block_actions,
    button,
    fake_client,
    make_runtime,
    opened_view,
    view_submission,
    view_text,
)
from sqlalchemy import Engine, select

from bot.app import effect_handlers
from bot.delivery.service import deliver_due
from bot.runtime import Runtime
from bot.safety import listeners, views
from storage.db import transaction
from storage.safety import SafetyIncident
from storage.types import utcnow

SYDNEY = "Australia/Sydney"
SAFETY_CHANNEL = "C0SAFETY"


@pytest.fixture
def safety_rt(unit_engine: Engine, client: MagicMock, rt: Runtime) -> Runtime:
    return make_runtime(unit_engine, client, POSTMORTEM_SAFETY_CHANNEL=SAFETY_CHANNEL)


def incidents(rt: Runtime) -> list[SafetyIncident]:
    with transaction(rt.sessions) as session:
        rows = list(session.scalars(select(SafetyIncident).order_by(SafetyIncident.id)))
        session.expunge_all()
        return rows


def report(rt: Runtime, ack: MagicMock, client: MagicMock, **values: Any) -> None:
    body, view = view_submission(views.report_modal(SYDNEY), values, user=BOB)
    listeners.report_submitted(ack=ack, body=body, view=view, client=client, rt=rt)


def a_serious_injury() -> dict[str, Any]:
    yesterday = datetime.now(ZoneInfo(SYDNEY)).date() - timedelta(days=1)
    return {
        "product_name": "Kettle K2",
        "aware_date": yesterday.isoformat(),
        "aware_time": "14:00",
        "what_happened": "The handle came off; a scald needing hospital treatment.",
        "outcome": "serious_injury_or_illness",
        "caused": "yes",
    }


def recorded_incident(rt: Runtime, ack: MagicMock, client: MagicMock) -> SafetyIncident:
    report(rt, ack, client, **a_serious_injury())
    client.reset_mock()
    ack.reset_mock()
    [row] = incidents(rt)
    return row


# --- report_submitted -----------------------------------------------------------------------


def test_an_incident_is_recorded_acked_then_announced(
    safety_rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    report(safety_rt, ack, client, **a_serious_injury())

    [row] = incidents(safety_rt)
    assert (row.product_name, row.outcome, row.report_status) == (
        "Kettle K2",
        "serious_injury_or_illness",
        "due",
    )
    assert row.report_due_at is not None and row.aware_tz == SYDNEY
    assert row.reported_by == BOB
    ack.assert_called_once_with()
    assert ack.slack_calls_before == [[]]
    client.chat_postMessage.assert_not_called()  # recorded with its claim: the outbox posts it
    deliver_due(safety_rt, effect_handlers(), utcnow() + timedelta(minutes=1))
    alert = client.chat_postMessage.call_args.kwargs
    assert alert["channel"] == SAFETY_CHANNEL
    assert "Kettle K2" in view_text(alert)


def test_an_incident_without_the_time_of_awareness_is_refused(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    values = a_serious_injury()
    del values["aware_time"]

    report(rt, ack, client, **values)

    ack.assert_called_once_with(
        response_action="errors", errors={"aware_date": "Give the date and time you became aware."}
    )
    assert incidents(rt) == []
    client.chat_postMessage.assert_not_called()


def test_an_incident_aware_in_the_future_is_refused(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    tomorrow = datetime.now(ZoneInfo(SYDNEY)).date() + timedelta(days=2)

    report(rt, ack, client, **{**a_serious_injury(), "aware_date": tomorrow.isoformat()})

    ack.assert_called_once_with(
        response_action="errors",
        errors={"aware_date": "The date of awareness can't be in the future."},
    )
    assert incidents(rt) == []


# --- mark_clicked / reported ----------------------------------------------------------------


def test_mark_reported_opens_the_form_for_that_incident(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    row = recorded_incident(rt, ack, client)
    body = block_actions(button(views.MARK_REPORTED, str(row.id)), user=BOB, channel=CHANNEL)

    listeners.mark_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    ack.assert_called_once_with()
    view = opened_view(client)
    assert view["callback_id"] == views.REPORTED_CALLBACK
    assert "*Kettle K2*" in view_text(view)


def mark_reported(rt: Runtime, ack: MagicMock, row: SafetyIncident, **values: Any) -> None:
    body, view = view_submission(
        views.reported_modal(row.id, row.product_name, SYDNEY), values, user=BOB
    )
    listeners.reported(ack=ack, body=body, view=view, rt=rt)


def test_a_submission_date_in_the_future_is_refused(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    row = recorded_incident(rt, ack, client)
    later = date.today() + timedelta(days=2)  # noqa: DTZ011 - the future in every timezone

    mark_reported(rt, ack, row, submitted_on=later.isoformat(), reference="ACCC-123")

    ack.assert_called_once_with(
        response_action="errors",
        errors={"submitted_on": "The submission date can't be in the future."},
    )
    [row] = incidents(rt)
    assert (row.report_status, row.submitted_on, row.accc_reference) == ("due", None, "")


def test_a_report_needs_its_date_and_the_accc_reference(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    row = recorded_incident(rt, ack, client)

    mark_reported(rt, ack, row, reference=" ")

    assert ack.call_args.kwargs["response_action"] == "errors"
    assert set(ack.call_args.kwargs["errors"]) == {"submitted_on", "reference"}
    assert incidents(rt)[0].report_status == "due"


def test_a_report_marked_submitted_is_kept(rt: Runtime, ack: MagicMock, client: MagicMock) -> None:
    row = recorded_incident(rt, ack, client)
    yesterday = date.today() - timedelta(days=1)  # noqa: DTZ011 - the past in every timezone

    mark_reported(rt, ack, row, submitted_on=yesterday.isoformat(), reference="ACCC-123")

    ack.assert_called_once_with()
    [row] = incidents(rt)
    assert (row.report_status, row.submitted_on, row.accc_reference) == (
        "submitted",
        yesterday,
        "ACCC-123",
    )


def test_todays_date_where_the_reporter_is_is_not_in_the_future(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    """At 8 am in Sydney the server (UTC) is still on the day before: the reporter's day counts."""
    row = recorded_incident(rt, ack, client)
    sydney_morning = datetime(2026, 1, 4, 21, 0, tzinfo=ZoneInfo("UTC"))  # Mon 5 Jan, 8 am

    with time_machine.travel(sydney_morning, tick=False):  # also makes the machine's zone UTC
        mark_reported(rt, ack, row, submitted_on="2026-01-06", reference="ACCC-123")
        mark_reported(rt, ack, row, submitted_on="2026-01-05", reference="ACCC-123")

    assert ack.call_args_list[0].kwargs["errors"] == {
        "submitted_on": "The submission date can't be in the future."
    }
    assert ack.call_args_list[1].kwargs == {}
    assert incidents(rt)[0].submitted_on == date(2026, 1, 5)


def test_the_mark_reported_form_carries_the_users_timezone(
    unit_engine: Engine, rt: Runtime, ack: MagicMock
) -> None:
    perth = fake_client(tz="Australia/Perth")
    perth_rt = make_runtime(unit_engine, perth)
    row = recorded_incident(perth_rt, MagicMock(), perth)
    body = block_actions(button(views.MARK_REPORTED, str(row.id)), user=BOB, channel=CHANNEL)

    listeners.mark_clicked(ack=ack, body=body, action=body["actions"][0], client=perth, rt=perth_rt)

    assert opened_view(perth)["private_metadata"] == f"{row.id} Australia/Perth"


def test_a_form_opened_before_the_timezone_rode_along_still_saves(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    row = recorded_incident(rt, ack, client)
    form = views.reported_modal(row.id, row.product_name, SYDNEY)
    body, view = view_submission(
        {**form, "private_metadata": str(row.id)},
        {"submitted_on": "2026-01-05", "reference": "ACCC-9"},
        user=BOB,
    )

    listeners.reported(ack=ack, body=body, view=view, rt=rt)

    ack.assert_called_once_with()
    assert incidents(rt)[0].accc_reference == "ACCC-9"

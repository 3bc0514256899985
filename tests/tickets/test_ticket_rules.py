"""The pure rules: parsing names the bad field, CES scales and directions, staleness, ClickUp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from helpers.ticket_hooks import clickup_task

from workflows.helpdesks import ADAPTERS
from workflows.tickets import (
    CesRules,
    TicketError,
    decode,
    easiness_1_to_7,
    is_low_ces,
    is_stale,
    parse_event,
)

BASE = {"ticket_id": "T-1", "owner": "U0ALICE", "opened_at": "2026-11-01T09:00:00+11:00"}


def error_of(data: object) -> TicketError:
    with pytest.raises(TicketError) as info:
        parse_event(data)
    return info.value


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"ticket_id": ...}, "ticket_id", "ticket_id is required"),
        ({"owner": "alice"}, "owner", "Slack user id"),
        ({"opened_at": "2026-11-01T09:00:00"}, "opened_at", "timezone"),
        ({"ces_score": "four"}, "ces_score", "number"),
        ({"ces_score": True}, "ces_score", "number"),
        ({"customer_type": "partner"}, "customer_type", "reseller"),
        ({"url": "help.example.com/t/1"}, "url", "http"),
        ({"closed_at": "2026-10-01T00:00:00+00:00"}, "closed_at", "before opened_at"),
        ({"ticket_id": "T-1\u0000"}, "ticket_id", "control characters"),
        ({"owner": "alice\u0000@example.com"}, "owner", "control characters"),
        ({"opened_at": "9999-12-31T23:59:59-14:00"}, "opened_at", "out of range"),
        ({"opened_at": "0001-01-01T00:00:00+14:00"}, "opened_at", "out of range"),
        ({"closed_at": "9999-12-31T23:59:59+00:00"}, "closed_at", "out of range"),
    ],
)
def test_a_bad_event_names_its_field(change: dict, field: str, text: str) -> None:
    data = {**BASE, **change}
    data = {k: v for k, v in data.items() if v is not ...}
    error = error_of(data)
    assert error.field == field
    assert text in error.message


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("https://help.example.com/t/9><!channel><https://evil.example|click", "< > |"),
        ("https://help.example.com/t/9|click", "< > |"),
        ("https://help.example.com/t/9 9", "spaces"),
        ("javascript:alert(1)", "starting with https://"),
        ("ftp://help.example.com/t/9", "starting with https://"),
        ("https://", "starting with https://"),
        ("https://help.example.com@evil.example/t/9", "user name"),
        ("https://help.example.com:99999/t/9", "not a valid link"),
        ("https://help!example.com/t/9", "must name a host"),
    ],
)
def test_ticket_links_are_plain_web_links(url: str, text: str) -> None:
    error = error_of({**BASE, "url": url})
    assert error.field == "url" and text in error.message


def test_ordinary_ticket_links_pass() -> None:
    for url in (
        "https://help.example.com/t/1234?view=full#reply-3",
        "http://10.0.0.5:8080/tickets/1",
        "https://[2001:db8::1]/t/1",
    ):
        assert parse_event({**BASE, "url": url}).url == url


def test_nul_is_dropped_from_free_text() -> None:
    event = parse_event(
        {**BASE, "subject": "Order\u0000 arrived broken", "category": "deli\u0000very"}
    )
    assert (event.subject, event.category) == ("Order arrived broken", "delivery")


def test_not_json_and_not_an_object_are_refused_without_a_field() -> None:
    with pytest.raises(TicketError) as info:
        decode(b"{nope")
    assert info.value.field is None and "not valid JSON" in info.value.message
    assert error_of([1, 2]).message == "the body must be a JSON object"


def test_customer_type_spellings_mean_the_same() -> None:
    assert parse_event({**BASE, "customer_type": "End user"}).customer_type == "end-user"
    assert parse_event({**BASE, "customer_type": "end_user"}).customer_type == "end-user"


@pytest.mark.parametrize(
    ("score", "low"), [(1, True), (4, True), (5.9, True), (6, False), (7, False)]
)
def test_below_6_on_1_to_7_is_low(score: float, low: bool) -> None:
    event = parse_event({**BASE, "ces_score": score, "ces_scale": 7})
    assert is_low_ces(event, CesRules()) is low


def test_a_score_outside_its_scale_is_an_error_not_a_low_score() -> None:
    event = parse_event({**BASE, "ces_score": 9, "ces_scale": 7})
    with pytest.raises(TicketError) as info:
        is_low_ces(event, CesRules())
    assert info.value.field == "ces_score"


def test_other_scales_are_read_at_the_same_position() -> None:
    rules = CesRules()  # below 6 on 1-7
    assert is_low_ces(parse_event({**BASE, "ces_score": 4, "ces_scale": 5}), rules)  # 5.5
    assert not is_low_ces(parse_event({**BASE, "ces_score": 5, "ces_scale": 5}), rules)  # 7


def test_lower_is_easier_flips_the_direction() -> None:
    rules = CesRules.from_settings(
        {"ces_scale": 5, "ces_threshold": 3, "ces_direction": "lower_is_easier"}
    )
    assert is_low_ces(parse_event({**BASE, "ces_score": 4}), rules)  # much effort
    assert not is_low_ces(parse_event({**BASE, "ces_score": 1}), rules)
    # The workflow's field reads 1-7 with 7 easiest: 1 of 5 (little effort) is 7.
    assert easiness_1_to_7(parse_event({**BASE, "ces_score": 1}), rules) == Decimal(7)
    assert easiness_1_to_7(parse_event({**BASE, "ces_score": 5}), rules) == Decimal(1)


def test_bad_ces_settings_are_refused() -> None:
    for saved in (
        {"ces_direction": "up"},
        {"ces_scale": 7, "ces_threshold": 9},
        {"ces_scale": "x"},
    ):
        with pytest.raises(TicketError):
            CesRules.from_settings(saved)


def test_stale_means_open_more_than_14_days() -> None:
    opened = datetime(2026, 11, 1, tzinfo=UTC)
    assert not is_stale(opened, None, opened + timedelta(days=14))
    assert is_stale(opened, None, opened + timedelta(days=14, seconds=1))
    assert not is_stale(opened, opened + timedelta(days=1), opened + timedelta(days=30))
    with pytest.raises(ValueError):
        is_stale(opened.replace(tzinfo=None), None, opened)


# --- ClickUp -----------------------------------------------------------------------------------


def test_clickup_automation_payload_maps_onto_a_ticket_event() -> None:
    event = parse_event(ADAPTERS["clickup"](clickup_task(), {}))
    assert event.ticket_id == "SUP-43"
    assert event.url == "https://app.clickup.com/t/8687096vn"
    assert event.owner == "alice@example.com"
    assert (event.ces_score, event.ces_scale) == (4, 7)
    assert event.customer_type == "end-user"  # drop-down value 1 is the option with orderindex 1
    assert event.category == "product_defect"
    assert event.opened_at == datetime(2025, 10, 31, 22, 0, tzinfo=UTC)
    assert event.closed_at == datetime(2025, 11, 2, 22, 0, tzinfo=UTC)
    assert is_low_ces(event, CesRules())


def test_clickup_options_rename_fields_and_fall_back_to_the_creator() -> None:
    body = clickup_task(
        assignees=[],
        date_closed=None,
        status={"type": "open"},
        custom_fields=[{"name": "Customer Effort", "type": "number", "value": "6"}],
    )
    event = parse_event(ADAPTERS["clickup"](body, {"ces_field": "customer effort"}))
    assert event.owner == "carol@example.com"
    assert event.ces_score == 6 and event.ces_scale is None and event.closed_at is None


def test_clickup_task_webhooks_without_the_task_are_explained() -> None:
    with pytest.raises(TicketError) as info:
        ADAPTERS["clickup"]({"event": "taskUpdated", "task_id": "1vj37mc", "history_items": []}, {})
    assert info.value.field == "payload" and "Call webhook" in info.value.message
    with pytest.raises(TicketError) as info:
        ADAPTERS["clickup"](clickup_task(date_created="yesterday"), {})
    assert info.value.field == "payload.date_created"

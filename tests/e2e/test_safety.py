"""The product safety register against the fake Slack: record, deadline alerts, report, export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from helpers.slack_walk import ADMIN, ALICE, CHANNEL
from sqlalchemy import select

from bot.cli.main import main
from bot.safety import service as safety
from sandbox.fake_slack import FakeSlack
from storage.db import transaction
from storage.safety import SafetyIncident
from workflows.au.product_safety import report_due

SAFETY_CHANNEL = "C0SAFETY"
SYDNEY = ZoneInfo("Australia/Sydney")


@pytest.fixture
def bot(slack: FakeSlack, engine, bot_with):
    slack.add_channel(SAFETY_CHANNEL, "product-safety")
    return bot_with(
        slack, engine, POSTMORTEM_SAFETY_CHANNEL=SAFETY_CHANNEL, POSTMORTEM_SAFETY_OFFICERS=ADMIN
    )


def open_report_form(slack: FakeSlack) -> dict:
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "safety")
    register = slack.wait_for(lambda: slack.ephemerals(ALICE))[-1]
    assert "Product safety register" in register["text"]
    slack.click(ALICE, "safety_open_report", channel_id=CHANNEL, message_ts=register["ts"])
    return slack.wait_for(lambda: slack.top_view(ALICE))


def form(aware: datetime, **over: object) -> dict:
    values = {
        "product_name": {"v": "Kettle KX-200"},
        "model": {"v": "KX-200"},
        "batch": {"v": "B2026-11, B2026-12"},
        "supplier": {"v": "=HYPERLINK(evil)"},
        "aware_date": {"v": aware.date().isoformat()},
        "aware_time": {"v": aware.strftime("%H:%M")},
        "what_happened": {"v": "Handle detached; customer scalded, treated by a GP."},
        "outcome": {"v": "serious_injury_or_illness"},
        "caused": {"v": "yes"},
    }
    values.update(over)
    return values


def test_record_an_incident_alert_before_the_deadline_and_mark_it_reported(
    slack: FakeSlack, bot
) -> None:
    view = open_report_form(slack)
    future = datetime.now(SYDNEY) + timedelta(days=2)
    reply = slack.submit(ALICE, view["id"], form(future))
    assert reply.errors == {"aware_date": "The date of awareness can't be in the future."}
    aware = (datetime.now(SYDNEY) - timedelta(hours=1)).replace(second=0, microsecond=0)
    assert slack.submit(ALICE, view["id"], form(aware)).ok
    alert = slack.wait_for(lambda: slack.messages(SAFETY_CHANNEL))[0]
    assert alert["text"] == ":rotating_light: New product safety incident: Kettle KX-200"
    slack.wait_for(
        lambda: any("New product safety incident" in m["text"] for m in slack.dms(ADMIN))
    )
    with transaction(bot.rt.sessions) as session:
        row = session.scalars(select(SafetyIncident)).one()
        due = row.report_due_at
        assert due == report_due(aware, "NSW")
        assert due.astimezone(SYDNEY).strftime("%H:%M") == "23:59"
        assert row.report_status == "due"
    # The officers hear again 24 hours and 4 hours before the deadline, then when it passes.
    assert safety.send_alerts(bot.rt, due - timedelta(hours=23)) == 1
    assert safety.send_alerts(bot.rt, due - timedelta(hours=22)) == 0
    assert safety.send_alerts(bot.rt, due - timedelta(hours=3)) == 1
    assert safety.send_alerts(bot.rt, due + timedelta(minutes=1)) == 1
    bot.settle()  # each alert was recorded with its claim; the outbox posts it
    assert [m["text"] for m in slack.messages(SAFETY_CHANNEL)][1:] == [
        ":alarm_clock: ACCC report due in 24 hours: Kettle KX-200",
        ":warning: ACCC report due in 4 hours: Kettle KX-200",
        ":red_circle: ACCC report deadline has passed: Kettle KX-200",
    ]
    # Mark reported from the register.
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "safety")
    register = slack.wait_for(
        lambda: len(slack.ephemerals(ALICE)) >= 2 and slack.ephemerals(ALICE)
    )[-1]
    slack.click(ALICE, "safety_mark", str(row.id), channel_id=CHANNEL, message_ts=register["ts"])
    marked = slack.wait_for(lambda: slack.top_view(ALICE))
    assert slack.submit(
        ALICE,
        marked["id"],
        {"submitted_on": {"v": aware.date().isoformat()}, "reference": {"v": "ACCC-2026-0042"}},
    ).ok
    with transaction(bot.rt.sessions) as session:
        row = session.get(SafetyIncident, row.id)
        assert (row.report_status, row.accc_reference) == ("submitted", "ACCC-2026-0042")


def test_a_late_record_sends_only_the_latest_deadline_alert(slack: FakeSlack, bot) -> None:
    aware = datetime(2026, 11, 2, 9, 0, tzinfo=SYDNEY)  # Monday: due Wed 4 Nov 23:59
    incident, errors = safety.incident_from_state(
        {k: {"v": _state(v["v"], k)} for k, v in form(aware).items()}, "Australia/Sydney"
    )
    assert errors == {}
    safety.record(bot.rt, "T0TEST", ALICE, incident, "Australia/Sydney")
    assert safety.send_alerts(bot.rt, datetime(2026, 11, 5, 2, tzinfo=UTC)) == 2
    bot.settle()
    assert [m["text"].split(":")[1] for m in slack.messages(SAFETY_CHANNEL)] == [
        "rotating_light",
        "red_circle",
    ]


def test_no_report_needed_without_a_serious_outcome(slack: FakeSlack, bot) -> None:
    view = open_report_form(slack)
    aware = (datetime.now(SYDNEY) - timedelta(hours=2)).replace(second=0, microsecond=0)
    assert slack.submit(ALICE, view["id"], form(aware, outcome={"v": "other"})).ok
    slack.wait_for(lambda: slack.messages(SAFETY_CHANNEL))
    with transaction(bot.rt.sessions) as session:
        row = session.scalars(select(SafetyIncident)).one()
        assert (row.report_status, row.report_due_at) == ("not_required", None)
        assert "Only a death, serious injury or serious illness" in row.status_reason


def test_export_csv_lists_the_register_and_defuses_formulas(
    slack: FakeSlack, bot, monkeypatch
) -> None:
    aware = datetime(2026, 11, 2, 9, 0, tzinfo=SYDNEY)
    incident, _ = safety.incident_from_state(
        {k: {"v": _state(v["v"], k)} for k, v in form(aware).items()}, "Australia/Sydney"
    )
    safety.record(bot.rt, "T0TEST", ALICE, incident, "Australia/Sydney")
    for name, value in {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": bot.rt.engine.url.render_as_string(hide_password=False),
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["safety", "export"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["product_name"], r["report_status"], r["supplier"]) for r in rows] == [
        ("Kettle KX-200", "due", "'=HYPERLINK(evil)")
    ]
    assert rows[0]["report_due_at"] == "2026-11-04T12:59:00+00:00"  # Wed 23:59 in Sydney


def _state(value: object, block: str) -> object:
    """The fake's state shapes, for calling the service without the modal."""
    return {
        "aware_date": {"selected_date": value},
        "aware_time": {"selected_time": value},
        "outcome": {"selected_option": {"value": value}},
        "caused": {"selected_option": {"value": value}},
    }.get(block, {"value": value})


def test_a_recall_tracks_its_accc_deadlines(slack: FakeSlack, bot) -> None:
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "safety")
    register = slack.wait_for(lambda: slack.ephemerals(ALICE))[-1]
    slack.click(ALICE, "safety_open_recall", channel_id=CHANNEL, message_ts=register["ts"])
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    action = (datetime.now(SYDNEY) - timedelta(hours=1)).replace(second=0, microsecond=0)
    values = {
        "product": {"v": "Kettle KX-200"},
        "hazard": {"v": "Handle can detach: burns"},
        "consumer_action": {"v": "Stop using it and return it for a refund"},
        "contact": {"v": "1800 000 000"},
        "action_date": {"v": (action + timedelta(days=3)).date().isoformat()},
        "action_time": {"v": action.strftime("%H:%M")},
        "published": {"v": action.date().isoformat()},
    }
    assert slack.submit(ALICE, view["id"], values).errors == {
        "action_date": "The recall action can't be in the future."
    }
    values["action_date"] = {"v": action.date().isoformat()}
    assert slack.submit(ALICE, view["id"], values).ok
    summary = slack.wait_for(lambda: slack.messages(SAFETY_CHANNEL))[0]
    text = summary["blocks"][0]["text"]["text"]
    assert "Recall recorded: Kettle KX-200" in text
    assert text.count("• *") == 3  # ACCC notice, overseas notices, progress report
    with transaction(bot.rt.sessions) as session:
        from storage.safety import RecallDeadline

        deadlines = {d.kind: d for d in session.scalars(select(RecallDeadline))}
    notify = deadlines["notify_accc"]
    assert notify.due_at.astimezone(SYDNEY).strftime("%H:%M") == "23:59"
    assert safety.send_alerts(bot.rt, notify.due_at - timedelta(hours=23)) == 1
    assert safety.send_alerts(bot.rt, notify.due_at - timedelta(hours=22)) == 0
    bot.settle()
    alert = slack.messages(SAFETY_CHANNEL)[-1]
    assert alert["text"] == ":alarm_clock: Recall deadline in 24 hours: Kettle KX-200"
    slack.click(
        ADMIN, "recall_done", str(notify.id), channel_id=SAFETY_CHANNEL, message_ts=alert["ts"]
    )
    slack.wait_for(lambda: slack.ephemerals(ADMIN))
    assert safety.send_alerts(bot.rt, notify.due_at + timedelta(minutes=1)) == 0  # done

"""Safety alerts while Slack fails: the incident is kept, and every alert arrives once, later.

Alice records a serious injury with a kettle while Slack answers 500 to every chat.postMessage.
The incident is saved; its alert to the safety channel and to the safety officer waits in the
outbox, and once Slack recovers each gets it, once. An alert Slack accepted just before the
worker died is not sent twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from helpers.crash import crash_after_posting
from helpers.delivered import Received
from helpers.slack_walk import ADMIN, ALICE, CHANNEL
from sqlalchemy import func, select

from bot.app import effect_handlers
from bot.delivery.service import deliver_due
from bot.safety.service import MESSAGE_EFFECT
from sandbox.fake_slack import FakeSlack
from storage import outbox
from storage.db import transaction
from storage.safety import SafetyIncident
from storage.types import utcnow

SAFETY_CHANNEL = "C0SAFETY"
SYDNEY = ZoneInfo("Australia/Sydney")
NEW = ":rotating_light: New product safety incident: Kettle KX-200"


@pytest.fixture
def bot(slack: FakeSlack, engine, bot_with):
    slack.add_channel(SAFETY_CHANNEL, "product-safety")
    return bot_with(
        slack, engine, POSTMORTEM_SAFETY_CHANNEL=SAFETY_CHANNEL, POSTMORTEM_SAFETY_OFFICERS=ADMIN
    )


def _report(slack: FakeSlack) -> None:
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "safety")
    register = slack.wait_for(lambda: slack.ephemerals(ALICE))[-1]
    slack.click(ALICE, "safety_open_report", channel_id=CHANNEL, message_ts=register["ts"])
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    aware = (datetime.now(SYDNEY) - timedelta(hours=1)).replace(second=0, microsecond=0)
    values = {
        "product_name": {"v": "Kettle KX-200"},
        "model": {"v": "KX-200"},
        "batch": {"v": "B2026-11"},
        "supplier": {"v": "Acme"},
        "aware_date": {"v": aware.date().isoformat()},
        "aware_time": {"v": aware.strftime("%H:%M")},
        "what_happened": {"v": "Handle detached; customer scalded, treated by a GP."},
        "outcome": {"v": "serious_injury_or_illness"},
        "caused": {"v": "yes"},
    }
    reply = slack.submit(ALICE, view["id"], values)
    assert reply.ok and not reply.errors


def _pending(bot) -> list[str | None]:
    with transaction(bot.rt.sessions) as session:
        return list(
            session.scalars(
                select(outbox.Effect.last_error).where(
                    outbox.Effect.status == outbox.PENDING, outbox.Effect.kind == MESSAGE_EFFECT
                )
            )
        )


def _told(slack: FakeSlack) -> tuple[int, int]:
    """How many times the safety channel and the officer were told of the new incident."""
    return (
        sum(m["text"] == NEW for m in slack.messages(SAFETY_CHANNEL)),
        sum(m["text"] == NEW for m in slack.dms(ADMIN)),
    )


def test_an_incident_recorded_during_an_outage_is_announced_once_slack_recovers(
    slack: FakeSlack, bot
) -> None:
    slack.fail("chat.postMessage", "internal_error", times=1000, status=500)

    _report(slack)

    with transaction(bot.rt.sessions) as session:
        assert session.scalar(select(func.count()).select_from(SafetyIncident)) == 1
    slack.wait_for(lambda: _pending(bot) == ["Slack: internal_error"] * 2, timeout=20)
    assert _told(slack) == (0, 0)

    slack.clear_faults()
    deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=1))

    assert _pending(bot) == []
    assert _told(slack) == (1, 1)
    slack.reset_calls()  # the refused calls were the point of this test


def test_an_alert_posted_just_before_a_crash_is_not_sent_twice(
    slack: FakeSlack, bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashed = crash_after_posting(monkeypatch, bot.rt, times=2)

    _report(slack)

    slack.wait_for(lambda: len(crashed) == 2)  # the channel's alert and the officer's DM
    slack.wait_for(lambda: all(e and "ConnectionError" in e for e in _pending(bot) or [None]))
    for hours in (1, 2, 3):  # the worker that crashed is gone: its effects are retried
        deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=hours))
    assert _pending(bot) == []
    assert _told(slack) == (1, 1)
    assert Received(slack).duplicates() == {}

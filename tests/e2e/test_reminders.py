"""Action items against the fake Slack: assignment DMs, timed nudges, buttons, failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from click.testing import CliRunner
from helpers.action_items import make_items  # assigned at a fixed time, like the sweeps
from helpers.slack_walk import choose
from sqlalchemy import func, select

from bot.action_items import nudges
from bot.action_items import service as reminders
from bot.cli.main import main
from bot.slack.text import day_text
from sandbox.fake_slack import FakeSlack
from storage import reviews as store
from storage.db import transaction
from storage.models import ActionItem, AuditEntry, Review
from storage.nudges import CLAIMED, Nudge
from workflows.loader import Registry

ALICE, BOB, ADMIN, CHANNEL = "U0ALICE", "U0BOB", "U0ADMIN", "C0REVIEWS"
REGISTRY = Registry.load()
# Due Friday 4 Dec 2026. Alice is in Sydney (09:00 = 22:00 UTC the day before), Bob in Perth
# (09:00 = 01:00 UTC the same day).
DUE = "2026-12-04"
# How an assignment DM (sent now, by the wall clock) shows DUE: "Fri 4 Dec", with the year after
# 2026. Reminders are dated by the sweep's clock, in 2026: always "Fri 4 Dec".
DUE_SHOWN = day_text(date.fromisoformat(DUE))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def dm_channel(slack: FakeSlack, user: str) -> str:
    return slack.workspace.dm_for(user)["id"]


def dm_texts(slack: FakeSlack, user: str) -> list[str]:
    return [m["text"] for m in slack.dms(user)]


def test_the_owner_gets_an_assignment_dm_with_buttons(slack: FakeSlack, bot) -> None:
    make_items(bot, [{"title": "Fix the promo code check", "owner": BOB, "due_date": DUE}])
    dm = slack.dms(BOB)[0]
    assert dm["text"] == f"New action item for you: Fix the promo code check (due {DUE_SHOWN})"
    text = dm["blocks"][0]["text"]["text"]
    assert "<https://" in text and "|Black Friday email>" in text  # permalink to the review
    elements = dm["blocks"][1]["elements"]
    assert [
        e.get("text", {}).get("text") or e.get("placeholder", {}).get("text") for e in elements
    ] == ["Mark done", "Snooze", "Snooze until…", "Update status", "Open review"]


def test_sweeps_at_chosen_times_send_exactly_the_expected_nudges(slack: FakeSlack, bot) -> None:
    make_items(
        bot,
        [
            {"title": "Sydney item", "owner": ALICE, "due_date": DUE},
            {"title": "Perth item", "owner": BOB, "due_date": DUE},
        ],
    )
    sweep = lambda when: str(nudges.sweep(bot.rt, at(when)))  # noqa: E731
    assert sweep("2026-12-01T21:59:00+00:00") == "sent 0, missed 0, failed 0"
    assert sweep("2026-12-01T22:01:00+00:00") == "sent 1, missed 0, failed 0"  # Alice, Wed 9am
    assert sweep("2026-12-01T22:02:00+00:00") == "sent 0, missed 0, failed 0"  # never twice
    assert sweep("2026-12-02T01:00:00+00:00") == "sent 1, missed 0, failed 0"  # Bob, Wed 9am
    assert sweep("2026-12-04T01:30:00+00:00") == "sent 2, missed 0, failed 0"  # due today, both
    assert dm_texts(slack, ALICE)[1:] == [
        ":alarm_clock: Coming up soon: Sydney item (due Fri 4 Dec)",
        ":calendar: Due today: Sydney item (due Fri 4 Dec)",
    ]
    # Monday 7 Dec: overdue for both; Wednesday 9 Dec: escalation to the review owner, once.
    assert sweep("2026-12-07T02:00:00+00:00") == "sent 2, missed 0, failed 0"
    assert sweep("2026-12-09T02:00:00+00:00") == "sent 4, missed 0, failed 0"
    escalations = [t for t in dm_texts(slack, ADMIN) if t.startswith("Overdue action item")]
    assert sorted(escalations) == [
        "Overdue action item: Perth item",
        "Overdue action item: Sydney item",
    ]
    assert sweep("2026-12-09T02:05:00+00:00") == "sent 0, missed 0, failed 0"


def test_a_bot_down_for_days_sends_recent_nudges_and_records_old_ones_missed(
    slack: FakeSlack, bot
) -> None:
    make_items(bot, [{"title": "Sydney item", "owner": ALICE, "due_date": DUE}])
    result = nudges.sweep(bot.rt, at("2026-12-04T03:00:00+00:00"))
    assert str(result) == (  # due today sent; Wednesday's missed, and the line says why
        "sent 1, missed 1, failed 0; missed 1: older than the catch-up window (24 h)"
    )
    with transaction(bot.rt.sessions) as session:
        rows = session.execute(
            select(Nudge.kind, Nudge.status, Nudge.reason).order_by(Nudge.scheduled_at)
        ).all()
    assert [(k, s) for k, s, _ in rows] == [("due_soon", "missed"), ("due_today", "sent")]
    assert "the bot was not running" in rows[0][2]


def test_mark_done_rewrites_the_dm_stops_nudges_and_asks_to_confirm(slack: FakeSlack, bot) -> None:
    [item_id] = make_items(
        bot, [{"title": "Fix the promo code check", "owner": BOB, "due_date": DUE}]
    )
    dm = slack.dms(BOB)[0]
    slack.set_delay("chat.update", 0.5)  # a double click lands before the DM is rewritten
    for _ in range(2):  # the same click twice changes nothing more
        reply = slack.click(
            BOB, "item_done", str(item_id), channel_id=dm_channel(slack, BOB), message_ts=dm["ts"]
        )
        assert reply.status == 200
    slack.wait_for(lambda: "Done. Thank you!" in str(slack.dms(BOB)[0]["blocks"]))
    slack.set_delay("chat.update", 0)
    slack.wait_for(
        lambda: any(
            "Were the improvements implemented?" in str(m["blocks"]) for m in slack.dms(ADMIN)
        )
    )
    with transaction(bot.rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        assert (item.status, item.next_nudge_at) == ("done", None)
        updates = session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "action_item.updated")
        )
    assert updates == 1
    slack.wait_for(
        lambda: (
            {"type": "mrkdwn", "text": "*Open action items*\n0"}
            in slack.messages(CHANNEL)[0]["blocks"][1]["fields"]
        )
    )
    assert str(nudges.sweep(bot.rt, at("2026-12-09T02:00:00+00:00"))) == (
        "sent 0, missed 0, failed 0"
    )
    ask = next(
        m
        for m in slack.dms(ADMIN)
        if "improvements" in m["text"].lower() or "All action items done" in m["text"]
    )
    slack.click(
        ADMIN,
        "improvements_confirm",
        ask["blocks"][1]["elements"][0]["value"],
        channel_id=dm_channel(slack, ADMIN),
        message_ts=ask["ts"],
    )
    slack.wait_for(
        lambda: (
            "confirmed the improvements"
            in str(slack.message(dm_channel(slack, ADMIN), ask["ts"])["blocks"])
        )
    )
    with transaction(bot.rt.sessions) as session:
        review = session.scalars(select(Review)).one()
        assert review.improvements_confirmed_by == ADMIN


def test_someone_else_cannot_close_my_item(slack: FakeSlack, bot) -> None:
    [item_id] = make_items(bot, [{"title": "Mine", "owner": BOB, "due_date": DUE}])
    # Alice never sees that button; a crafted request (validly signed) must still be refused.
    payload = {
        "type": "block_actions",
        "user": {"id": ALICE, "username": "alice", "team_id": "T0TEST"},
        "team": {"id": "T0TEST", "domain": "fake"},
        "api_app_id": "A0FAKE",
        "token": "fake-verification-token",
        "trigger_id": slack.issue_trigger(ALICE),
        "container": {
            "type": "message",
            "channel_id": CHANNEL,
            "is_ephemeral": False,
            "message_ts": slack.messages(CHANNEL)[0]["ts"],
        },
        "channel": {"id": CHANNEL, "name": "reviews"},
        "actions": [
            {
                "type": "button",
                "action_id": "item_done",
                "block_id": "x",
                "value": str(item_id),
                "action_ts": "1.0",
            }
        ],
    }
    reply = slack.send("payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded")
    assert reply.status == 200
    slack.wait_for(lambda: slack.ephemerals(ALICE))
    assert "Only the item's owner" in slack.ephemerals(ALICE)[0]["text"]
    with transaction(bot.rt.sessions) as session:
        assert session.get(ActionItem, item_id).status == "open"


def test_snooze_moves_the_next_nudge_not_the_due_date(slack: FakeSlack, bot) -> None:
    [item_id] = make_items(bot, [{"title": "Snoozy", "owner": ALICE, "due_date": DUE}])
    dm = slack.dms(ALICE)[0]
    slack.click(
        ALICE,
        "item_snooze",
        f"{item_id}:1_week",
        channel_id=dm_channel(slack, ALICE),
        message_ts=dm["ts"],
    )
    slack.wait_for(lambda: "Snoozed until" in str(slack.dms(ALICE)[0]["blocks"]))
    with transaction(bot.rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        assert str(item.due_date) == DUE
        assert item.snoozed_until > datetime(2026, 11, 29, tzinfo=UTC)


def test_update_status_with_a_note(slack: FakeSlack, bot) -> None:
    [item_id] = make_items(bot, [{"title": "Blocked thing", "owner": BOB, "due_date": DUE}])
    dm = slack.dms(BOB)[0]
    slack.click(
        BOB, "item_status", str(item_id), channel_id=dm_channel(slack, BOB), message_ts=dm["ts"]
    )
    view = slack.wait_for(lambda: slack.top_view(BOB))
    reply = slack.submit(BOB, view["id"], {"status": {"v": "blocked"}})
    assert reply.errors == {"note": "Say what is blocking it."}
    reply = slack.submit(
        BOB,
        view["id"],
        {"status": {"v": "blocked"}, "note": {"v": "Waiting on the vendor's API key"}},
    )
    assert reply.ok and not reply.errors
    slack.wait_for(lambda: "Waiting on the vendor" in str(slack.dms(BOB)[0]["blocks"]))
    assert "Status: Blocked" in slack.dms(BOB)[0]["blocks"][0]["text"]["text"]


def test_a_rate_limited_nudge_is_retried_and_sent(slack: FakeSlack, bot) -> None:
    make_items(bot, [{"title": "Sydney item", "owner": ALICE, "due_date": DUE}])
    slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    assert str(nudges.sweep(bot.rt, at("2026-12-01T22:01:00+00:00"))) == (
        "sent 1, missed 0, failed 0"
    )
    slack.calls[:] = [c for c in slack.calls if c.error != "ratelimited"]


def test_a_gone_user_is_recorded_failed_and_the_review_owner_told(slack: FakeSlack, bot) -> None:
    make_items(bot, [{"title": "Orphan", "owner": ALICE, "due_date": DUE}])
    slack.fail("chat.postMessage", error="account_inactive", times=1)
    assert str(nudges.sweep(bot.rt, at("2026-12-01T22:01:00+00:00"))) == (
        "sent 0, missed 0, failed 1"
    )
    with transaction(bot.rt.sessions) as session:
        nudge = session.scalars(select(Nudge)).one()
        assert (nudge.status, nudge.reason) == ("failed", "account_inactive")
    assert any("I could not remind <@U0ALICE>" in str(m["blocks"]) for m in slack.dms(ADMIN))
    slack.calls[:] = [c for c in slack.calls if c.error != "account_inactive"]


def test_a_crash_between_claim_and_send_is_recovered_once(slack: FakeSlack, bot) -> None:
    ids = make_items(
        bot,
        [
            {"title": "A", "owner": ALICE, "due_date": DUE},
            {"title": "B", "owner": ALICE, "due_date": "2026-12-11"},
        ],
    )
    claimed = at("2026-12-01T22:01:00+00:00")
    with transaction(bot.rt.sessions) as session:
        for item_id, occurrence in zip(ids, ["2026-12-02", "2026-12-09"], strict=True):
            session.add(
                Nudge(
                    action_item_id=item_id,
                    kind="due_soon",
                    occurrence=occurrence,
                    recipient_id=ALICE,
                    scheduled_at=claimed,
                    claimed_at=claimed,
                    status=CLAIMED,
                )
            )
        session.flush()
        sent_before_crash = session.scalars(select(Nudge.id).order_by(Nudge.id)).all()[0]
    # Item A's DM went out before the crash (its metadata is in the DM), B's did not.
    bot.rt.client.chat_postMessage(
        channel=ALICE,
        text="Coming up soon: A",
        metadata={
            "event_type": "postmortem_nudge",
            "event_payload": {"nudge_id": sent_before_crash},
        },
    )
    before = len(slack.dms(ALICE))
    result = nudges.sweep(bot.rt, claimed + timedelta(minutes=11))
    assert result.sent == 2
    assert len(slack.dms(ALICE)) == before + 1  # only B's is sent now
    with transaction(bot.rt.sessions) as session:
        assert set(session.scalars(select(Nudge.status))) == {"sent"}


def test_a_reminder_sent_before_a_crash_is_found_behind_a_busy_dm(slack: FakeSlack, bot) -> None:
    """150 messages came into the DM after the interrupted reminder: the recovery reads the DM
    back page by page to the reminder's time, finds it, and does not send it again."""
    [item_id] = make_items(bot, [{"title": "A", "owner": ALICE, "due_date": DUE}])
    wall = datetime.now(UTC)  # the sweep runs on the wall clock, as in production
    with transaction(bot.rt.sessions) as session:
        nudge = Nudge(
            action_item_id=item_id,
            kind="due_soon",
            occurrence="2026-12-02",
            recipient_id=ALICE,
            scheduled_at=wall - timedelta(minutes=30),
            claimed_at=wall - timedelta(minutes=20),
            status=CLAIMED,
        )
        session.add(nudge)
        session.flush()
        nudge_id = nudge.id
        session.get(ActionItem, item_id).next_nudge_at = None  # nothing else due, whatever day
    bot.rt.client.chat_postMessage(  # sent, then the sweep was killed before recording it
        channel=ALICE,
        text="Coming up soon: A",
        metadata={"event_type": "postmortem_nudge", "event_payload": {"nudge_id": nudge_id}},
    )
    for n in range(150):  # other reviews' notices and reminders since
        bot.rt.client.chat_postMessage(channel=ALICE, text=f"Something else {n}")
    before = len(slack.dms(ALICE))

    result = nudges.sweep(bot.rt, wall)

    assert result.sent == 1
    assert len(slack.dms(ALICE)) == before  # recognised, not sent twice
    with transaction(bot.rt.sessions) as session:
        nudge = session.get(Nudge, nudge_id)
        assert nudge.status == "sent" and nudge.ts is not None
        assert slack.dms(ALICE)[-151]["ts"] == nudge.ts  # the message sent before the crash


def test_remind_cli_prints_one_summary_line(slack: FakeSlack, bot, monkeypatch) -> None:
    make_items(bot, [{"title": "Sydney item", "owner": ALICE, "due_date": DUE}])
    for name, value in {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": bot.rt.engine.url.render_as_string(hide_password=False),
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["remind", "--now", "2026-12-02T09:05+11:00"])
    assert (result.exit_code, result.output) == (0, "sent 1, missed 0, failed 0\n")
    bad = CliRunner().invoke(main, ["remind", "--now", "2026-12-02T09:05"])
    assert bad.exit_code == 1 and "needs a UTC offset" in bad.output


def test_my_actions_lists_open_items_soonest_first(slack: FakeSlack, bot) -> None:
    make_items(
        bot,
        [
            {"title": "Later", "owner": BOB, "due_date": "2026-12-18"},
            {"title": "Sooner", "owner": BOB, "due_date": DUE},
        ],
    )
    slack.slash_command(BOB, CHANNEL, "/postmortem", "actions")
    post = slack.wait_for(lambda: slack.response_posts)[0]["payload"]
    text = str(post["blocks"])
    assert text.index("Sooner") < text.index("Later")
    assert "Mark done" in text


def test_two_processes_sweeping_at_once_send_each_nudge_once(slack: FakeSlack, engine, bot) -> None:
    """Two replicas on PostgreSQL, or `serve` and the CLI on SQLite."""
    rows = [
        {"title": f"Item {i}", "owner": ALICE if i % 2 else BOB, "due_date": DUE} for i in range(40)
    ]
    make_items(bot, rows)
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
    }
    expected = 0
    for now, due_now in [
        ("2026-12-02T13:30+11:00", 40),
        ("2026-12-04T13:30+11:00", 40),
        ("2026-12-07T13:30+11:00", 40),
        ("2026-12-09T13:30+11:00", 80),
    ]:
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "bot.cli.main", "remind", "--now", now],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=120)[0] for p in procs]
        sent = sum(int(o.split()[1].rstrip(",")) for o in outputs)
        assert sent == due_now, outputs
        expected += due_now
    nudges = [
        c
        for c in slack.calls_to("chat.postMessage")
        if (c.params.get("metadata") or {}).get("event_type") == "postmortem_nudge"
    ]
    ids = [c.params["metadata"]["event_payload"]["nudge_id"] for c in nudges]
    assert len(ids) == len(set(ids)) == expected


def test_reassigning_an_item_tells_the_new_owner_and_the_old_one(slack: FakeSlack, bot) -> None:
    [item_id] = make_items(bot, [{"title": "Update the runbook", "owner": ALICE, "due_date": DUE}])
    with transaction(bot.rt.sessions) as session:
        review = session.scalars(select(Review)).one()
        changes = store.sync_action_items(
            session,
            review,
            stage_key="action_items",
            rows=[{"title": "Update the runbook", "owner": BOB, "due_date": DUE}],
            actor=ADMIN,
        )
        moved = [(c.item.id, c.created, c.previous_owner) for c in changes]
    assert moved == [(item_id, False, ALICE)]
    reminders.notify_changes(bot.rt, moved)
    assert dm_texts(slack, BOB) == [f"Reassigned to you: Update the runbook (due {DUE_SHOWN})"]
    assert "is now owned by <@U0BOB>" in dm_texts(slack, ALICE)[-1]
    # The old owner's reminders stop; the new owner's start from the reassignment.
    assert str(nudges.sweep(bot.rt, at("2026-12-02T03:00:00+00:00"))) == (
        "sent 1, missed 0, failed 0"
    )
    assert dm_texts(slack, BOB)[-1].startswith(":alarm_clock: Coming up soon")


def test_an_item_added_later_from_the_reviews_message(slack: FakeSlack, bot) -> None:
    make_items(bot, [])
    message = slack.messages(CHANNEL)[0]
    choose(slack, ADMIN, "item_add", message)
    view = slack.wait_for(lambda: slack.top_view(ADMIN))
    assert view["title"]["text"] == "Add action item"
    reply = slack.submit(
        ADMIN,
        view["id"],
        {"title": {"v": "Add a stock check to the launch"}, "owner": {"v": BOB}, "due": {"v": DUE}},
    )
    assert reply.ok and not reply.errors
    slack.wait_for(lambda: slack.dms(BOB))
    assert dm_texts(slack, BOB) == [
        f"New action item for you: Add a stock check to the launch (due {DUE_SHOWN})"
    ]
    slack.wait_for(
        lambda: (
            {"type": "mrkdwn", "text": "*Open action items*\n1"}
            in slack.messages(CHANNEL)[0]["blocks"][1]["fields"]
        )
    )
    assert str(nudges.sweep(bot.rt, at("2026-12-02T03:00:00+00:00"))) == (
        "sent 1, missed 0, failed 0"
    )


def test_slack_timing_out_fails_the_nudge_for_now_and_the_next_sweep_sends_it_once(
    slack: FakeSlack, bot, monkeypatch
) -> None:
    """`remind` while Slack took 17 s used to exit 1 with a TimeoutError traceback."""
    make_items(bot, [{"title": "Sydney item", "owner": ALICE, "due_date": DUE}])
    slack.delay = 1.5  # every call, users.info included, outlasts the client's time-out
    bot.rt.client.timeout = 0.5
    for name, value in {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": bot.rt.engine.url.render_as_string(hide_password=False),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("bot.runtime.make_client", lambda *a, **kw: bot.rt.client)
    result = CliRunner().invoke(main, ["remind", "--now", "2026-12-02T09:05+11:00"])
    assert (result.exit_code, result.output) == (0, "sent 0, missed 0, failed 1\n"), (
        result.exception
    )
    with transaction(bot.rt.sessions) as session:
        nudge = session.scalars(select(Nudge)).one()
        assert (nudge.status, nudge.reason) == (CLAIMED, "retrying: TimeoutError")
    # Whatever Slack took late lands within its delay; the next sweep finds a DM Slack took
    # instead of sending it again, and sends it if Slack never got it.
    time.sleep(slack.delay + 0.5)
    slack.delay = 0
    assert str(nudges.sweep(bot.rt, at("2026-12-01T22:30:00+00:00"))) == (
        "sent 1, missed 0, failed 0"
    )
    assert len([m for m in slack.dms(ALICE) if "Coming up soon" in m["text"]]) == 1

"""Nothing promised is lost after ack(): Slack failing at the wrong moment, a crash mid-delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from e2e.conftest import ALICE, BOB, CHANNEL
from helpers.slack_walk import REGISTRY, complete_stage, review_row, start, status_message
from sqlalchemy import select

from bot.app import effect_handlers
from bot.cli.main import main
from bot.delivery.service import deliver_due
from bot.knowledge.service import REPORT_EVENT
from bot.reviews import status
from bot.reviews.views.stage_modal import entered_values
from sandbox.fake_slack import FakeSlack
from storage import outbox
from storage.db import transaction
from storage.models import ActionItem, Review
from storage.types import utcnow
from workflows.samples import sample_answers


def _effects(bot) -> list[outbox.Effect]:
    with transaction(bot.rt.sessions) as session:
        return list(session.scalars(select(outbox.Effect).order_by(outbox.Effect.id)))


def test_slack_failing_chat_update_during_the_last_stage_still_tells_the_action_item_owner(
    slack: FakeSlack, bot
) -> None:
    start(slack, "campaign Black Friday email")
    for _ in range(3):
        complete_stage(slack, bot)
    review = review_row(bot)
    stage = REGISTRY["campaign_postmortem"].stage(review.current_stage)
    assert stage.key == "action_items"
    message = status_message(slack)
    slack.fail("chat.update", "internal_error", times=1000, status=500)

    reply = slack.click(
        ALICE, "continue_review", str(review.id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    assert reply.status == 200
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    answers = sample_answers(
        stage,
        action_items=[
            {"title": "Fix the promo code check", "owner": BOB, "due_date": "2026-12-18"}
        ],
    )
    reply = slack.submit(ALICE, view["id"], entered_values(stage, answers))
    assert reply.ok and not reply.errors

    # Bob is told at once, and his reminders are scheduled, although Slack refuses updates.
    dm = slack.wait_for(lambda: slack.dms(BOB), timeout=10)
    assert "Fix the promo code check" in dm[0]["text"]
    with transaction(bot.rt.sessions) as session:
        item = session.scalars(select(ActionItem)).one()
        assert item.next_nudge_at is not None

    # The status message is not lost: it is waiting to be retried, with Slack's error.
    def waiting() -> list[tuple[str, str | None]]:
        return [(e.kind, e.last_error) for e in _effects(bot) if e.status == outbox.PENDING]

    # Everything else was delivered; the report waits behind the status message it is
    # threaded under, and the people feature's follow-up (it links the report) behind that.
    slack.wait_for(
        lambda: (
            waiting()
            == [
                ("reviews.status", "Slack: internal_error"),
                ("knowledge.report", None),
                ("people.stage_saved", None),
            ]
        ),
        timeout=30,
    )
    assert "Continue: Action Item" in str(status_message(slack)["blocks"])  # stale for now

    slack.clear_faults()
    result = deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=1))
    assert result.done >= 1 and not result.failed
    assert "Continue:" not in str(status_message(slack)["blocks"])  # converged: complete
    reports = [
        m
        for m in slack.thread(CHANNEL, message["ts"])
        if (m.get("metadata") or {}).get("event_type") == REPORT_EVENT
    ]
    assert len(reports) == 1  # the thread's one reply, posted once despite the retries
    slack.reset_calls()  # the refused chat.update calls were the point of this test


def test_a_status_post_interrupted_after_slack_accepted_it_is_not_posted_twice(
    slack: FakeSlack, bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    start(slack, "campaign Black Friday email")
    bot.settle()  # the start's own effects are done
    review_id = review_row(bot).id
    with transaction(bot.rt.sessions) as session:
        review = session.get(Review, review_id)
        review.message_ts = None  # as if the first post never got recorded
        # Due later than the bot's own delivery thread looks (it runs on the real clock).
        outbox.enqueue(
            session,
            "reviews.status",
            {"review_id": review_id},
            now=utcnow() + timedelta(minutes=30),
        )
    calls = []
    real = status._record_message

    def crash_once(rt, rid, channel, ts):  # the worker dies between Slack's answer and commit
        calls.append(ts)
        if len(calls) == 1:
            raise ConnectionError("worker killed")
        real(rt, rid, channel, ts)

    monkeypatch.setattr(status, "_record_message", crash_once)
    handlers = effect_handlers()
    first = deliver_due(bot.rt, handlers, utcnow() + timedelta(hours=1))
    assert first.retried == 1
    second = deliver_due(bot.rt, handlers, utcnow() + timedelta(hours=2))
    assert second.done == 1
    # Two status posts in all: the one from the start, and one from the interrupted attempt;
    # the retry found the second by its metadata instead of posting a third.
    posts = [
        c
        for c in slack.calls_to("chat.postMessage")
        if (c.params.get("metadata") or {}).get("event_type") == status.STATUS_EVENT
    ]
    assert len(posts) == 2
    assert review_row(bot).message_ts == calls[-1]


def test_an_effect_slack_refuses_for_good_fails_once_and_the_owner_is_told(
    slack: FakeSlack, bot
) -> None:
    start(slack, "campaign Black Friday email")
    bot.settle()
    review_id = review_row(bot).id
    with transaction(bot.rt.sessions) as session:
        later = utcnow() + timedelta(minutes=30)  # for this test's clock, not the bot's thread
        outbox.enqueue(session, "invoices.post", {"review_id": review_id}, now=later)
        outbox.enqueue(session, "no.such.kind", {"review_id": review_id}, now=later)
    result = deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=1))
    assert result.failed == 1  # the unknown kind; the invoice effect finds nothing to post
    told = [m["text"] for m in slack.dms(ALICE) if "could not" in m["text"]]
    assert told and "postmortem-bot outbox retry" in told[0]

    runner = CliRunner()
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": bot.rt.engine.url.render_as_string(hide_password=False),
    }
    shown = runner.invoke(main, ["outbox"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "failed 1" in shown.output.splitlines()[0]
    assert "no.such.kind" in shown.output and "no handler" in shown.output
    again = runner.invoke(main, ["outbox", "retry", "--all-failed"], env=env)
    assert again.output == "queued 1 failed effect(s) again\n"


def test_a_status_post_in_the_owners_dm_interrupted_after_slack_accepted_it_is_found(
    slack: FakeSlack, engine, bot_with, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ticket's review is posted in its owner's DM, named by the user's id. A retry looked for
    the interrupted post with that id, which Slack's conversations.history refuses
    (channel_not_found, a permanent error): the status message was never recorded and never
    updated again (found by the kill -9 test)."""
    from helpers.ticket_hooks import TOKEN, event, post

    bot = bot_with(slack, engine, POSTMORTEM_WEBHOOK_TOKEN=TOKEN)  # no support channel: DMs
    real, calls = status._record_message, []

    def crash_once(rt, rid, channel, ts):  # the worker dies between Slack's answer and commit
        calls.append((channel, ts))
        if len(calls) == 1:
            raise ConnectionError("worker killed")
        real(rt, rid, channel, ts)

    monkeypatch.setattr(status, "_record_message", crash_once)
    assert post(bot, "/hooks/tickets", event(owner=ALICE)).status == 200
    deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=1))  # the retry
    review = review_row(bot)
    dm = slack.dms(ALICE)
    [message] = [
        m for m in dm if (m.get("metadata") or {}).get("event_type") == status.STATUS_EVENT
    ]
    assert (review.channel_id, review.message_ts) == ("D" + ALICE, message["ts"])
    status.refresh_status(bot.rt, review.id)  # later refreshes update that message
    updates = slack.calls_to("chat.update")
    assert updates and all(c.ok and c.params["channel"] == "D" + ALICE for c in updates)
    assert len(slack.dms(ALICE)) == len(dm)  # and post nothing new

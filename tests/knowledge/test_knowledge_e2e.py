"""A person completes a campaign review; the lessons come back in search, in a new review and as
an exported file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from helpers.crash import crash_after_posting, event_type
from helpers.delivered import failed_effects
from helpers.slack_walk import ALICE, BOB, CHANNEL, complete_stage, review_row, start
from sqlalchemy import select

from bot.app import effect_handlers
from bot.delivery.service import deliver_due
from bot.knowledge.service import SIMILAR_EVENT, refresh_review_messages
from bot.slack.text import day_text
from sandbox.fake_slack import FakeSlack
from storage import outbox
from storage.db import transaction
from storage.models import ActionItem, Review
from storage.types import utcnow

# The sample item's due date as people read it in Slack (the year only when it isn't this one).
DUE = day_text(date(2026, 12, 1), datetime.now(ZoneInfo("Australia/Sydney")).date())
LESSON = "Refund wording in campaign emails must match the returns policy page."


def report_in_thread(slack: FakeSlack, ts: str) -> dict | None:
    return next(
        (
            m
            for m in slack.thread(CHANNEL, ts)[1:]
            if m.get("text", "").startswith("Lessons learned:")
        ),
        None,
    )


def text_of(message: dict) -> str:
    return "\n".join(
        b["text"]["text"]
        for b in message.get("blocks", [])
        if b["type"] in ("section", "header") and "text" in b
    )


def complete_campaign(slack: FakeSlack, bot) -> dict:
    status = start(slack, "campaign Black Friday refunds email")
    complete_stage(slack, bot)
    complete_stage(
        slack,
        bot,
        systemic_issues="no",
        root_causes="The email template kept an old <no refunds> line.",
    )
    complete_stage(slack, bot, lessons=LESSON, tags="Refunds, email")
    report = slack.wait_for(lambda: report_in_thread(slack, status["ts"]))
    assert "*Lessons learned*\n" + LESSON in text_of(report)
    assert "&lt;no refunds&gt;" in text_of(report)  # user text escaped
    assert "_None yet._" in text_of(report)  # action items come in the next stage
    complete_stage(slack, bot)
    slack.wait_for(lambda: "Action item 1" in text_of(report_in_thread(slack, status["ts"])))
    return status


def test_a_completed_review_is_reported_found_suggested_and_exported(slack: FakeSlack, bot) -> None:
    status = complete_campaign(slack, bot)
    # The report was updated in place with the action items, not posted twice.
    reports = [
        m
        for m in slack.thread(CHANNEL, status["ts"])
        if m.get("text", "").startswith("Lessons learned:")
    ]
    assert len(reports) == 1
    assert f"Action item 1: <@U0ALICE>, due {DUE} (open)" in text_of(reports[0])

    slack.slash_command(BOB, CHANNEL, "/postmortem", "search refund workflow:campaign")
    found = slack.wait_for(lambda: slack.ephemerals(BOB))[-1]
    assert "Black Friday refunds email" in text_of(found)
    assert "Refund wording" in text_of(found)
    slack.slash_command(BOB, CHANNEL, "/postmortem", "search warranty")
    nothing = slack.wait_for(lambda: len(slack.ephemerals(BOB)) > 1 and slack.ephemerals(BOB))
    assert "Nothing found" in text_of(nothing[-1]) and "broader" in text_of(nothing[-1])

    # A new review with a similar title is shown the old lesson in its thread.
    slack.slash_command(BOB, CHANNEL, "/postmortem", "start campaign Boxing Day refunds SMS")
    view = slack.wait_for(lambda: slack.top_view(BOB))
    slack.submit(BOB, view["id"], {})
    second = slack.wait_for(lambda: len(slack.messages(CHANNEL)) == 2 and slack.messages(CHANNEL))
    tip = slack.wait_for(lambda: slack.thread(CHANNEL, second[1]["ts"])[1:])[0]
    assert "Lessons from similar past reviews" in text_of(tip)
    assert "Black Friday refunds email" in text_of(tip) and "Refund wording" in text_of(tip)

    # Export uploads the Markdown record to the thread.
    report = report_in_thread(slack, status["ts"])
    slack.click(
        BOB,
        "export_review",
        report["blocks"][-1]["elements"][0]["value"],
        channel_id=CHANNEL,
        message_ts=report["ts"],
    )
    upload = slack.wait_for(lambda: slack.uploaded_files())[0]
    content = upload["content"].decode()
    assert upload["name"].endswith("black-friday-refunds-email.md")
    assert upload["thread_ts"] == status["ts"] and upload["channels"] == [CHANNEL]
    for part in (
        LESSON,
        "## Post-Mortem Team Sync",
        "## Decisions",
        "## Action items",
        "## Audit trail",
        "stage.submitted",
        "**open**",
        "| @alice |",
    ):
        assert part in content, part


def test_export_falls_back_to_text_where_files_are_forbidden(slack: FakeSlack, bot) -> None:
    status = complete_campaign(slack, bot)
    report = report_in_thread(slack, status["ts"])
    slack.fail("files.getUploadURLExternal", "missing_scope")
    before = len(slack.thread(CHANNEL, status["ts"]))
    slack.click(
        ALICE,
        "export_review",
        report["blocks"][-1]["elements"][0]["value"],
        channel_id=CHANNEL,
        message_ts=report["ts"],
    )
    posted = slack.wait_for(lambda: slack.thread(CHANNEL, status["ts"])[before:])
    assert posted[0]["text"].startswith("Review record")
    assert "Refund wording" in text_of(posted[0])
    assert slack.uploaded_files() == []
    slack.reset_calls()  # the refused upload was expected


def test_the_report_follows_its_items_and_the_confirmed_improvements(slack: FakeSlack, bot) -> None:
    status = complete_campaign(slack, bot)
    assert "(open)" in text_of(report_in_thread(slack, status["ts"]))
    now = datetime.now(UTC)
    with transaction(bot.rt.sessions) as session:
        review = session.scalars(select(Review)).one()
        for item in session.scalars(select(ActionItem)):
            item.status, item.completed_at = "done", now
        review.improvements_confirmed_at, review.improvements_confirmed_by = now, ALICE
        review_id = review.id

    assert refresh_review_messages(bot.rt, review_id) is True
    text = text_of(report_in_thread(slack, status["ts"]))
    assert "(open)" not in text and f"Action item 1: <@U0ALICE>, due {DUE} (done)" in text
    assert "Improvements confirmed by <@U0ALICE>." in text
    reports = [
        m
        for m in slack.thread(CHANNEL, status["ts"])
        if m.get("text", "").startswith("Lessons learned:")
    ]
    assert len(reports) == 1  # updated in place
    # Nothing changed since: calling it again touches nothing in Slack.
    updates = len(slack.calls_to("chat.update"))
    assert refresh_review_messages(bot.rt, review_id) is False
    assert len(slack.calls_to("chat.update")) == updates


def test_refreshing_a_review_without_a_report_does_nothing(slack: FakeSlack, bot) -> None:
    start(slack, "campaign Gift cards")
    complete_stage(slack, bot)
    posts = len(slack.calls_to("chat.postMessage"))
    assert refresh_review_messages(bot.rt, review_row(bot).id) is False
    assert refresh_review_messages(bot.rt, 999_999) is False
    assert len(slack.calls_to("chat.postMessage")) == posts


def test_similar_lessons_posted_just_before_a_crash_are_not_posted_twice(
    slack: FakeSlack, bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    complete_campaign(slack, bot)
    bot.settle()
    crashed = crash_after_posting(
        monkeypatch, bot.rt, when=lambda kw: event_type(kw) == SIMILAR_EVENT
    )

    slack.slash_command(BOB, CHANNEL, "/postmortem", "start campaign Boxing Day refunds SMS")
    view = slack.wait_for(lambda: slack.top_view(BOB))
    slack.submit(BOB, view["id"], {})
    slack.wait_for(lambda: crashed)  # Slack took it; the worker died before it was recorded
    for hours in (1, 2):  # the effect is retried (after its backoff)
        deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=hours))

    second = slack.messages(CHANNEL)[1]
    tips = [
        m
        for m in slack.thread(CHANNEL, second["ts"])[1:]
        if "Lessons from similar past reviews" in text_of(m)
    ]
    assert len(tips) == 1
    with transaction(bot.rt.sessions) as session:
        assert failed_effects(session) == [] and outbox.unfinished(session) == []

"""The support post-mortem after the webhook: the In Review → admin loop, reminders, features."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers.crash import crash_after_posting, event_type
from helpers.slack_walk import (
    ADMIN,
    ALICE,
    BOB,
    CHANNEL,
    REGISTRY,
    buttons,
    complete_stage,
    review_row,
    status_message,
)
from helpers.ticket_hooks import event, post
from sqlalchemy import select, update

from bot.app import effect_handlers
from bot.delivery.service import deliver_due
from bot.reviews import service
from bot.tickets import support
from sandbox.fake_slack import FakeSlack, problems
from storage import outbox
from storage import reviews as store
from storage.db import transaction
from storage.models import Review, StageSubmission
from storage.tickets import SupportReminder
from storage.types import utcnow


def texts(slack: FakeSlack, user: str) -> list[str]:
    return [m["text"] for m in slack.dms(user)]


def test_from_webhook_to_closed_with_one_round_of_changes(slack: FakeSlack, bot) -> None:
    assert post(bot, "/hooks/tickets", event()).body["created"] is True
    slack.wait_for(lambda: slack.messages(CHANNEL))
    review_id = review_row(bot).id
    for _ in range(5):  # metadata, analysis, report, action items, 1on1
        complete_stage(slack, bot, ALICE)
    assert review_row(bot).status == "in_review"
    # Only an admin may review: Alice is refused, in a modal.
    message = status_message(slack)
    slack.click(
        ALICE, "continue_review", str(review_id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    notice = slack.wait_for(lambda: slack.top_view(ALICE))
    assert notice["title"]["text"] == "Waiting on an admin"
    slack.close(ALICE, notice["id"])
    # The admin requests changes; the owner gets the comment, escaped, and a Continue button.
    complete_stage(
        slack,
        bot,
        ADMIN,
        review_outcome="changes_requested",
        review_comment="Link the courier's reply <!here>",
    )
    assert (review_row(bot).status, review_row(bot).current_stage) == ("in_progress", "report")
    dm = slack.wait_for(
        lambda: next(
            (m for m in slack.dms(ALICE) if m["text"].startswith("Changes requested")), None
        )
    )
    assert "Link the courier's reply &lt;!here&gt;" in str(dm["blocks"])
    assert "<@U0ADMIN> requested changes" in str(dm["blocks"])
    assert problems("message", dm) == []
    assert "Continue: Post-mortem report" in str(dm["blocks"])
    for _ in range(3):  # report, action items, 1on1 again
        complete_stage(slack, bot, ALICE)
    assert review_row(bot).status == "in_review"
    complete_stage(slack, bot, ADMIN, review_outcome="close")
    review = review_row(bot)
    assert (review.status, review.current_stage) == ("closed", None)
    slack.wait_for(lambda: any(t.startswith("Closed:") for t in texts(slack, ALICE)))
    assert not any(b.startswith("Continue") for b in buttons(status_message(slack)))


def test_a_non_admin_submitting_the_admin_stage_is_refused(slack: FakeSlack, bot) -> None:
    post(bot, "/hooks/tickets", event())
    slack.wait_for(lambda: slack.messages(CHANNEL))
    for _ in range(5):
        complete_stage(slack, bot, ALICE)
    review = review_row(bot)
    with transaction(bot.rt.sessions) as session:  # the server's rule, not just the button's
        from bot.reviews.service import submit_stage

        result = submit_stage(
            session,
            store.get_review(session, review.id),
            "admin_review",
            {"review_outcome": "close"},
            user_id=BOB,
            is_admin=bot.rt.is_admin(BOB),
        )
    assert result.refused == "Only a workspace admin can complete “Admin review”."
    assert review_row(bot).status == "in_review"


def test_start_process_preselects_support_with_the_trigger(slack: FakeSlack, bot) -> None:
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "start process Refund macro is wrong")
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    assert view["callback_id"] == "start_review"
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["workflow"]["element"]["initial_option"]["value"] == "support_postmortem"
    assert blocks["title"]["element"]["initial_value"] == "Refund macro is wrong"
    assert slack.submit(ALICE, view["id"], {}).ok
    slack.wait_for(lambda: slack.messages(CHANNEL))
    review = review_row(bot)
    with transaction(bot.rt.sessions) as session:
        assert store.get_draft(session, review.id, "metadata", ALICE) == {"trigger": "process"}
    message = status_message(slack)
    slack.click(
        ALICE, "continue_review", str(review.id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    stage = slack.wait_for(
        lambda: (v := slack.top_view(ALICE)) and v["callback_id"] == "stage" and v
    )
    trigger = next(b for b in stage["blocks"] if b.get("block_id") == "f.trigger")
    assert trigger["element"]["initial_option"]["value"] == "process"


def test_start_support_selects_support_without_a_draft(slack: FakeSlack, bot) -> None:
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "start support Late refund")
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["workflow"]["element"]["initial_option"]["value"] == "support_postmortem"
    assert '"d"' not in view.get("private_metadata", "")


def _age(bot, review_id: int, when: datetime) -> None:
    """Pretend the review last moved at `when`."""
    with transaction(bot.rt.sessions) as session:
        session.execute(update(Review).where(Review.id == review_id).values(created_at=when))
        session.execute(
            update(StageSubmission)
            .where(StageSubmission.review_id == review_id)
            .values(submitted_at=when)
        )


def test_reminders_for_stalled_and_waiting_post_mortems_are_sent_once(
    slack: FakeSlack, bot
) -> None:
    post(bot, "/hooks/tickets", event())
    slack.wait_for(lambda: slack.messages(CHANNEL))
    review_id = review_row(bot).id
    complete_stage(slack, bot, ALICE)  # metadata: In Progress from Mon 30 Nov 2026
    _age(bot, review_id, datetime(2026, 11, 29, 23, 0, tzinfo=UTC))  # Mon 10:00 Sydney
    at = lambda text: datetime.fromisoformat(text)  # noqa: E731
    # 5 working days later (Mon 7 Dec) is not "more than 5"; Tue 8 Dec is.
    assert str(support.sweep(bot.rt, at("2026-12-07T12:00:00+11:00"))) == "sent 0, failed 0"
    assert str(support.sweep(bot.rt, at("2026-12-08T12:00:00+11:00"))) == "sent 1, failed 0"
    assert str(support.sweep(bot.rt, at("2026-12-08T15:00:00+11:00"))) == "sent 0, failed 0"
    reminder = [m for m in slack.dms(ALICE) if m["text"].startswith("Reminder:")]
    assert [m["text"] for m in reminder] == [
        "Reminder: Ticket T-1234: Order arrived broken has not moved for 6 working days"
    ]
    assert problems("message", reminder[0]) == []
    for _ in range(4):  # to In Review
        complete_stage(slack, bot, ALICE)
    assert review_row(bot).status == "in_review"
    slack.wait_for(lambda: slack.dms(ADMIN))  # told at once, before the clock is moved
    _age(bot, review_id, datetime(2026, 12, 8, 23, 0, tzinfo=UTC))  # Wed 9 Dec 10:00
    assert str(support.sweep(bot.rt, at("2026-12-09T11:00:00+11:00"))) == "sent 1, failed 0"
    assert str(support.sweep(bot.rt, at("2026-12-10T11:00:00+11:00"))) == "sent 0, failed 0"
    # Five working days on, the admins hear again (Wed 16 Dec).
    assert str(support.sweep(bot.rt, at("2026-12-16T11:00:00+11:00"))) == "sent 1, failed 0"
    waiting = [t for t in texts(slack, ADMIN) if t.startswith("In Review:")]
    # The first is sent the moment it enters In Review; the test then moved the review's clock
    # back (a new occurrence), so the sweep tells them again.
    assert waiting == [
        "In Review: Ticket T-1234: Order arrived broken is waiting for an admin",
        "In Review: Ticket T-1234: Order arrived broken is waiting for an admin",
        "In Review: Ticket T-1234: Order arrived broken has waited 5 working days for an admin",
    ]
    with transaction(bot.rt.sessions) as session:
        rows = session.execute(select(SupportReminder.kind, SupportReminder.status)).all()
    assert sorted(rows) == [
        ("in_progress", "sent"),
        ("in_review", "sent"),
        ("in_review", "sent"),
        ("in_review", "sent"),
    ]


def test_admins_hear_at_once_when_a_post_mortem_enters_in_review_and_only_once(
    slack: FakeSlack, bot
) -> None:
    post(bot, "/hooks/tickets", event())
    slack.wait_for(lambda: slack.messages(CHANNEL))
    for _ in range(5):
        complete_stage(slack, bot, ALICE)
    assert review_row(bot).status == "in_review"
    dm = slack.wait_for(lambda: slack.dms(ADMIN))
    assert [m["text"] for m in dm] == [
        "In Review: Ticket T-1234: Order arrived broken is waiting for an admin"
    ]
    assert problems("message", dm[0]) == []
    # The sweep knows it was sent: the admins are not told twice the same day.
    assert str(support.sweep(bot.rt)) == "sent 0, failed 0"
    assert len(slack.dms(ADMIN)) == 1


def test_missing_features_are_listed_for_admins_only(slack: FakeSlack, bot) -> None:
    post(bot, "/hooks/tickets", event())
    slack.wait_for(lambda: slack.messages(CHANNEL))
    for _ in range(3):
        complete_stage(slack, bot, ALICE)
    complete_stage(
        slack,
        bot,
        ALICE,
        missing_feature=True,
        feature_request="Let resellers <b>track</b> parcels",
        admin_comment="Ask the SW devs about the courier API",
    )
    slack.slash_command(BOB, CHANNEL, "/postmortem", "features")
    slack.wait_for(lambda: slack.response_posts)
    refused = slack.response_posts[-1]["payload"]
    assert "for workspace admins only" in refused["text"]
    assert "track" not in str(refused)
    slack.slash_command(ADMIN, CHANNEL, "/postmortem", "features")
    slack.wait_for(lambda: len(slack.response_posts) == 2)
    listed = slack.response_posts[-1]["payload"]
    assert listed["text"] == "1 missing-feature request(s)"
    assert "Let resellers &lt;b&gt;track&lt;/b&gt; parcels" in str(listed["blocks"])
    assert "Ask the SW devs about the courier API" in str(listed["blocks"])
    assert problems("message", {k: v for k, v in listed.items() if k in ("text", "blocks")}) == []
    with transaction(bot.rt.sessions) as session:
        ws = store.workspace(session, "T0TEST")
        assert support.count_feature_requests(session, ws.id) == 1
    # ...and counted in the next meeting's digest.
    from bot.digest import service as digest
    from bot.digest.views import as_mrkdwn

    preview = digest.preview(bot.rt, "T0TEST", datetime.now(UTC))
    assert "Missing-feature requests from new support post-mortems: 1" in as_mrkdwn(preview.message)


def test_the_decision_dm_posted_just_before_a_crash_is_not_sent_twice(
    slack: FakeSlack, bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin closed the post-mortem; the worker DMing the owner died just after Slack took
    the DM. The retry finds it by its metadata: the owner is told once."""
    with transaction(bot.rt.sessions) as session:
        review = service.start_review(
            session,
            REGISTRY["support_postmortem"],
            team_id="T0TEST",
            title="Refund took three weeks",
            channel_id=CHANNEL,
            owner_id=ALICE,
            started_by=ALICE,
        )
        outbox.enqueue(  # due later than the bot's own delivery thread looks (the real clock)
            session,
            "tickets.decision",
            {
                "review_id": review.id,
                "stage_key": "admin_review",
                "actor": ADMIN,
                "complete": True,
                "looped_back": False,
                "next_stage": None,
                "answers": {"review_outcome": "close", "review_comment": "Well handled"},
            },
            now=utcnow() + timedelta(minutes=30),
        )
    crashed = crash_after_posting(
        monkeypatch, bot.rt, when=lambda kw: event_type(kw) == support.DECISION_EVENT
    )

    for hours in (1, 2):  # the first attempt, then its retry after the backoff
        deliver_due(bot.rt, effect_handlers(), utcnow() + timedelta(hours=hours))

    assert len(crashed) == 1
    closed = [t for t in texts(slack, ALICE) if t.startswith("Closed:")]
    assert len(closed) == 1
    with transaction(bot.rt.sessions) as session:
        assert outbox.unfinished(session) == []

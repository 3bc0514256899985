"""`POST /hooks/tickets` and `/hooks/clickup` against the real app and the fake Slack."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from helpers.ticket_hooks import TOKEN, clickup_task, event, post
from sqlalchemy import func, select

from bot.tickets.service import suggest_stale
from sandbox.fake_slack import FakeSlack, problems
from storage import knowledge as kb
from storage import reviews as store
from storage.db import transaction
from storage.models import Review
from storage.tickets import Ticket

ALICE, BOB = "U0ALICE", "U0BOB"


def reviews(bot) -> list[Review]:
    with transaction(bot.rt.sessions) as session:
        return list(session.scalars(select(Review).order_by(Review.id)))


def start_buttons(slack: FakeSlack, user: str) -> list[dict]:
    return [
        e
        for m in slack.dms(user)
        for b in m.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("text", {}).get("text") == "Start"
    ]


def test_low_ces_delivered_three_times_at_once_creates_one_assigned_post_mortem(
    slack: FakeSlack, bot
) -> None:
    slack.set_delay("users.lookupByEmail", 0.3)  # the three reach the database together
    replies = []
    threads = [
        threading.Thread(target=lambda: replies.append(post(bot, "/hooks/tickets", event())))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in replies] == [200, 200, 200]
    assert sorted(r.body["created"] for r in replies) == [False, False, True]
    assert len({r.body["review"] for r in replies}) == 1
    [review] = reviews(bot)
    assert (review.owner_id, review.workflow_key, review.trigger, review.trigger_ref) == (
        ALICE,
        "support_postmortem",
        "webhook",
        "ticket:T-1234",
    )
    assert review.title == "Ticket T-1234: Order arrived broken"
    slack.wait_for(lambda: slack.messages("C0REVIEWS"))
    assert len(slack.messages("C0REVIEWS")) == 1  # one status message
    [button] = start_buttons(slack, ALICE)
    assert (button["action_id"], button["value"]) == ("continue_review", str(review.id))
    dm = slack.dms(ALICE)[0]
    assert "CES 4/7" in str(dm["blocks"]) and "<https://help.example.com/t/1234|" in str(dm)
    assert problems("message", dm) == []
    with transaction(bot.rt.sessions) as session:
        draft = store.get_draft(session, review.id, "metadata", ALICE)
        ticket = session.scalars(select(Ticket)).one()
    assert draft == {
        "trigger": "low_ces",
        "ticket_owner": ALICE,
        "customer_type": "reseller",
        "category": "delivery",
        "ticket_link": "https://help.example.com/t/1234",
        "ces_score": "4",
    }
    assert (ticket.review_id, ticket.owner_id, ticket.ces_score) == (review.id, ALICE, 4)
    # A later delivery of the same ticket still answers with the same review.
    again = post(bot, "/hooks/tickets", event(subject="Order arrived broken (reopened)"))
    assert again.body == {
        "ok": True,
        "ticket": "T-1234",
        "review": review.id,
        "created": False,
        "low_ces": True,
        "stale_suggested": False,
    }
    assert len(reviews(bot)) == 1 and len(start_buttons(slack, ALICE)) == 1


def test_a_tickets_post_mortem_is_shown_similar_past_lessons_as_one_started_in_slack(
    slack: FakeSlack, bot
) -> None:
    with transaction(bot.rt.sessions) as session:
        ws = store.workspace(session, bot.rt.team_id())
        version = store.pin_workflow(session, "older_process", 1, "x", {})
        title = "Order arrived broken again"
        past = store.create_review(
            session,
            ws,
            version,
            store.NewReview(
                title=title, channel_id="C0REVIEWS", owner_id=BOB, started_by=BOB, first_stage="a"
            ),
        )
        kb.upsert_entry(
            session,
            workspace_id=ws.id,
            review_id=past.id,
            workflow_key="older_process",
            title=title,
            lessons="Pack glassware in double boxes.",
            root_causes="Single boxes for glass.",
            created_at=datetime(2026, 6, 1, tzinfo=UTC),
        )

    assert post(bot, "/hooks/tickets", event()).body["created"]  # "Order arrived broken"
    status = slack.wait_for(lambda: slack.messages("C0REVIEWS"))[0]
    tip = slack.wait_for(lambda: slack.thread("C0REVIEWS", status["ts"])[1:])[0]
    assert "Lessons from similar past reviews" in str(tip["blocks"])
    assert "Pack glassware in double boxes." in str(tip["blocks"])


def test_the_owner_starts_from_the_dm_with_the_ticket_filled_in(slack: FakeSlack, bot) -> None:
    post(bot, "/hooks/tickets", event(owner=BOB))  # a Slack user id works as well as an e-mail
    [review] = reviews(bot)
    assert review.owner_id == BOB
    slack.wait_for(lambda: start_buttons(slack, BOB))
    dm = slack.dms(BOB)[0]
    slack.click(
        BOB,
        "continue_review",
        str(review.id),
        channel_id=slack.workspace.dm_for(BOB)["id"],
        message_ts=dm["ts"],
    )
    view = slack.wait_for(lambda: slack.top_view(BOB))
    assert view["callback_id"] == "stage"
    assert "https://help.example.com/t/1234" in str(view["blocks"])
    reply = slack.submit(BOB, view["id"], {})  # nothing to add: the metadata is complete
    assert reply.ok and not reply.errors, reply.errors
    slack.wait_for(lambda: reviews(bot)[0].current_stage == "analysis")
    with transaction(bot.rt.sessions) as session:
        answers = store.latest_answers(session, review.id)["metadata"]
    assert answers["trigger"] == "low_ces" and answers["ces_score"] == "4"
    assert answers["ticket_owner"] == BOB and answers["category"] == "delivery"


def test_ces_6_and_7_create_nothing(slack: FakeSlack, bot) -> None:
    for ticket, score in (("T-6", 6), ("T-7", 7)):
        reply = post(bot, "/hooks/tickets", event(ticket_id=ticket, ces_score=score))
        assert reply.status == 200
        assert reply.body["review"] is None and reply.body["created"] is False
    assert reviews(bot) == []
    assert slack.dms(ALICE) == []
    with transaction(bot.rt.sessions) as session:
        assert session.scalar(select(func.count(Ticket.id))) == 2  # recorded all the same


def test_bad_requests_get_clear_errors_and_change_nothing(slack: FakeSlack, bot) -> None:
    wrong = post(bot, "/hooks/tickets", event(), token="not-the-token-at-all")
    assert wrong.status == 401 and wrong.body["ok"] is False
    assert post(bot, "/hooks/tickets", event(), token=None).status == 401
    bad_json = post(bot, "/hooks/tickets", None, raw=b'{"ticket_id": "T-1",')
    assert bad_json.status == 400
    assert bad_json.body["field"] is None and "not valid JSON" in bad_json.body["error"]
    missing = post(bot, "/hooks/tickets", event(owner=...))
    assert (missing.status, missing.body) == (
        400,
        {"ok": False, "error": "owner is required", "field": "owner"},
    )
    scale = post(bot, "/hooks/tickets", event(ces_score=9))
    assert (scale.status, scale.body["field"]) == (400, "ces_score")
    far = post(bot, "/hooks/tickets", event(opened_at="9999-12-31T23:59:59-14:00", closed_at=...))
    assert (far.status, far.body["field"]) == (400, "opened_at")  # not a 500 OverflowError
    assert far.body["error"] == "opened_at: is out of range (years 1970 to 9998)"
    sneaky = post(
        bot,
        "/hooks/tickets",
        event(url="https://help.example.com/t/9><!channel><https://evil.example|click"),
    )
    assert (sneaky.status, sneaky.body["field"]) == (400, "url")
    nul = post(bot, "/hooks/tickets", event(ticket_id="T-1\u0000"))
    assert (nul.status, nul.body["field"]) == (400, "ticket_id")
    unknown = post(bot, "/hooks/tickets", event(owner="nobody@example.com"))
    assert (unknown.status, unknown.body["field"]) == (400, "owner")
    assert "nobody@example.com" in unknown.body["error"]
    assert post(bot, "/hooks/zendesk", event()).status == 404
    assert reviews(bot) == [] and slack.dms(ALICE) == []
    with transaction(bot.rt.sessions) as session:
        assert session.scalar(select(func.count(Ticket.id))) == 0
    slack.reset_calls()  # users.lookupByEmail failed on purpose


def test_without_a_configured_token_the_webhook_is_off(slack: FakeSlack, engine, bot_with) -> None:
    bot = bot_with(slack, engine, POSTMORTEM_SUPPORT_CHANNEL="C0REVIEWS")
    assert post(bot, "/hooks/tickets", event(), token="").status == 401
    assert post(bot, "/hooks/tickets", event(), token=TOKEN).status == 401


def test_a_clickup_automation_payload_starts_a_post_mortem(slack: FakeSlack, bot) -> None:
    reply = post(bot, "/hooks/clickup", clickup_task())
    assert reply.status == 200 and reply.body["created"] is True
    [review] = reviews(bot)
    assert (review.owner_id, review.trigger_ref) == (ALICE, "ticket:SUP-43")
    with transaction(bot.rt.sessions) as session:
        draft = store.get_draft(session, review.id, "metadata", ALICE)
        ticket = session.scalars(select(Ticket)).one()
    assert draft["customer_type"] == "end_user" and draft["category"] == "product_defect"
    assert ticket.source == "clickup" and ticket.raw["payload"]["id"] == "8687096vn"
    plain = post(
        bot, "/hooks/clickup", {"event": "taskUpdated", "task_id": "8687096vn", "history_items": []}
    )
    assert (plain.status, plain.body["field"]) == (400, "payload")


def test_a_ticket_open_over_14_days_suggests_a_post_mortem_once(slack: FakeSlack, bot) -> None:
    opened = (datetime.now(UTC) - timedelta(days=20)).isoformat()
    for _ in range(2):
        reply = post(
            bot,
            "/hooks/tickets",
            event(ticket_id="T-OLD", ces_score=..., closed_at=None, opened_at=opened),
        )
        assert reply.status == 200
    assert [m["text"] for m in slack.dms(ALICE)] == [
        "Ticket T-OLD has been open 20 days: a post-mortem?"
    ]
    assert suggest_stale(bot.rt) == 0  # the sweep knows it was suggested
    dm = slack.dms(ALICE)[0]
    with transaction(bot.rt.sessions) as session:
        row_id = session.scalars(select(Ticket.id)).one()
    slack.click(
        ALICE,
        "ticket_postmortem",
        str(row_id),
        channel_id=slack.workspace.dm_for(ALICE)["id"],
        message_ts=dm["ts"],
    )
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    assert view["callback_id"] == "stage"
    [review] = reviews(bot)
    assert (review.trigger, review.trigger_ref, review.owner_id) == (
        "stale_ticket",
        "ticket:T-OLD",
        ALICE,
    )
    with transaction(bot.rt.sessions) as session:
        assert store.get_draft(session, review.id, "metadata", ALICE)["trigger"] == "stale_ticket"


def test_tickets_stale_command_suggests_for_recorded_tickets(
    slack: FakeSlack, bot, monkeypatch
) -> None:
    opened = datetime.now(UTC) - timedelta(days=10)
    post(
        bot,
        "/hooks/tickets",
        event(ticket_id="T-SLOW", ces_score=..., closed_at=None, opened_at=opened.isoformat()),
    )
    assert slack.dms(ALICE) == []  # 10 days: not yet
    from bot.tickets import cli as tickets_cli

    monkeypatch.setattr(tickets_cli, "runtime", lambda: bot.rt)
    later = (opened + timedelta(days=15)).isoformat()
    result = CliRunner().invoke(tickets_cli.tickets, ["stale", "--now", later])
    assert result.exit_code == 0, result.output
    assert result.output == "suggested a post-mortem for 1 stale ticket(s)\n"
    result = CliRunner().invoke(tickets_cli.tickets, ["stale", "--now", later])
    assert result.output == "suggested a post-mortem for 0 stale ticket(s)\n"
    bot.settle()  # the suggestion is delivered from the outbox
    assert len(slack.dms(ALICE)) == 1
    assert CliRunner().invoke(tickets_cli.tickets, ["stale", "--now", "2026-12-01"]).exit_code == 1


def test_nul_in_the_subject_is_dropped_on_both_databases(slack: FakeSlack, bot) -> None:
    reply = post(
        bot,
        "/hooks/tickets",
        event(subject="Order\u0000 arrived broken", note="from\u0000 the form"),
    )
    assert reply.status == 200, reply.body
    with transaction(bot.rt.sessions) as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.subject == "Order arrived broken"
        assert ticket.raw["note"] == "from the form"
    assert reviews(bot)[0].title == "Ticket T-1234: Order arrived broken"


def test_slack_failing_while_the_owner_is_checked_asks_for_redelivery(
    slack: FakeSlack, bot
) -> None:
    """A Slack outage used to answer 400 "is not a Slack user here" for an owner given as a
    user id, and a helpdesk does not redeliver a 400: the ticket was lost (found by the chaos
    test)."""
    slack.fail("users.info", "internal_error", times=10_000, status=500)
    during = post(bot, "/hooks/tickets", event(owner=BOB))
    assert during.status == 503 and "again later" in during.body["error"]
    slack.clear_faults()
    after = post(bot, "/hooks/tickets", event(owner=BOB))  # the helpdesk's redelivery
    assert after.status == 200 and after.body["created"] is True
    unknown = post(bot, "/hooks/tickets", event(ticket_id="T-2", owner="U0NOBODY"))
    assert (unknown.status, unknown.body["field"]) == (400, "owner")  # still refused for good
    assert len(reviews(bot)) == 1
    slack.reset_calls()  # the failures were the point

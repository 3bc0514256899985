"""A person in Slack walks each workflow from `/postmortem start` to completion."""

from __future__ import annotations

import time

from helpers.slack_walk import (
    ADMIN,
    ALICE,
    BOB,
    CHANNEL,
    REGISTRY,
    buttons,
    choose,
    complete_stage,
    enter,
    menu,
    review_row,
    start,
    status_message,
    walk,
)
from sqlalchemy import select

from bot.reviews.views.stage_modal import entered_values
from sandbox.fake_slack import FakeSlack
from storage.db import transaction
from storage.models import ActionItem
from workflows.samples import sample_answers


def test_campaign_postmortem_from_start_to_summary(slack: FakeSlack, bot) -> None:
    visited = walk(
        slack, bot, "campaign_postmortem", "Black Friday email", {"systemic_issues": ["yes"]}
    )
    assert visited == ["data_gathering", "team_sync", "lessons_learned", "action_items"]
    message = status_message(slack)

    # The status message and one reply in its thread, the report; never re-posted.
    def channel_posts() -> list:
        return [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == CHANNEL]

    slack.wait_for(lambda: len(channel_posts()) >= 2)
    time.sleep(0.3)  # a second reply would come from the same hooks, right after
    assert len(channel_posts()) == 2
    dm = slack.wait_for(lambda: slack.dms(ALICE))[0]  # the sample action item's owner
    assert "New action item for you" in dm["text"]
    status_updates = [c for c in slack.calls_to("chat.update") if c.params["ts"] == message["ts"]]
    assert len(status_updates) == 4  # updated in place after every stage
    assert message["blocks"][0]["text"]["text"] == "Black Friday email"
    # Secondary actions in one menu; no consumer guarantees for an email campaign.
    assert buttons(message) == []
    assert menu(message) == ["Edit a stage", "Add action item", "Export"]
    facts = " ".join(f["text"] for f in message["blocks"][1]["fields"])
    assert "Complete" in facts and "<@U0ALICE>" in facts
    assert "The report is in the thread." in str(message["blocks"])
    replies = slack.thread(CHANNEL, message["ts"])[1:]
    assert [m["text"] for m in replies] == ["Lessons learned: Black Friday email"]
    text = " ".join(
        b["text"]["text"] for b in replies[0]["blocks"] if b["type"] == "section" and "text" in b
    )
    assert "*Lessons learned*\nLessons learned 1" in text
    assert "Summary:" not in text and "(comma-separated)" not in text
    review = review_row(bot)
    assert review.status == "complete" and review.permalink.startswith("https://")


def test_service_delivery_loops_back_on_revision(slack: FakeSlack, bot) -> None:
    visited = walk(
        slack,
        bot,
        "service_delivery",
        "Spring catalogue",
        {
            "on_track": ["yes", "yes"],
            "risk_mitigation": ["no", "no"],
            "quality_outcome": ["revision_required", "approved"],
            "accepted": ["yes"],
        },
    )
    assert visited == [
        "kickoff",
        "planning",
        "execution",
        "quality_review",
        "execution",
        "quality_review",
        "customer_acceptance",
        "closure",
    ]
    assert review_row(bot).status == "complete"


def test_a_stage_sent_back_says_why_in_the_message_the_form_and_the_report(
    slack: FakeSlack, bot
) -> None:
    start(slack, "service Autumn catalogue")
    for _ in range(3):  # kickoff, planning, execution
        complete_stage(slack, bot, on_track="yes", risk_mitigation="no")
    complete_stage(
        slack,
        bot,
        BOB,
        quality_outcome="revision_required",
        revision_notes="Fix the broken <b>links</b> on page 4",
    )
    message = status_message(slack)
    blocks = {b["block_id"]: b for b in message["blocks"]}
    why = blocks["sent_back"]["text"]["text"]
    assert "*Sent back to Execution* from Quality Review by <@U0BOB> on " in why
    assert ": Revision required" in why
    assert "*What needs revising*\n>Fix the broken &lt;b&gt;links&lt;/b&gt; on page 4" in why
    # The reopened form starts with the same explanation.
    slack.click(
        ALICE,
        "continue_review",
        str(review_row(bot).id),
        channel_id=CHANNEL,
        message_ts=message["ts"],
    )
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    assert [b["block_id"] for b in form["blocks"][:2]] == ["purpose", "sent_back"]
    assert form["blocks"][1]["text"]["text"] == why
    slack.close(ALICE, form["id"])
    complete_stage(slack, bot, on_track="yes", risk_mitigation="no")
    complete_stage(slack, bot, BOB, quality_outcome="approved", revision_notes="")
    assert "sent_back" not in {b["block_id"] for b in status_message(slack)["blocks"]}
    for _ in range(2):  # customer acceptance, closure
        complete_stage(slack, bot, accepted="yes")

    def thread_text() -> str:
        return " ".join(
            b["text"]["text"]
            for m in slack.thread(CHANNEL, message["ts"])
            for b in m.get("blocks", [])
            if b["type"] == "section" and "text" in b
        )

    slack.wait_for(lambda: "• Quality Review, pass" in thread_text())
    assert (
        "• Quality Review, pass 1: Revision required — Fix the broken &lt;b&gt;links&lt;/b&gt;"
        " on page 4; pass 2: Approved"
    ) in thread_text()


def test_support_postmortem_needs_an_admin_to_close(slack: FakeSlack, bot) -> None:
    start(slack, "support Order arrived broken")
    review_id = review_row(bot).id
    for _ in range(5):
        complete_stage(slack, bot)
    assert review_row(bot).status == "in_review"
    # The admins hear at once, without waiting for a reminder sweep.
    dm = slack.wait_for(lambda: slack.dms(ADMIN))[0]
    assert dm["text"] == "In Review: Order arrived broken is waiting for an admin"
    # The message (the same for everyone) says who it waits on: no green button for all.
    message = status_message(slack)
    go = next(
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "continue_review"
    )
    assert go["text"]["text"] == "Continue: Admin review" and "style" not in go
    waiting = next(b for b in message["blocks"] if b["block_id"] == "waiting")
    assert "*Waiting on an admin* to complete “Admin review”" in str(waiting)
    # Alice is not an admin: refused before she types anything, and told what happens next.
    slack.click(
        ALICE, "continue_review", str(review_id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    notice = slack.wait_for(lambda: slack.top_view(ALICE))
    assert notice["title"]["text"] == "Waiting on an admin"
    assert "Only a workspace admin can complete “Admin review”." in str(notice["blocks"])
    assert "The admins have been told it is waiting" in str(notice["blocks"])
    slack.close(ALICE, notice["id"])
    complete_stage(
        slack,
        bot,
        ADMIN,
        review_outcome="close",
        review_comment="Clear analysis <3; share it at the meeting",
    )
    assert review_row(bot).status == "closed"
    # The owner's DM carries the admin's comment, escaped.
    closed = slack.wait_for(
        lambda: next((m for m in slack.dms(ALICE) if m["text"].startswith("Closed:")), None)
    )
    assert "Clear analysis &lt;3; share it at the meeting" in str(closed["blocks"])
    # Editing: the admin's stage is offered to admins only.

    def picker_stages(user: str) -> list[str]:
        choose(slack, user, "stage_edit", message)
        picker = slack.wait_for(lambda: slack.top_view(user))
        slack.close(user, picker["id"])
        return [o["value"] for o in picker["blocks"][1]["element"]["options"]]

    assert "admin_review" not in picker_stages(ALICE)
    assert "report" in picker_stages(ALICE)
    assert "admin_review" in picker_stages(ADMIN)


def test_validation_errors_show_next_to_the_field(slack: FakeSlack, bot) -> None:
    message = start(slack, "campaign Winter sale")
    review_id = review_row(bot).id
    slack.click(
        ALICE, "continue_review", str(review_id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    stage = REGISTRY["campaign_postmortem"].stage("data_gathering")
    values = enter(slack, ALICE, stage, sample_answers(stage))
    view = slack.top_view(ALICE)
    values["f.budget"] = {"v": "12.345"}
    reply = slack.submit(ALICE, view["id"], values)
    assert reply.errors == {"f.budget": "Enter dollars and cents: at most two decimal places."}
    assert slack.top_view(ALICE)["id"] == view["id"]  # still open, nothing lost
    values["f.budget"] = {"v": "12.35"}
    assert slack.submit(ALICE, view["id"], values).ok
    slack.wait_for(lambda: review_row(bot).current_stage == "team_sync")


def test_a_closed_form_reopens_with_its_draft(slack: FakeSlack, bot) -> None:
    message = start(slack, "campaign Autumn launch")
    review_id = review_row(bot).id
    slack.click(
        ALICE, "continue_review", str(review_id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    slack.fill(
        ALICE,
        view["id"],
        {"f.performance_data": {"v": "Open rate 31%, CTR 2.4%"}, "f.category": {"v": "email"}},
    )
    slack.close(ALICE, view["id"])
    slack.wait_for(lambda: slack.top_view(ALICE) is None)
    time.sleep(0.2)  # the view_closed handler saves after its ack
    slack.click(
        ALICE, "continue_review", str(review_id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    reopened = slack.wait_for(lambda: slack.top_view(ALICE))
    blocks = {b["block_id"]: b for b in reopened["blocks"]}
    assert blocks["f.performance_data"]["element"]["initial_value"] == "Open rate 31%, CTR 2.4%"
    assert blocks["f.category"]["element"]["initial_option"]["value"] == "email"


def test_add_another_action_item(slack: FakeSlack, bot) -> None:
    start(slack, "campaign Gift guide")
    review_id = review_row(bot).id
    for _ in range(3):
        complete_stage(slack, bot)
    message = status_message(slack)
    slack.click(
        ALICE, "continue_review", str(review_id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    slack.fill(ALICE, view["id"], {"g.action_items.0.title": {"v": "Check stock feeds"}})
    slack.click(ALICE, "add_row", "action_items", view_id=view["id"])
    slack.wait_for(lambda: "g.action_items.1.title" in str(slack.top_view(ALICE)["blocks"]))
    view = slack.top_view(ALICE)
    reply = slack.submit(
        ALICE,
        view["id"],
        {
            "g.action_items.0.owner": {"v": BOB},
            "g.action_items.0.due_date": {"v": "2026-12-04"},
            "g.action_items.1.title": {"v": "Add a promo-code test"},
            "g.action_items.1.owner": {"v": ALICE},
            "g.action_items.1.due_date": {"v": "2026-12-11"},
        },
    )
    assert reply.ok and not reply.errors, reply.errors
    slack.wait_for(lambda: review_row(bot).current_stage is None)
    with transaction(bot.rt.sessions) as session:
        items = session.scalars(select(ActionItem).order_by(ActionItem.position)).all()
        assert [(i.title, i.owner_id) for i in items] == [
            ("Check stock feeds", BOB),
            ("Add a promo-code test", ALICE),
        ]


def test_list_help_and_unknown_subcommands_answer_ephemerally(slack: FakeSlack, bot) -> None:
    start(slack, "campaign Boxing Day <!channel>")
    slack.slash_command(BOB, CHANNEL, "/postmortem", "list")
    slack.slash_command(BOB, CHANNEL, "/postmortem", "help")
    slack.slash_command(BOB, CHANNEL, "/postmortem", "frobnicate")
    slack.wait_for(lambda: len(slack.response_posts) >= 3)
    posts = sorted(
        (p["payload"] for p in slack.response_posts),
        key=lambda p: ("Reviews" not in str(p), "start [workflow]" not in str(p)),
    )
    texts = [str(p.get("blocks") or p.get("text")) for p in posts]
    assert "Boxing Day &lt;!channel&gt;" in texts[0]  # escaped: nobody gets pinged
    assert "/postmortem start [workflow] [title]" in texts[1]
    assert "I don't know `/postmortem frobnicate`" in texts[2]
    assert all(p.get("response_type", "ephemeral") == "ephemeral" for p in posts)


def test_app_home_shows_what_waits_on_me(slack: FakeSlack, bot) -> None:
    start(slack, "support Late refund")
    slack.open_home(ALICE)
    home = slack.wait_for(lambda: slack.home(ALICE))
    text = str(home["blocks"])
    assert "Late refund" in text and "Ticket details" in text
    assert "continue_review" in text


def test_forged_and_replayed_requests_are_refused(slack: FakeSlack, bot) -> None:
    assert slack.slash_command(ALICE, CHANNEL, "/postmortem", "help", forged=True).status == 401
    stale = time.time() - 6 * 60
    assert slack.slash_command(ALICE, CHANNEL, "/postmortem", "help", timestamp=stale).status == 401
    assert slack.response_posts == []


def test_a_rate_limited_update_is_retried(slack: FakeSlack, bot) -> None:
    start(slack, "campaign Flash sale")
    slack.rate_limit("chat.update", times=1, retry_after=1)
    complete_stage(slack, bot)
    slack.wait_for(lambda: len(slack.calls_to("chat.update")) == 2)
    assert [c.error for c in slack.calls_to("chat.update")] == ["ratelimited", None]
    assert "Continue: Post-Mortem Team Sync" in buttons(status_message(slack))
    slack.calls[:] = [c for c in slack.calls if c.error != "ratelimited"]


def test_a_long_stage_spans_pages_and_keeps_every_answer(slack: FakeSlack, bot) -> None:
    walk_to = ["kickoff", "planning", "execution", "quality_review", "customer_acceptance"]
    start(slack, "service Summer campaign")
    for _ in walk_to:
        complete_stage(slack, bot)
    message = status_message(slack)
    slack.click(
        ALICE,
        "continue_review",
        str(review_row(bot).id),
        channel_id=CHANNEL,
        message_ts=message["ts"],
    )
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    slack.fill(
        ALICE,
        view["id"],
        {"f.invoice_number": {"v": "INV-0042"}, "f.invoice_date": {"v": "2026-12-14"}},
    )
    for rows in range(2, 11):
        slack.click(ALICE, "add_row", "invoice_lines", view_id=view["id"])
        slack.wait_for(
            lambda r=rows: (
                f"invoice_lines.{r - 1}.description" in str(slack.top_view(ALICE)["blocks"])
            )
        )
    stage = REGISTRY["service_delivery"].stage("closure")
    answers = sample_answers(
        stage,
        invoice_lines=[
            {
                "description": f"Line {i}",
                "quantity": "2",
                "gst_free": i == 3,
                "unit_price": {"amount": "55.00", "gst": "exclusive"},
            }
            for i in range(10)
        ],
    )
    entered = entered_values(stage, answers)
    pages_seen = []
    for _ in range(5):
        view = slack.top_view(ALICE)
        if view is None:
            break
        pages_seen.append(
            next(
                e["text"]
                for b in view["blocks"]
                if b["block_id"] == "notes"
                for e in b["elements"]
                if e["text"].startswith("Stage")
            )
        )
        ids = {b["block_id"] for b in view["blocks"]}
        reply = slack.submit(ALICE, view["id"], {k: v for k, v in entered.items() if k in ids})
        assert reply.ok and not reply.errors, reply.errors
    # Ten lines push the group to a page of its own; what was typed above it is kept.
    assert pages_seen == ["Stage 6 of 6 · page 2 of 3", "Stage 6 of 6 · page 3 of 3"]
    slack.wait_for(lambda: review_row(bot).status == "complete")
    with transaction(bot.rt.sessions) as session:
        from storage import reviews as store

        closure = store.latest_answers(session, review_row(bot).id)["closure"]
    assert [line["description"] for line in closure["invoice_lines"]] == [
        f"Line {i}" for i in range(10)
    ]
    assert closure["invoice_lines"][3]["gst_free"] is True
    assert closure["lessons"] == answers["lessons"]
    assert (closure["invoice_number"], closure["invoice_date"]) == ("INV-0042", "2026-12-14")


def test_the_owner_edits_a_submitted_stage_and_the_lesson_follows(slack: FakeSlack, bot) -> None:
    walk(slack, bot, "campaign_postmortem", "Click and collect", {"systemic_issues": ["no"]})
    review = review_row(bot)
    message = status_message(slack)
    assert "Edit a stage" in menu(message)
    # Bob is not the owner: refused on the server.
    choose(slack, BOB, "stage_edit", message)
    assert slack.wait_for(lambda: slack.top_view(BOB))["title"]["text"] == "Not for you"
    choose(slack, ALICE, "stage_edit", message)
    picker = slack.wait_for(lambda: slack.top_view(ALICE))
    reply = slack.submit(ALICE, picker["id"], {"stage": {"v": "lessons_learned"}})
    assert reply.ok
    form = slack.top_view(ALICE)
    assert form["submit"]["text"] == "Save changes"
    blocks = {b["block_id"]: b for b in form["blocks"]}
    assert blocks["f.lessons"]["element"]["initial_value"] == "Lessons learned 1"
    assert slack.submit(
        ALICE,
        form["id"],
        {"f.lessons": {"v": "Check courier cut-off times before promising same-day pickup"}},
    ).ok
    slack.wait_for(lambda: "courier" in str(slack.thread(CHANNEL, message["ts"])))
    with transaction(bot.rt.sessions) as session:
        from storage import reviews as store

        history = store.stage_history(session, review.id, "lessons_learned")
        assert [h.revision for h in history] == [1, 2]
        assert history[0].answers["lessons"] == "Lessons learned 1"
        again = store.get_review(session, review.id)
        assert (again.status, again.current_stage) == ("complete", None)
        assert "stage.edited" in [e.action for e in store.audit_trail(session, review.id)]
    slack.slash_command(BOB, CHANNEL, "/postmortem", "search courier")
    found = slack.wait_for(lambda: slack.response_posts)[-1]["payload"]
    assert "Click and collect" in str(found)


def test_export_from_the_reviews_message_uploads_the_record(slack: FakeSlack, bot) -> None:
    walk(
        slack,
        bot,
        "support_postmortem",
        "Late refund",
        {"review_outcome": ["close"]},
        admin_stages=("admin_review",),
    )
    message = status_message(slack)
    choose(slack, ALICE, "export_review", message)
    uploaded = slack.wait_for(lambda: slack.uploaded_files())
    assert (uploaded[0]["name"], uploaded[0]["title"]) == (
        f"review-{review_row(bot).id}-late-refund.md",
        "Review record: Late refund",
    )
    assert uploaded[0]["content"].startswith(b"# Lessons learned: Late refund")

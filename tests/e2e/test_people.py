"""The whole team takes part: participants invited once, stages handed to a person, lessons told.

Through the fake Slack with signed requests, as people click: Alice starts a campaign review
naming participants (people and a user group) and a stakeholder, adds someone later, hands the
Lessons stage to Bob, who does it from his DM while Carol (neither owner, admin nor assignee) is
refused; everyone on the review gets the lessons. A service delivery review hands its Quality
Review to the reviewer named at kickoff; the stage-waiting nudge runs on a controlled clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner
from helpers.slack_walk import (
    ALICE,
    BOB,
    CHANNEL,
    REGISTRY,
    choose,
    complete_stage,
    enter,
    review_row,
    start,
    status_message,
)
from sqlalchemy import Engine

from bot.cli.main import main
from bot.people import service
from sandbox.fake_slack import FakeSlack
from storage import assignments
from storage.db import transaction
from workflows.samples import sample_answers

CAROL, DAN, ERIN, FRANK, STAKE = "U0CAROL", "U0DAN", "U0ERIN", "U0FRANK", "U0STAKE"


def team(slack: FakeSlack) -> None:
    for user_id, name in (
        (CAROL, "carol.t"),
        (DAN, "dan"),
        (ERIN, "erin"),
        (FRANK, "frank"),
        (STAKE, "sam"),
    ):
        slack.add_user(user_id, name)
    slack.add_usergroup("S0DESIGN", "design", "Design team", [ERIN, DAN])


def dms_of(slack: FakeSlack, user: str, event: str) -> list[dict]:
    return [m for m in slack.dms(user) if (m.get("metadata") or {}).get("event_type") == event]


def text_of(message: dict) -> str:
    return str(message.get("blocks")) + message.get("text", "")


def test_a_campaign_review_takes_the_whole_team_along(slack: FakeSlack, bot) -> None:
    team(slack)
    message = start(
        slack,
        "campaign Black Friday <email>",
        participants={"v": [BOB, DAN]},
        people_groups={"v": ["S0DESIGN"]},  # Erin and Dan
        stakeholders={"v": [STAKE]},
    )
    bot.settle()
    for person in (BOB, DAN, ERIN):  # three participants, each invited once
        invites = slack.wait_for(lambda p=person: dms_of(slack, p, "postmortem_invitation"))
        assert len(invites) == 1, person
        text = text_of(invites[0])
        assert "Black Friday &lt;email&gt;" in text and "<@U0ALICE>" in text
        assert "blameless" in text and "Data Gathering" in text
        assert "/archives/C0REVIEWS/" in text  # a link to the status message
    assert dms_of(slack, STAKE, "postmortem_invitation") == []  # stakeholders hear the lessons
    message = slack.wait_for(
        lambda: "Participants:" in str(status_message(slack)["blocks"]) and status_message(slack)
    )
    assert "<@U0BOB> <@U0DAN> <@U0ERIN>" in str(message["blocks"])
    review_id = review_row(bot).id

    # Carol is neither the owner nor an admin: the People form is not hers.
    slack.click(CAROL, "people_open", str(review_id), channel_id=CHANNEL, message_ts=message["ts"])
    refused = slack.wait_for(lambda: slack.top_view(CAROL))
    assert "Only the review's owner or an admin can change who takes part." in str(refused)

    # Alice adds Frank later: only Frank is invited.
    slack.click(ALICE, "people_open", str(review_id), channel_id=CHANNEL, message_ts=message["ts"])
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    assert form["callback_id"] == "people_edit"
    reply = slack.submit(
        ALICE,
        form["id"],
        {"participants": {"v": [BOB, DAN, ERIN, FRANK]}, "stakeholders": {"v": [STAKE]}},
    )
    assert reply.ok and not reply.errors, reply.body
    bot.settle()
    slack.wait_for(lambda: dms_of(slack, FRANK, "postmortem_invitation"))
    for person in (BOB, DAN, ERIN, FRANK):
        assert len(dms_of(slack, person, "postmortem_invitation")) == 1, person

    complete_stage(slack, bot)  # data gathering
    complete_stage(slack, bot)  # team sync
    assert review_row(bot).current_stage == "lessons_learned"

    # The owner hands the Lessons stage to Bob; Bob gets the DM with its button.
    choose(slack, ALICE, "stage_assign", status_message(slack))
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    assert form["callback_id"] == "stage_assign_pick"
    reply = slack.submit(
        ALICE, form["id"], {"stage": {"v": "lessons_learned"}, "assignee": {"v": BOB}}
    )
    assert reply.ok and not reply.errors, reply.body
    bot.settle()
    handed = slack.wait_for(lambda: dms_of(slack, BOB, "postmortem_stage_assigned"))
    assert len(handed) == 1
    assert "waiting on you for Lessons Learned Documentation" in handed[0]["text"]
    waiting = slack.wait_for(
        lambda: "Waiting on" in str(status_message(slack)["blocks"]) and status_message(slack)
    )
    assert "Waiting on <@U0BOB>* for Lessons Learned Documentation" in str(waiting["blocks"])

    # Carol tries the stage from the status message: refused, told whose it is.
    slack.click(
        CAROL, "continue_review", str(review_id), channel_id=CHANNEL, message_ts=waiting["ts"]
    )
    refused = slack.wait_for(lambda: (v := slack.top_view(CAROL)) and "assigned" in str(v) and v)
    assert "is assigned to <@U0BOB>" in str(refused["blocks"])

    # Bob opens it from his DM and submits it.
    slack.click(
        BOB,
        "stage_start",
        f"{review_id}|lessons_learned",
        channel_id="D" + BOB,
        message_ts=handed[0]["ts"],
    )
    form = slack.wait_for(lambda: slack.top_view(BOB))
    assert form["callback_id"] == "stage", form
    stage = REGISTRY["campaign_postmortem"].stage("lessons_learned")
    answers = sample_answers(stage, lessons="Test <subject> lines & send times early.")
    reply = slack.submit(BOB, form["id"], enter(slack, BOB, stage, answers))
    assert reply.ok and not reply.errors, (reply.errors, reply.body)
    slack.wait_for(lambda: review_row(bot).current_stage == "action_items")
    bot.settle(timeout=20)

    # Participants, the stakeholder and the owner (Bob wrote them) get the lessons, once each,
    # escaped, with the report.
    for person in (ALICE, BOB, DAN, ERIN, FRANK, STAKE):
        told = slack.wait_for(lambda p=person: dms_of(slack, p, "postmortem_lessons"), timeout=20)
        assert len(told) == 1, person
        assert "Test &lt;subject&gt; lines &amp; send times early." in text_of(told[0])
        assert "Read the whole report" in text_of(told[0])
    assert dms_of(slack, CAROL, "postmortem_lessons") == []
    replies = slack.thread(CHANNEL, status_message(slack)["ts"])[1:]
    report = next(r for r in replies if r["text"].startswith("Lessons learned"))
    assert "Who took part" in str(report["blocks"])


def cli_env(slack: FakeSlack, engine: Engine) -> dict[str, str]:
    """The environment `postmortem-bot` runs with: the fake Slack and the test's database."""
    return {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
    }


def test_service_delivery_hands_quality_review_to_the_reviewer_named_at_kickoff(
    slack: FakeSlack, bot, engine: Engine
) -> None:
    runner = CliRunner()
    team(slack)
    start(slack, "service Spring catalogue")
    complete_stage(slack, bot, quality_reviewer=BOB)  # kickoff
    complete_stage(slack, bot)  # planning
    assert dms_of(slack, BOB, "postmortem_stage_assigned") == []  # not open yet
    complete_stage(slack, bot)  # execution
    assert review_row(bot).current_stage == "quality_review"
    bot.settle()
    handed = slack.wait_for(lambda: dms_of(slack, BOB, "postmortem_stage_assigned"))
    assert len(handed) == 1 and "Quality Review" in handed[0]["text"]
    slack.wait_for(
        lambda: "Waiting on <@U0BOB>* for Quality Review" in str(status_message(slack)["blocks"])
    )

    # Waiting: Bob is nudged once after 3 working days on his calendar (Perth), then Alice.
    review_id = review_row(bot).id
    with transaction(bot.rt.sessions) as session:
        row = assignments.get(session, review_id, "quality_review")
        assert row is not None
        row.waiting_since = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Tue 9:00 in Perth

    def sweep(day: int) -> service.NudgeResult:
        result = service.sweep(bot.rt, datetime(2026, 12, day, 2, 0, tzinfo=UTC))  # 10:00 Perth
        bot.settle()
        return result

    assert str(sweep(3)) == "stage nudges: 0 to assignees, 0 to owners"  # Thursday: 2 days
    friday = runner.invoke(  # the CLI runs one sweep, as cron would
        main, ["stage-nudges", "--now", "2026-12-04T10:00+08:00"], env=cli_env(slack, engine)
    )
    assert friday.exit_code == 0, friday.output
    assert friday.output.strip() == "stage nudges: 1 to assignees, 0 to owners"  # Friday: 3
    bot.settle()
    assert str(sweep(4)) == "stage nudges: 0 to assignees, 0 to owners"  # once
    nudged = slack.wait_for(lambda: dms_of(slack, BOB, "postmortem_stage_nudge"))
    assert "waiting on you for Quality Review for 3 working days" in nudged[0]["text"]
    assert str(sweep(8)) == "stage nudges: 0 to assignees, 0 to owners"  # Tuesday: 5
    assert str(sweep(9)) == "stage nudges: 0 to assignees, 1 to owners"  # Wednesday: 6
    assert str(sweep(10)) == "stage nudges: 0 to assignees, 0 to owners"
    told = slack.wait_for(lambda: dms_of(slack, ALICE, "postmortem_stage_nudge"))
    assert len(told) == 1 and "waiting on <@U0BOB> for Quality Review" in told[0]["text"]
    assert len(dms_of(slack, BOB, "postmortem_stage_nudge")) == 1

"""The feedback survey against the fake Slack, every request signed as Slack signs it.

A campaign review with three participants: the owner sends the survey from the status
message's menu; Bob answers with his name, Dan anonymously, Erin not at all and is reminded
exactly once (the sweep runs twice). Data Gathering then opens with the count, both answers and
suggested themes, and the anonymous answer carries no name in the form, the report or the export.
"""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from helpers.slack_walk import (
    ALICE,
    BOB,
    CHANNEL,
    choose,
    complete_stage,
    menu,
    review_row,
    start,
    status_message,
)

from bot.cli.main import main
from bot.surveys import views
from sandbox.fake_slack import FakeSlack
from storage import participants
from storage import surveys as survey_store
from storage.db import transaction

DAN, ERIN = "U0DAN", "U0ERIN"


def answer(slack: FakeSlack, user: str, values: dict[str, object], anonymous: bool) -> None:
    dm = slack.wait_for(lambda: slack.dms(user))[-1]
    survey_id = next(
        e["value"]
        for b in dm["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == views.ANSWER
    )
    channel = slack.workspace.dm_for(user)["id"]
    assert slack.click(user, views.ANSWER, survey_id, channel_id=channel, message_ts=dm["ts"]).ok
    form = slack.wait_for(lambda: slack.top_view(user))
    assert form["callback_id"] == views.CALLBACK
    entered = {f"f.{k}": {"v": v} for k, v in values.items()}
    if anonymous:
        entered[views.ANON_BLOCK] = {"v": [views.ANON_VALUE]}
    reply = slack.submit(user, form["id"], entered)
    assert reply.ok and not reply.errors, (reply.errors, reply.problems)


def test_a_campaign_survey_from_send_to_compiled_stage(slack: FakeSlack, bot, monkeypatch) -> None:
    slack.add_user(DAN, "dan", "Dan Quiet", tz="Australia/Sydney")
    slack.add_user(ERIN, "erin", "Erin Busy", tz="Australia/Sydney")
    start(slack, "campaign Black Friday email")
    review_id = review_row(bot).id
    with transaction(bot.rt.sessions) as session:
        participants.add(session, review_id, [BOB, DAN, ERIN], participants.PARTICIPANT, ALICE)

    message = status_message(slack)
    assert "Send survey" in menu(message)
    assert choose(slack, ALICE, "survey_send", message).ok
    notice = slack.wait_for(lambda: slack.top_view(ALICE))
    assert "on its way to 3 participant(s)" in str(notice["blocks"])
    slack.close(ALICE, notice["id"])
    bot.settle()
    assert all(len(slack.dms(u)) == 1 for u in (BOB, DAN, ERIN))
    assert "Black Friday email" in slack.dms(ERIN)[0]["text"]

    answer(
        slack,
        BOB,
        {
            "went_well": "Subject lines tested early",
            "went_wrong": "Checkout page was slow under load",
            "idea": "Load test the checkout page",
            "rating": "r4",
        },
        anonymous=False,
    )
    answer(
        slack,
        DAN,
        {
            "went_well": "The subject lines",
            "went_wrong": "checkout page crashed twice",
            "idea": "Load test earlier",
            "rating": "r2",
        },
        anonymous=True,
    )
    bot.settle()
    assert "Survey: 2 of 3 answered" in str(status_message(slack)["blocks"])

    # The reminder sweep, from the CLI, twice on the last morning: Erin alone, once.
    with transaction(bot.rt.sessions) as session:
        survey = survey_store.find(session, review_id)
        assert survey is not None
        morning = (survey.remind_at + timedelta(minutes=5)).isoformat()
    for name, value in {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": bot.rt.engine.url.render_as_string(hide_password=False),
    }.items():
        monkeypatch.setenv(name, value)
    runs = [CliRunner().invoke(main, ["surveys", "remind", "--now", morning]) for _ in range(2)]
    assert [r.output for r in runs] == [
        "reminded 1 participant(s) of 1 open survey(s)\n",
        "reminded 0 participant(s) of 1 open survey(s)\n",
    ]
    bot.settle()
    assert [len(slack.dms(u)) for u in (BOB, DAN, ERIN)] == [1, 1, 2]
    assert "reminder" in slack.dms(ERIN)[-1]["text"].lower()
    # Once it has closed, the status message says so (once) and no longer offers to send it.
    later = survey.closes_at + timedelta(minutes=1)
    closed_at = later.isoformat()
    monkeypatch.setattr("bot.reviews.status.utcnow", lambda: later)  # the bot's clock, too
    runs = [CliRunner().invoke(main, ["surveys", "remind", "--now", closed_at]) for _ in range(2)]
    assert [r.output for r in runs] == [
        "reminded 0 participant(s) of 0 open survey(s); 1 survey(s) closed\n",
        "reminded 0 participant(s) of 0 open survey(s)\n",
    ]
    bot.settle()
    message = status_message(slack)
    assert "Survey: 2 of 3 answered · closed" in str(message["blocks"])
    assert "Send survey" not in menu(message)
    assert [len(slack.dms(u)) for u in (BOB, DAN, ERIN)] == [1, 1, 2]

    # Data Gathering opens compiled: the count, both answers, suggested themes, no Dan.
    assert slack.click(
        ALICE, "continue_review", str(review_id), channel_id=CHANNEL, message_ts=message["ts"]
    ).ok
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    inputs = {b["block_id"]: b for b in form["blocks"] if b["type"] == "input"}
    assert inputs["f.survey_responses"]["element"]["initial_value"] == "2"
    themes = inputs["f.initial_themes"]["element"]["initial_value"]
    assert themes.splitlines()[1:] == [
        "- checkout page (2)",
        "- load test (2)",
        "- subject lines (2)",
    ]
    shown = str(form["blocks"])
    assert "Checkout page was slow under load — <@U0BOB>" in shown
    assert "checkout page crashed twice — _anonymous_" in shown
    assert DAN not in shown and "Dan" not in shown
    slack.close(ALICE, form["id"])

    complete_stage(slack, bot, survey_responses="2", initial_themes=themes, feedback_survey=None)
    for _ in range(3):  # team sync, lessons (the report), action items
        complete_stage(slack, bot)
    report = str(slack.thread(CHANNEL, message["ts"]))
    # Dan took part (the status message and the report list the participants), but no answer
    # is his by name: the anonymous one is attributed to nobody.
    assert "Who took part" in report and "crashed twice — <@U0DAN>" not in report
    assert "crashed twice — Dan" not in report

    choose(slack, ALICE, "export_review", status_message(slack))
    uploaded = slack.wait_for(lambda: slack.uploaded_files())
    record = uploaded[0]["content"].decode()
    assert "## Feedback survey: Data Gathering" in record
    assert "2 of 3 answered (1 anonymously)" in record
    assert "checkout page crashed twice (anonymous)" in record
    assert "crashed twice (anonymous)" in record and "crashed twice — Dan" not in record
    assert "crashed twice — <@U0DAN>" not in record

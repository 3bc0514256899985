"""Issue 14's "Done when", in one campaign review: the whole team takes part, end to end.

Through the fake Slack with signed requests, as people click. Alice starts a review with Bob,
Dan and Erin as participants and Sam as a stakeholder; she sends the survey; Bob answers with
his name, Dan anonymously, Erin not at all and is reminded once (the sweep runs twice on a
controlled clock); Data Gathering opens compiled; Bob and Dan add team-sync items and +1 them;
the Team sync form opens in vote order; Alice hands the Lessons stage to Bob, who submits it
from his DM; participants and the stakeholder get the lessons; the report lists who took part
and counts Dan's answer without naming him.
"""

from __future__ import annotations

from datetime import timedelta

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
from helpers.team_sync import add_item, items_in_thread, plus_one

from bot.surveys import service as survey_service
from bot.surveys import views as survey_views
from sandbox.fake_slack import FakeSlack
from storage import surveys as survey_store
from storage.db import transaction
from workflows.samples import sample_answers

DAN, ERIN, SAM = "U0DAN", "U0ERIN", "U0SAM"


def dms_of(slack: FakeSlack, user: str, event: str) -> list[dict]:
    return [m for m in slack.dms(user) if (m.get("metadata") or {}).get("event_type") == event]


def text_of(message: dict) -> str:
    return str(message.get("blocks")) + message.get("text", "")


def answer_survey(slack: FakeSlack, user: str, values: dict[str, object], anonymous: bool) -> None:
    """Click "Answer" on the survey DM and submit the modal."""
    dm = slack.wait_for(lambda: dms_of(slack, user, survey_views.ASK_EVENT))[-1]
    survey_id = next(
        e["value"]
        for b in dm["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == survey_views.ANSWER
    )
    channel = slack.workspace.dm_for(user)["id"]
    reply = slack.click(
        user, survey_views.ANSWER, survey_id, channel_id=channel, message_ts=dm["ts"]
    )
    assert reply.ok
    form = slack.wait_for(lambda: slack.top_view(user))
    assert form["callback_id"] == survey_views.CALLBACK
    entered = {f"f.{k}": {"v": v} for k, v in values.items()}
    if anonymous:
        entered[survey_views.ANON_BLOCK] = {"v": [survey_views.ANON_VALUE]}
    reply = slack.submit(user, form["id"], entered)
    assert reply.ok and not reply.errors, (reply.errors, reply.problems)


def test_a_campaign_review_with_the_whole_team(slack: FakeSlack, bot) -> None:
    slack.add_user(DAN, "dan", "Dan Quiet")
    slack.add_user(ERIN, "erin", "Erin Busy")
    slack.add_user(SAM, "sam", "Sam Stakeholder")
    start(
        slack,
        "campaign Black Friday email",
        participants={"v": [BOB, DAN, ERIN]},
        stakeholders={"v": [SAM]},
    )
    bot.settle()
    for person in (BOB, DAN, ERIN):
        assert len(slack.wait_for(lambda p=person: dms_of(slack, p, "postmortem_invitation"))) == 1
    review_id = review_row(bot).id

    # The survey: sent by Alice; Bob answers by name, Dan anonymously, Erin does not.
    assert choose(slack, ALICE, "survey_send", status_message(slack)).ok
    notice = slack.wait_for(lambda: slack.top_view(ALICE))
    assert "on its way to 3 participant(s)" in str(notice["blocks"])
    slack.close(ALICE, notice["id"])
    bot.settle()
    assert [len(dms_of(slack, u, survey_views.ASK_EVENT)) for u in (BOB, DAN, ERIN, SAM)] == [
        1,
        1,
        1,
        0,
    ]
    answer_survey(
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
    answer_survey(
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
    slack.wait_for(lambda: "Survey: 2 of 3 answered" in str(status_message(slack)["blocks"]))

    # The reminder sweep, twice on the reminder morning: Erin alone, exactly once.
    with transaction(bot.rt.sessions) as session:
        survey = survey_store.find(session, review_id)
        assert survey is not None
        morning = survey.remind_at + timedelta(minutes=5)
    runs = [str(survey_service.sweep(bot.rt, morning + timedelta(hours=h))) for h in (0, 1)]
    assert runs == [
        "reminded 1 participant(s) of 1 open survey(s)",
        "reminded 0 participant(s) of 1 open survey(s)",
    ]
    bot.settle()
    assert [len(dms_of(slack, u, survey_views.ASK_EVENT)) for u in (BOB, DAN, ERIN)] == [1, 1, 2]
    assert "reminder" in dms_of(slack, ERIN, survey_views.ASK_EVENT)[-1]["text"].lower()

    # Data Gathering opens compiled: the count, both answers, suggested themes, Dan unnamed.
    message = status_message(slack)
    slack.click(
        ALICE, "continue_review", str(review_id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    inputs = {b["block_id"]: b for b in form["blocks"] if b["type"] == "input"}
    assert inputs["f.survey_responses"]["element"]["initial_value"] == "2"
    themes = inputs["f.initial_themes"]["element"]["initial_value"]
    assert "- checkout page (2)" in themes.splitlines()
    shown = str(form["blocks"])
    assert "Checkout page was slow under load — <@U0BOB>" in shown
    assert "checkout page crashed twice — _anonymous_" in shown
    assert DAN not in shown and "Dan" not in shown
    slack.close(ALICE, form["id"])
    complete_stage(slack, bot, survey_responses="2", initial_themes=themes, feedback_survey=None)

    # Team sync: every participant is invited once; Bob and Dan add items and vote.
    bot.settle()
    for person in (BOB, DAN, ERIN):
        invites = slack.wait_for(lambda p=person: dms_of(slack, p, "team_sync_invite"))
        assert len(invites) == 1, person
    assert dms_of(slack, SAM, "team_sync_invite") == []
    for person, column, text in (
        (BOB, "went_well", "Launch email copy"),
        (DAN, "went_well", "Fast approvals <3"),
        (DAN, "did_not_go_well", "Landing page was slow"),
    ):
        invite = dms_of(slack, person, "team_sync_invite")[0]
        reply = slack.click(
            person,
            "team_sync_add",
            str(review_id),
            channel_id="D" + person,
            message_ts=invite["ts"],
        )
        assert reply.ok, reply
        add_item(slack, person, column, text)
    items = slack.wait_for(lambda: len(found := items_in_thread(slack)) == 3 and found)
    plus_one(slack, BOB, items["Fast approvals &lt;3"])
    plus_one(slack, DAN, items["Fast approvals &lt;3"])
    plus_one(slack, DAN, items["Landing page was slow"])
    slack.wait_for(
        lambda: (
            "2 votes" in items_in_thread(slack)["Fast approvals &lt;3"]["text"]
            and "1 vote" in items_in_thread(slack)["Landing page was slow"]["text"]
        )
    )

    # The Team sync form opens pre-filled, most votes first.
    message = status_message(slack)
    slack.click(
        ALICE, "continue_review", str(review_id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    assert form["callback_id"] == "stage"
    assert form["state"]["values"]["f.discussion_notes"]["v"]["value"] == (
        "Went well:\n"
        "• Fast approvals <3 (2 votes)\n"
        "• Launch email copy\n"
        "\n"
        "Did not go well:\n"
        "• Landing page was slow (1 vote)"
    )
    slack.close(ALICE, form["id"])
    complete_stage(slack, bot)  # team sync
    assert review_row(bot).current_stage == "lessons_learned"

    # Alice hands the Lessons stage to Bob, who submits it from his DM.
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
    answers = sample_answers(stage, lessons="Load test the checkout page before launch.")
    reply = slack.submit(BOB, form["id"], enter(slack, BOB, stage, answers))
    assert reply.ok and not reply.errors, (reply.errors, reply.body)
    slack.wait_for(lambda: review_row(bot).current_stage == "action_items")
    bot.settle(timeout=20)

    # Participants, the stakeholder and the owner (Bob wrote them) get the lessons, once each.
    for person in (ALICE, BOB, DAN, ERIN, SAM):
        told = slack.wait_for(lambda p=person: dms_of(slack, p, "postmortem_lessons"), timeout=20)
        assert len(told) == 1, person
        assert "Load test the checkout page before launch." in text_of(told[0])

    # The report: who took part, and the survey counted (Dan's answer is not his by name).
    replies = slack.thread(CHANNEL, status_message(slack)["ts"])[1:]
    report = next(r for r in replies if r["text"].startswith("Lessons learned"))
    shown = str(report["blocks"])
    assert "Who took part" in shown
    assert all(f"<@{u}>" in shown for u in (BOB, DAN, ERIN))
    assert "Feedback survey: 2 of 3 answered (1 anonymously)." in shown
    assert "crashed twice — <@U0DAN>" not in str(replies)


def test_the_assignee_of_data_gathering_opens_it_compiled(slack: FakeSlack, bot) -> None:
    """Whoever the owner hands Data Gathering to reads the survey there, as the owner would;
    a participant it was not handed to is refused the stage (and so never sees the answers)."""
    slack.add_user(DAN, "dan", "Dan Quiet")
    slack.add_user(ERIN, "erin", "Erin Busy")
    start(slack, "campaign Black Friday email", participants={"v": [BOB, DAN, ERIN]})
    bot.settle()
    review_id = review_row(bot).id
    assert choose(slack, ALICE, "survey_send", status_message(slack)).ok
    slack.close(ALICE, slack.wait_for(lambda: slack.top_view(ALICE))["id"])
    bot.settle()
    answer_survey(
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

    choose(slack, ALICE, "stage_assign", status_message(slack))
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    reply = slack.submit(
        ALICE, form["id"], {"stage": {"v": "data_gathering"}, "assignee": {"v": BOB}}
    )
    assert reply.ok and not reply.errors, reply.body
    bot.settle()
    handed = slack.wait_for(lambda: dms_of(slack, BOB, "postmortem_stage_assigned"))
    slack.click(
        BOB,
        "stage_start",
        f"{review_id}|data_gathering",
        channel_id="D" + BOB,
        message_ts=handed[0]["ts"],
    )
    form = slack.wait_for(lambda: slack.top_view(BOB))
    assert form["callback_id"] == "stage", form
    inputs = {b["block_id"]: b for b in form["blocks"] if b["type"] == "input"}
    assert inputs["f.survey_responses"]["element"]["initial_value"] == "1"
    assert "checkout page crashed twice — _anonymous_" in str(form["blocks"])

    # Erin is a participant, not the assignee: the stage (and its answers) are not hers.
    message = status_message(slack)
    slack.click(
        ERIN, "continue_review", str(review_id), channel_id=CHANNEL, message_ts=message["ts"]
    )
    refused = slack.wait_for(lambda: slack.top_view(ERIN))
    assert "crashed twice" not in str(refused)


def add_people(slack: FakeSlack, bot, review_id: int, chosen: list[str]) -> None:
    """Alice opens People on the status message and saves `chosen` as the participants."""
    message = status_message(slack)
    slack.click(ALICE, "people_open", str(review_id), channel_id=CHANNEL, message_ts=message["ts"])
    form = slack.wait_for(
        lambda: (v := slack.top_view(ALICE)) and v["callback_id"] == "people_edit" and v
    )
    reply = slack.submit(
        ALICE, form["id"], {"participants": {"v": chosen}, "stakeholders": {"v": []}}
    )
    assert reply.ok and not reply.errors, reply.body
    bot.settle()


FRANK = "U0FRANK"


def test_a_late_joiner_gets_the_open_survey_once(slack: FakeSlack, bot) -> None:
    for user_id, name in ((DAN, "dan"), (ERIN, "erin"), (FRANK, "frank")):
        slack.add_user(user_id, name)
    start(slack, "campaign Black Friday email", participants={"v": [BOB]})
    bot.settle()
    review_id = review_row(bot).id
    add_people(slack, bot, review_id, [BOB, ERIN])  # before the survey: invited, not asked
    assert dms_of(slack, ERIN, survey_views.ASK_EVENT) == []
    assert choose(slack, ALICE, "survey_send", status_message(slack)).ok
    slack.close(ALICE, slack.wait_for(lambda: slack.top_view(ALICE))["id"])
    bot.settle()

    # Dan joins while the survey is open: invited and asked, without Send survey again.
    add_people(slack, bot, review_id, [BOB, ERIN, DAN])
    asked = slack.wait_for(lambda: dms_of(slack, DAN, survey_views.ASK_EVENT))
    assert len(dms_of(slack, DAN, "postmortem_invitation")) == 1
    assert "Black Friday email" in asked[0]["text"]
    slack.wait_for(lambda: "Survey: 0 of 3 answered" in str(status_message(slack)["blocks"]))
    answer_survey(
        slack,
        DAN,
        {"went_well": "Copy", "went_wrong": "Checkout", "idea": "Test", "rating": "r3"},
        anonymous=False,
    )
    add_people(slack, bot, review_id, [BOB, ERIN, DAN])  # saved again: nobody asked twice
    assert [len(dms_of(slack, u, survey_views.ASK_EVENT)) for u in (BOB, ERIN, DAN)] == [1, 1, 1]

    # Once the survey has closed, a newcomer is invited but not asked.
    with transaction(bot.rt.sessions) as session:
        survey = survey_store.find(session, review_id)
        assert survey is not None
        survey.closes_at = survey.sent_at
    add_people(slack, bot, review_id, [BOB, ERIN, DAN, FRANK])
    slack.wait_for(lambda: dms_of(slack, FRANK, "postmortem_invitation"))
    assert dms_of(slack, FRANK, survey_views.ASK_EVENT) == []


def test_a_late_joiner_gets_the_team_sync_invitation_once(slack: FakeSlack, bot) -> None:
    for user_id, name in ((DAN, "dan"), (ERIN, "erin"), (FRANK, "frank")):
        slack.add_user(user_id, name)
    start(slack, "campaign Black Friday email", participants={"v": [BOB]})
    bot.settle()
    review_id = review_row(bot).id
    add_people(slack, bot, review_id, [BOB, ERIN])  # before the invitations: the fan-out has her
    assert dms_of(slack, ERIN, "team_sync_invite") == []
    complete_stage(slack, bot)  # Data Gathering: the team is invited to the team sync
    bot.settle()
    for person in (BOB, ERIN):
        slack.wait_for(lambda p=person: dms_of(slack, p, "team_sync_invite"))

    # Dan joins while the team sync is ahead: invited to it, once, and may add an item.
    add_people(slack, bot, review_id, [BOB, ERIN, DAN])
    invite = slack.wait_for(lambda: dms_of(slack, DAN, "team_sync_invite"))[0]
    assert "Add to team sync" in str(invite["blocks"])
    reply = slack.click(
        DAN, "team_sync_add", str(review_id), channel_id="D" + DAN, message_ts=invite["ts"]
    )
    assert reply.ok
    add_item(slack, DAN, "ideas", "Load test the checkout page")
    slack.wait_for(lambda: items_in_thread(slack))
    add_people(slack, bot, review_id, [BOB, ERIN, DAN])  # saved again: nobody invited twice
    assert [len(dms_of(slack, u, "team_sync_invite")) for u in (BOB, ERIN, DAN)] == [1, 1, 1]

    # Once the team sync is done, a newcomer is invited to the review only.
    complete_stage(slack, bot)  # Team sync
    add_people(slack, bot, review_id, [BOB, ERIN, DAN, FRANK])
    slack.wait_for(lambda: dms_of(slack, FRANK, "postmortem_invitation"))
    assert dms_of(slack, FRANK, "team_sync_invite") == []

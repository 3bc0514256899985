"""Date ranges in the forms: an end before its start is refused next to the field."""

from __future__ import annotations

from helpers.slack_walk import (
    ALICE,
    CHANNEL,
    REGISTRY,
    complete_stage,
    enter,
    review_row,
    start,
)
from helpers.slack_walk import status_message as status

from bot.reviews.views.stage_modal import entered_values
from sandbox.fake_slack import FakeSlack
from workflows.samples import sample_answers


def open_stage(slack: FakeSlack, bot) -> dict:
    slack.click(
        ALICE,
        "continue_review",
        str(review_row(bot).id),
        channel_id=CHANNEL,
        message_ts=status(slack)["ts"],
    )
    return slack.wait_for(lambda: slack.top_view(ALICE))


def test_a_campaign_that_ends_before_it_starts_is_refused(slack: FakeSlack, bot) -> None:
    start(slack, "campaign Black Friday email")
    stage = REGISTRY["campaign_postmortem"].stage("data_gathering")
    view = open_stage(slack, bot)
    answers = sample_answers(stage, campaign_start="2026-11-20", campaign_end="2026-11-18")
    reply = slack.submit(ALICE, view["id"], enter(slack, ALICE, stage, answers))
    assert reply.errors == {
        "f.campaign_end": "This can't be before “Campaign start” (Fri 20 Nov 2026)."
    }
    assert review_row(bot).current_stage == "data_gathering"


def test_an_invoice_dated_before_the_kickoff_is_refused(slack: FakeSlack, bot) -> None:
    start(slack, "service Catalogue shoot")
    complete_stage(slack, bot, kickoff_date="2026-11-20")
    for _ in range(4):
        complete_stage(
            slack,
            bot,
            on_track="yes",
            risk_mitigation="no",
            quality_outcome="approved",
            accepted="yes",
        )  # dates: 1 Dec 2026
    stage = REGISTRY["service_delivery"].stage("closure")
    view = open_stage(slack, bot)
    reply = slack.submit(
        ALICE, view["id"], entered_values(stage, sample_answers(stage, invoice_date="2026-11-02"))
    )
    assert reply.errors == {
        "f.invoice_date": "This can't be before “Kickoff date” (Fri 20 Nov 2026)."
    }

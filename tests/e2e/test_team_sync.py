"""Async team sync through the fake Slack, with signed requests, as the team would use it.

Two participants are invited by DM when Data Gathering is saved; one adds from the DM, the
other from the status message's menu; the items land in the review's thread, where the team
+1s them (one vote each); someone not on the review is refused; and the facilitator's Team Sync
form opens with the items, most votes first.
"""

from __future__ import annotations

from helpers.slack_walk import (
    ALICE,
    BOB,
    CHANNEL,
    choose,
    complete_stage,
    review_row,
    start,
    status_message,
)
from helpers.team_sync import add_item, items_in_thread, plus_one

from sandbox.fake_slack import FakeSlack
from storage import participants
from storage.db import transaction

CAROL, DAN = "U0CAROL", "U0DAN"


def test_two_participants_add_and_vote_and_the_form_opens_in_vote_order(
    slack: FakeSlack, bot
) -> None:
    slack.add_user(CAROL, "carol.t", "Carol Tran")
    slack.add_user(DAN, "dan", "Dan Outsider")
    start(slack, "campaign Black Friday email")
    with transaction(bot.rt.sessions) as session:
        participants.add(session, review_row(bot).id, [BOB, CAROL], participants.PARTICIPANT, ALICE)
    complete_stage(slack, bot)  # Data Gathering: the team sync comes next

    # Each participant is invited once, in their DM, with the button.
    invite = slack.wait_for(lambda: slack.dms(BOB))[-1]
    slack.wait_for(lambda: slack.dms(CAROL))
    assert "Add to team sync" in str(invite["blocks"]) and "blameless" in str(invite["blocks"])
    reply = slack.click(
        BOB,
        "team_sync_add",
        str(review_row(bot).id),
        channel_id="D" + BOB,
        message_ts=invite["ts"],
    )
    assert reply.ok, reply
    add_item(slack, BOB, "went_well", "Launch email copy")
    # Carol uses the status message's menu instead.
    assert choose(slack, CAROL, "team_sync_add", status_message(slack)).ok
    add_item(slack, CAROL, "went_well", "Fast approvals <3")
    assert choose(slack, CAROL, "team_sync_add", status_message(slack)).ok
    add_item(slack, CAROL, "did_not_go_well", "Landing page was slow")

    items = slack.wait_for(lambda: len(found := items_in_thread(slack)) == 3 and found)
    fast = items["Fast approvals &lt;3"]
    assert fast["text"] == "Team sync, Went well: Fast approvals &lt;3 (0 votes)"
    plus_one(slack, BOB, fast)
    plus_one(slack, CAROL, fast)
    plus_one(slack, BOB, fast)  # a second click does not count twice
    plus_one(slack, BOB, items["Launch email copy"])
    slack.wait_for(
        lambda: (
            "2 votes" in items_in_thread(slack)["Fast approvals &lt;3"]["text"]
            and "1 vote" in items_in_thread(slack)["Launch email copy"]["text"]
        )
    )
    assert any("already +1'd" in e["text"] for e in slack.ephemerals(BOB))

    # Dan is not on the review: refused, clearly, and nothing is added.
    assert choose(slack, DAN, "team_sync_add", status_message(slack)).ok
    refusal = slack.wait_for(lambda: slack.top_view(DAN))
    assert refusal["title"]["text"] == "Not open to you"
    assert "Only the review's participants" in str(refusal["blocks"])
    plus_one(slack, DAN, items["Launch email copy"])
    slack.wait_for(lambda: slack.ephemerals(DAN))
    assert "Only the people on this review" in slack.ephemerals(DAN)[-1]["text"]

    # The facilitator opens the Team Sync form: the items are there, most votes first.
    reply = slack.click(
        ALICE,
        "continue_review",
        str(review_row(bot).id),
        channel_id=CHANNEL,
        message_ts=status_message(slack)["ts"],
    )
    assert reply.ok
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    assert form["callback_id"] == "stage"
    notes = form["state"]["values"]["f.discussion_notes"]["v"]["value"]
    assert notes == (
        "Went well:\n"
        "• Fast approvals <3 (2 votes)\n"
        "• Launch email copy (1 vote)\n"
        "\n"
        "Did not go well:\n"
        "• Landing page was slow"
    )
    assert len(items_in_thread(slack)) == 3  # each item posted once

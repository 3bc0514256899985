"""The sandbox's start form and People button (issue 14), through the page's own actions."""

from __future__ import annotations

from helpers.slack_walk import ALICE, BOB, CHANNEL, review_row, status_message

from sandbox.server import Running
from storage import participants
from storage.db import transaction

CAROL = "U0ADMIN"


def test_the_start_form_offers_user_groups_and_people_get_invited(sandbox: Running) -> None:
    page, slack, bot = sandbox.sandbox, sandbox.sandbox.slack, sandbox.sandbox.bot
    page.act(
        {
            "kind": "command",
            "person": ALICE,
            "pane": f"channel:{CHANNEL}",
            "text": "/postmortem start campaign Spring sale",
        }
    )
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    shown = page.state(ALICE, f"channel:{CHANNEL}")["modal"]["html"]
    assert "@team (The whole team)" in shown  # asked of the bot as Slack asks (block_suggestion)
    answer = page.act(
        {
            "kind": "submit",
            "person": ALICE,
            "view_id": view["id"],
            "values": {"people_groups": {"v": ["S0TEAM"]}, "stakeholders": {"v": [BOB]}},
        }
    )
    assert answer["ok"] and not answer["errors"], answer
    bot.settle()
    slack.wait_for(lambda: "Participants:" in str(status_message(slack)["blocks"]))
    with transaction(bot.rt.sessions) as session:
        review_id = review_row(bot).id
        taking_part = participants.user_ids(session, review_id, participants.PARTICIPANT)
    assert sorted(taking_part) == sorted([ALICE, BOB, CAROL])  # Bob named twice: takes part
    invited = slack.wait_for(
        lambda: [m for m in slack.dms(CAROL) if "invited to take part" in m["text"]]
    )
    assert len(invited) == 1

    # The People button opens the lists for the owner.
    message = status_message(slack)
    answer = page.act(
        {
            "kind": "click",
            "person": ALICE,
            "action_id": "people_open",
            "value": str(review_id),
            "channel": CHANNEL,
            "ts": message["ts"],
        }
    )
    assert answer["ok"], answer
    form = slack.wait_for(lambda: slack.top_view(ALICE))
    assert form["callback_id"] == "people_edit"
    assert "Participants" in page.state(ALICE, f"channel:{CHANNEL}")["modal"]["html"]

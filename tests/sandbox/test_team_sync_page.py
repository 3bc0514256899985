"""The async team sync in the sandbox, through the page's own actions (what its buttons send):
"Add to team sync" from the status message's menu opens the modal, the item lands in the thread
with its +1 button, the vote counts, and every one of these draws without an unsupported block.
"""

from __future__ import annotations

from helpers.slack_walk import ALICE, BOB, CHANNEL, complete_stage, review_row, start

from sandbox import render
from sandbox.server import Running
from storage import participants
from storage.db import transaction

D = render.Directory(
    users={"U0ALICE": "Alice Nguyen", "U0BOB": "Bob Smith"},
    channels={"C0REVIEWS": "reviews"},
    people=[("U0ALICE", "Alice Nguyen"), ("U0BOB", "Bob Smith")],
    conversations=[("C0REVIEWS", "#reviews")],
)


def test_the_team_sync_button_works_in_the_sandbox(sandbox: Running) -> None:
    page, slack, bot = sandbox.sandbox, sandbox.sandbox.slack, sandbox.sandbox.bot
    status = start(slack, "campaign Black Friday email")
    review_id = review_row(bot).id
    with transaction(bot.rt.sessions) as session:
        participants.add(session, review_id, [BOB], participants.PARTICIPANT, ALICE)
    complete_stage(slack, bot)
    answer = page.act(
        {
            "kind": "click",
            "person": BOB,
            "action_id": "more_actions",
            "value": f"team_sync_add|{review_id}",
            "channel": CHANNEL,
            "ts": status["ts"],
        }
    )
    assert answer["ok"], answer
    modal = slack.wait_for(lambda: slack.top_view(BOB))
    assert modal["callback_id"] == "team_sync_item"
    assert render.UNSUPPORTED not in render.modal(modal, D)
    answer = page.act(
        {
            "kind": "submit",
            "person": BOB,
            "view_id": modal["id"],
            "values": {"column": {"v": "ideas"}, "text": {"v": "Send the SMS a day earlier"}},
        }
    )
    assert answer["ok"] and not answer["errors"], answer

    def posted() -> dict | None:
        replies = slack.thread(CHANNEL, status["ts"])[1:]
        return next((m for m in replies if "SMS" in m.get("text", "")), None)

    item = slack.wait_for(posted)
    assert render.UNSUPPORTED not in render.message(item, CHANNEL, D)
    answer = page.act(
        {
            "kind": "click",
            "person": ALICE,
            "action_id": "team_sync_vote",
            "value": item["blocks"][-1]["elements"][0]["value"],
            "channel": CHANNEL,
            "ts": item["ts"],
        }
    )
    assert answer["ok"], answer
    voted = slack.wait_for(lambda: (m := posted()) and "(1 vote)" in m["text"] and m)
    assert "+1 (1)" in render.message(voted, CHANNEL, D)
    assert slack.dms(BOB), "Bob was invited by DM"
    for dm in slack.dms(BOB):  # the invitation DM draws too
        assert render.UNSUPPORTED not in render.message(dm, "D" + BOB, D)

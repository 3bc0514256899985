"""A systemic issue escalated for organisational change reaches someone, and the review says who."""

from __future__ import annotations

from helpers.slack_walk import ADMIN, CHANNEL, complete_stage, start, status_message

from sandbox.fake_slack import FakeSlack, problems

ISSUE = "Approvals take 3 days <!here>; urgent campaigns need a same-day path"


def sections(message: dict) -> str:
    return "\n".join(
        b["text"]["text"]
        for b in message.get("blocks", [])
        if b["type"] == "section" and "text" in b
    )


def escalate(slack: FakeSlack, bot) -> dict:
    start(slack, "campaign Flash sale")
    complete_stage(slack, bot)
    complete_stage(slack, bot, systemic_issues="yes", systemic_issue=ISSUE)
    return status_message(slack)


def test_an_escalation_is_posted_in_the_escalation_channel(
    slack: FakeSlack, engine, bot_with
) -> None:
    slack.add_channel("C0LEADS", "leadership")
    bot = bot_with(slack, engine, POSTMORTEM_ESCALATION_CHANNEL="C0LEADS")
    status = escalate(slack, bot)
    posted = slack.wait_for(lambda: slack.messages("C0LEADS"))
    assert len(posted) == 1 and problems("message", posted[0]) == []
    text = sections(posted[0])
    assert "*Systemic issue escalated for organisational change*" in text
    assert "|Flash sale>" in text and "raised by <@U0ALICE> at Post-Mortem Team Sync" in text
    assert "Approvals take 3 days &lt;!here&gt;" in text and "<!here>" not in str(posted[0])
    # The person who chose it sees where it went, on the review's message.
    escalated = next(b for b in status["blocks"] if b["block_id"] == "escalated")
    assert escalated["elements"][0]["text"] == (
        ":rotating_light: *Escalated for organisational change*: posted in <#C0LEADS>."
    )
    assert slack.dms(ADMIN) == []
    # Later stages do not post it again.
    complete_stage(slack, bot)
    assert len(slack.messages("C0LEADS")) == 1


def test_without_a_channel_the_admins_are_told_and_the_report_labels_it(
    slack: FakeSlack, bot
) -> None:
    status = escalate(slack, bot)
    dm = slack.wait_for(lambda: slack.dms(ADMIN))
    assert [m["text"] for m in dm] == ["Systemic issue escalated: Flash sale"]
    escalated = next(b for b in status["blocks"] if b["block_id"] == "escalated")
    assert escalated["elements"][0]["text"].endswith("sent to <@U0ADMIN>.")
    complete_stage(slack, bot)  # lessons learned: the report
    report = slack.wait_for(
        lambda: next(
            (
                m
                for m in slack.thread(CHANNEL, status["ts"])[1:]
                if m["text"].startswith("Lessons learned")
            ),
            None,
        )
    )
    text = sections(report)
    assert (
        "*Escalated for organisational change*\nApprovals take 3 days &lt;!here&gt;; urgent" in text
    )
    root_causes = text[text.index("*Root causes*") : text.index("*Escalated")]
    assert "Approvals" not in root_causes

"""User and customer text never pings anyone: `<!channel>` and friends arrive escaped.

Slack parses `<…>` in a message's `text` (used for notifications) and in mrkdwn. Whatever a
person types (a review title, a search) or a helpdesk sends (a ticket subject, a link) must
reach Slack as `&lt;!channel&gt;`. This walks the entry points with hostile text and reads every
Web API call and response_url post the bot made.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from helpers.slack_walk import ALICE, CHANNEL, complete_stage, start
from helpers.ticket_hooks import TOKEN, event, post

from sandbox.fake_slack import FakeSlack

PINGS = ("<!channel>", "<!here>", "<!everyone>", "<https://evil.example")
SAFETY_CHANNEL = "C0SAFETY"


@pytest.fixture
def bot(slack: FakeSlack, engine, bot_with):
    slack.add_channel(SAFETY_CHANNEL, "product-safety")
    return bot_with(
        slack,
        engine,
        POSTMORTEM_WEBHOOK_TOKEN=TOKEN,
        POSTMORTEM_SUPPORT_CHANNEL=CHANNEL,
        POSTMORTEM_SAFETY_CHANNEL=SAFETY_CHANNEL,
    )


def _texts(value: Any) -> list[str]:
    """Every `text` string in a payload, at any depth (message text, mrkdwn, plain text)."""
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        return found + [t for k, v in value.items() if k != "text" for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _everything_sent(slack: FakeSlack) -> list[str]:
    sent = [t for call in slack.calls for t in _texts(call.params)]
    return sent + [t for post_ in slack.response_posts for t in _texts(post_["payload"])]


def test_hostile_text_from_people_and_helpdesks_reaches_slack_escaped(
    slack: FakeSlack, bot
) -> None:
    start(slack, "campaign Launch <!channel>")
    complete_stage(slack, bot, went_well="We shipped <!here> on time & <b>early</b>")
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "search <!channel>")
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "list")
    reply = post(
        bot,
        "/hooks/tickets",
        event(ticket_id="T-666", subject="<!channel> refund now", ces_score=2),
    )
    assert reply.status == 200, reply.body
    bad_link = post(
        bot,
        "/hooks/tickets",
        event(
            ticket_id="T-667", url="https://help.example.com/t/9><!channel><https://evil.example|x"
        ),
    )
    assert bad_link.status == 400 and bad_link.body["field"] == "url"

    slack.slash_command(ALICE, CHANNEL, "/postmortem", "safety")
    register = slack.wait_for(
        lambda: [m for m in slack.ephemerals(ALICE) if "Product safety register" in m["text"]]
    )[-1]
    slack.click(ALICE, "safety_open_report", channel_id=CHANNEL, message_ts=register["ts"])
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    aware = (datetime.now(ZoneInfo("Australia/Sydney")) - timedelta(hours=1)).replace(
        second=0, microsecond=0
    )
    assert slack.submit(
        ALICE,
        view["id"],
        {
            "product_name": {"v": "Kettle <!here>"},
            "model": {"v": "KX-200"},
            "batch": {"v": "B1"},
            "supplier": {"v": "Acme"},
            "aware_date": {"v": aware.date().isoformat()},
            "aware_time": {"v": aware.strftime("%H:%M")},
            "what_happened": {"v": "Handle detached <!channel>"},
            "outcome": {"v": "serious_injury_or_illness"},
            "caused": {"v": "yes"},
        },
    ).ok
    slack.wait_for(lambda: slack.messages(SAFETY_CHANNEL))
    bot.settle()
    slack.wait_for(lambda: len(slack.response_posts) >= 3)  # search, list, safety register

    sent = _everything_sent(slack)
    assert any("Launch &lt;!channel&gt;" in t for t in sent)  # it was shown, escaped
    assert any("&lt;!channel&gt; refund now" in t for t in sent)
    assert any("Kettle &lt;!here&gt;" in t for t in sent), [t for t in sent if "Kettle" in t]
    leaks = [t for t in sent if any(p in t for p in PINGS)]
    assert leaks == [], json.dumps(leaks, indent=1)[:2000]

"""`/postmortem insights`, App Home and the digest's chart, against the fake Slack."""

from __future__ import annotations

from datetime import date, timedelta

from digest.seed import digest_settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.digest import service as digest
from bot.insights.views import CHART_ACTION
from bot.runtime import build_runtime
from sandbox.fake_slack import FakeSlack
from storage.types import utcnow

from .history import LESSON_TITLE, seed_history
from .seed import Seed

ALICE, CHANNEL = "U0ALICE", "C0REVIEWS"
PNG = b"\x89PNG\r\n\x1a\n"


def texts(message: dict) -> str:
    out = []
    for block in message.get("blocks", []):
        if "text" in block:
            out.append(block["text"].get("text", ""))
        out += [f.get("text", "") for f in block.get("fields", [])]
        out += [
            e["text"]
            for e in block.get("elements", [])
            if isinstance(e, dict) and isinstance(e.get("text"), str)
        ]
    return "\n".join(out)


def test_insights_answer_shows_the_figures_and_the_uploaded_chart(
    slack: FakeSlack, bot, session: Session
) -> None:
    seed_history(session, utcnow())
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "insights 6m")
    answer = slack.wait_for(lambda: slack.ephemerals(ALICE))[-1]
    [upload] = slack.uploaded_files()
    # The chart went to Alice's direct messages with the app: only she sees it.
    assert upload["channels"] == ["D" + ALICE]
    assert upload["content"].startswith(PNG) and upload["name"].endswith(".png")
    assert upload["alt_txt"].startswith("Bar chart of reviews per month")
    [image] = [b for b in answer["blocks"] if b["type"] == "image"]
    assert image["slack_file"] == {"id": upload["id"]}
    assert image["alt_text"] == upload["alt_txt"]
    shown = texts(answer)
    assert "6 started" in shown  # 4 support, 1 service delivery, 1 campaign: 70 days
    assert "2 of 6 reviews repeat a theme with a lesson" in shown
    assert "40% done on time · 2 late · 1 overdue" in shown  # 2 on time of 5 due
    assert "`refunds`: 2 reviews since the lesson" in shown
    # The lesson links to its review, its title escaped.
    assert "Refund wording &lt;must&gt; match the policy" in shown
    assert LESSON_TITLE not in shown
    assert "1 open over 14 days" in shown
    assert "1 of 1 engagements sent back" in shown and "Quality Review" in shown
    assert "$1,000.00 vs $1,200.00 (20% over)" in shown  # $1,100 incl. GST is $1,000 excl.
    assert "direct messages" in shown
    dm = slack.messages("D" + ALICE)
    assert dm[-1]["files"][0]["id"] == upload["id"]


def test_a_period_it_cannot_read_is_explained(slack: FakeSlack, bot) -> None:
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "insights soon")
    answer = slack.wait_for(lambda: slack.ephemerals(ALICE))[-1]
    assert "can't read the period `soon`" in answer["text"] and "`12w`" in answer["text"]
    assert slack.uploaded_files() == []


def test_without_files_the_figures_still_arrive(slack: FakeSlack, bot, session: Session) -> None:
    seed_history(session, utcnow())
    slack.fail("files.getUploadURLExternal", "file_uploads_disabled")
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "insights")
    answer = slack.wait_for(lambda: slack.ephemerals(ALICE))[-1]
    assert not [b for b in answer["blocks"] if b["type"] == "image"]
    assert "Charts can't be uploaded" in texts(answer) and "6 started" in texts(answer)
    slack.reset_calls()  # the refused upload was expected


def test_app_home_shows_the_headline_figures_and_sends_the_chart(
    slack: FakeSlack, bot, session: Session
) -> None:
    seed_history(session, utcnow())
    slack.open_home(ALICE)
    home = slack.wait_for(lambda: slack.home(ALICE))
    shown = texts(home)
    assert "*Insights, " in shown and "6 started" in shown and "`refunds`" in shown
    # The figures sit above the "Start a review" button, which stays last.
    assert home["blocks"][-1]["elements"][0]["action_id"] == "home_start"
    slack.click(ALICE, CHART_ACTION, "chart", view_id=home["id"])
    upload = slack.wait_for(lambda: slack.uploaded_files())[0]
    assert upload["channels"] == ["D" + ALICE] and upload["content"].startswith(PNG)


def test_the_digest_posts_its_chart_just_before_its_text(
    slack: FakeSlack, engine: Engine, session: Session
) -> None:
    from digest.seed import NOW  # Wed 2 Dec 2026 09:00 in Sydney: posting time

    seed = Seed(session)
    seed.ws.settings = digest_settings()
    r = seed.review(created=NOW - timedelta(days=30))
    seed.item(r, due=date(2026, 11, 25), status="done", completed=NOW - timedelta(days=8))
    seed.item(r, due=date(2026, 11, 20), status="done", completed=NOW - timedelta(days=3))
    seed.item(r, due=date(2026, 11, 30), status="open")
    session.commit()
    session.close()
    rt = build_runtime(_settings(slack, engine), engine)
    result = digest.post(rt, "T0TEST", now=NOW, by="test")
    assert result.status == "posted"
    messages = slack.messages(CHANNEL)
    chart, text = messages[-2], messages[-1]
    assert chart["files"][0]["name"] == "action-items-2026-12-02.png"
    assert text["ts"] == result.ts and "Post-mortem digest" in text["text"]
    [upload] = slack.uploaded_files()
    assert upload["content"].startswith(PNG)
    assert upload["alt_txt"].startswith(
        "Bar chart of action items. Since the last meeting: "
        "1 done on time, 1 done late, 1 open and overdue."
    )


def _settings(slack: FakeSlack, engine: Engine):
    from bot.config import load_settings

    return load_settings(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        }
    )

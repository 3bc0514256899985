"""What the sandbox page's actions answer, without a browser."""

from __future__ import annotations

from urllib.request import urlopen

import pytest
from helpers.slack_walk import (
    ALICE,
    CHANNEL,
    choose,
    complete_stage,
    review_row,
    start,
    status_message,
)

from sandbox.server import Running


def test_the_digest_clock_answers_in_words(
    sandbox: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTMORTEM_DIGEST_CHANNEL", "C0REVIEWS")
    clock = {"kind": "clock", "person": "U0ADMIN", "job": "digest", "at": "2026-12-01T08:00"}
    first = sandbox.sandbox.act(clock)["notice"]
    again = sandbox.sandbox.act(clock)["notice"]
    assert first.endswith(": posted the digest for the meeting on Wed 2 Dec 10:00 AEDT")
    assert again.endswith("was already posted (once per meeting), nothing sent")
    assert "already:" not in again


def _form(running: Running, user: str = ALICE) -> dict:
    slack, bot = running.sandbox.slack, running.sandbox.bot
    slack.click(
        user,
        "continue_review",
        str(review_row(bot).id),
        channel_id=CHANNEL,
        message_ts=status_message(slack)["ts"],
    )
    return slack.wait_for(lambda: slack.top_view(user))


def _values(view: dict) -> dict[str, str]:
    state = view["state"]["values"]
    out = {}
    for block_id, actions in state.items():
        entry = actions.get("v") or {}
        value = next((v for k, v in entry.items() if k != "type"), None)
        if isinstance(value, dict):
            value = value.get("value")
        out[block_id] = value
    return out


def test_example_answers_read_like_a_review_and_keep_what_is_there(sandbox: Running) -> None:
    slack, bot = sandbox.sandbox.slack, sandbox.sandbox.bot
    start(slack, "campaign Black Friday email")
    complete_stage(slack, bot, acl_two_price_genuine=False)  # suggests an action item
    form = _form(sandbox)
    slack.fill(ALICE, form["id"], {"f.went_well": {"v": "Typed by Alice"}})
    answer = sandbox.sandbox.act(
        {
            "kind": "example",
            "person": ALICE,
            "view_id": form["id"],
            "values": {"f.agenda": {"v": "Our own agenda"}},
        }
    )
    assert answer["notice"].startswith("Filled with example answers; kept")
    values = _values(slack.top_view(ALICE))
    assert values["f.went_well"] == "Typed by Alice"
    assert values["f.agenda"] == "Our own agenda"
    assert values["f.went_wrong"].startswith("The subject line was cut off on mobile")
    assert not any(str(v).endswith(" 1") for v in values.values())
    assert values["d.systemic_issues"] == "no" and values.get("f.systemic_issue") is None
    reply = slack.submit(ALICE, form["id"], {})
    assert reply.ok and not reply.errors, reply.errors
    slack.wait_for(lambda: review_row(bot).current_stage == "lessons_learned")
    complete_stage(slack, bot)
    form = _form(sandbox)  # action items: the suggested one is there, and stays
    suggested = _values(form)["g.action_items.0.title"]
    assert suggested
    sandbox.sandbox.act({"kind": "example", "person": ALICE, "view_id": form["id"]})
    values = _values(slack.top_view(ALICE))
    assert values["g.action_items.0.title"] == suggested
    assert values["g.action_items.0.owner"] == ALICE and values["g.action_items.0.due_date"]


def test_example_invoice_lines_are_taxable(sandbox: Running) -> None:
    slack, bot = sandbox.sandbox.slack, sandbox.sandbox.bot
    start(slack, "service Spring catalogue")
    for _ in range(5):
        complete_stage(slack, bot)
    form = _form(sandbox)
    sandbox.sandbox.act({"kind": "example", "person": ALICE, "view_id": form["id"]})
    values = _values(slack.top_view(ALICE))
    assert values["g.invoice_lines.0.gst_free"] == "no"
    assert values["g.invoice_lines.0.description"] == "Product photography, half day"


def test_an_export_shows_as_a_file_that_downloads(sandbox: Running) -> None:
    slack, bot = sandbox.sandbox.slack, sandbox.sandbox.bot
    start(slack, "campaign Gift cards")
    complete_stage(slack, bot)
    choose(slack, ALICE, "export_review", status_message(slack))
    uploaded = slack.wait_for(lambda: slack.uploaded_files())[0]
    html = sandbox.sandbox.state(ALICE, f"channel:{CHANNEL}")["html"]
    link = f'<a href="/api/file?id={uploaded["id"]}" download="{uploaded["name"]}">'
    assert link + "Review record: Gift cards</a>" in html
    with urlopen(f"{sandbox.url}api/file?id={uploaded['id']}") as reply:  # noqa: S310
        assert reply.read() == uploaded["content"]
        assert "attachment" in reply.headers["Content-Disposition"]


def test_bob_answers_the_survey_from_his_dm_and_alice_sees_it_compiled(sandbox: Running) -> None:
    from storage import participants
    from storage.db import transaction

    box = sandbox.sandbox
    slack, bot = box.slack, box.bot
    message = start(slack, "campaign Black Friday email")
    review_id = review_row(bot).id
    with transaction(bot.rt.sessions) as session:  # the People button's job, not this test's
        participants.add(session, review_id, ["U0BOB", "U0ADMIN"], "participant", ALICE)
    assert "Send survey" in box.state(ALICE, f"channel:{CHANNEL}")["html"]
    sent = box.act(
        {
            "kind": "click",
            "person": ALICE,
            "action_id": "more_actions",
            "value": f"survey_send|{review_id}",
            "channel": CHANNEL,
            "ts": message["ts"],
        }
    )
    assert sent["ok"], sent
    notice = slack.wait_for(lambda: box.state(ALICE, f"channel:{CHANNEL}")["modal"])
    assert "on its way to 2 participant(s)" in notice["html"]
    box.act({"kind": "close", "person": ALICE, "view_id": notice["id"]})
    bot.settle()

    # Switch to Bob: his DM has the survey; "Answer" opens it; he answers.
    bob = box.state("U0BOB", "dm")
    assert "Answer" in bob["html"] and "Black Friday email" in bob["html"]
    dm = slack.dms("U0BOB")[-1]
    box.act(
        {
            "kind": "click",
            "person": "U0BOB",
            "action_id": "survey_answer",
            "value": dm["blocks"][-1]["elements"][0]["value"],
            "channel": slack.workspace.dm_for("U0BOB")["id"],
            "ts": dm["ts"],
        }
    )
    form = slack.wait_for(lambda: box.state("U0BOB", "dm")["modal"])
    assert "Answer anonymously" in form["html"]
    answered = box.act(
        {
            "kind": "submit",
            "person": "U0BOB",
            "view_id": form["id"],
            "values": {
                "f.went_well": {"v": "Subject lines tested early"},
                "f.went_wrong": {"v": "The checkout page was slow"},
                "f.idea": {"v": "Load test the checkout page"},
                "f.rating": {"v": "r4"},
            },
        }
    )
    assert answered["ok"] and not answered["errors"], answered
    bot.settle()

    # Back to Alice: the status message counts it, Data Gathering has it compiled.
    assert "Survey: 1 of 2 answered" in box.state(ALICE, f"channel:{CHANNEL}")["html"]
    form = _form(sandbox)
    assert _values(form)["f.survey_responses"] == "1"
    html = box.state(ALICE, f"channel:{CHANNEL}")["modal"]["html"]
    assert "The checkout page was slow" in html

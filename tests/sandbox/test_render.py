"""The sandbox renders every message and view the bot produces, and renders them safely."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.slack_walk import ADMIN, ALICE, BOB, CHANNEL, REGISTRY, walk
from sqlalchemy import Engine

from bot.reviews.views.stage_modal import ModalMeta, entered_values, stage_view
from sandbox import render
from sandbox.fake_slack import FakeSlack
from sandbox.fake_slack.state import iter_elements
from sandbox.harness import Bot, start_bot
from storage.db import make_engine, upgrade
from workflows.samples import sample_answers

D = render.Directory(
    users={"U0ALICE": "Alice Nguyen", "U0BOB": "Bob Smith"},
    channels={"C0REVIEWS": "reviews"},
    people=[("U0ALICE", "Alice Nguyen"), ("U0BOB", "Bob Smith")],
    conversations=[("C0REVIEWS", "#reviews")],
)
WALKS = {
    "campaign_postmortem": ({"systemic_issues": ["yes"]}, ()),
    "service_delivery": (
        {
            "on_track": ["no", "yes"],
            "risk_mitigation": ["yes", "no"],
            "quality_outcome": ["revision_required", "approved"],
            "accepted": ["yes"],
        },
        (),
    ),
    "support_postmortem": ({"review_outcome": ["close"]}, ("admin_review",)),
}
MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")
VIEW_METHODS = ("views.open", "views.push", "views.update", "views.publish")


@pytest.fixture
def running_bot(tmp_path: Path) -> Iterator[tuple[FakeSlack, Bot]]:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'render.db'}")
    upgrade(engine)
    slack = FakeSlack().start()
    bot, stop = start_bot(slack, engine)
    yield slack, bot
    stop()
    slack.stop()
    engine.dispose()


def _use_action_items(slack: FakeSlack) -> None:
    """What an owner does with an item's DM: status modal, snooze, done; then Home for all."""
    dm = slack.wait_for(lambda: slack.dms(ALICE))[0]
    where = {"channel_id": "D" + ALICE, "message_ts": dm["ts"]}
    slack.click(ALICE, "item_status", **where)
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    slack.submit(ALICE, view["id"], {"status": {"v": "blocked"}, "note": {"v": "Waiting on IT"}})
    slack.click(
        ALICE,
        "item_snooze",
        next(
            o["value"]
            for b in dm["blocks"]
            for _, e in iter_elements([b])
            if e["action_id"] == "item_snooze"
            for o in e["options"]
        ),
        **where,
    )
    slack.click(ALICE, "item_done", **where)
    time.sleep(0.3)
    for person in (ALICE, BOB, ADMIN):
        slack.open_home(person)
    slack.wait_for(lambda: slack.home(ADMIN))
    for text in ("help", "list", "actions", "nonsense"):
        slack.slash_command(ALICE, CHANNEL, "/postmortem", text)
    time.sleep(0.3)


def everything_shown(slack: FakeSlack) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every message and view the bot sent to the fake Slack, as ("message"|"modal"|"home", x)."""
    for call in slack.calls:
        if call.method in MESSAGE_METHODS and call.ok:
            yield "message", {"text": call.params.get("text"), "blocks": call.params.get("blocks")}
        elif call.method in VIEW_METHODS and call.ok:
            view = call.params["view"]
            yield ("home" if view.get("type") == "home" else "modal"), view
    for post in slack.response_posts:
        yield "message", post["payload"]
    with slack.lock:  # views replaced by response_action=update live only in the fake's store
        views = list(slack.workspace.views.values())
    for view in views:
        yield ("home" if view.get("type") == "home" else "modal"), view


def draw(kind: str, payload: dict[str, Any]) -> str:
    if kind == "message":
        return render.message({"ts": "1700000000.000100", **payload}, CHANNEL, D)
    if kind == "home":
        return render.home(payload, D)
    errors = {b["block_id"]: "Wrong." for b in payload.get("blocks", []) if b["type"] == "input"}
    return render.modal(payload, D, errors=errors)


def _types(payload: dict[str, Any]) -> set[str]:
    found = {b.get("type", "") for b in payload.get("blocks") or []}
    found |= {e.get("type", "") for _, e in iter_elements(payload.get("blocks") or [])}
    return found


@pytest.mark.parametrize("workflow", sorted(WALKS))
def test_every_message_and_view_of_a_workflow_renders(
    running_bot: tuple[FakeSlack, Bot], workflow: str
) -> None:
    slack, bot = running_bot
    decisions, admin_stages = WALKS[workflow]
    walk(
        slack,
        bot,
        workflow,
        "Render check",
        {k: list(v) for k, v in decisions.items()},
        admin_stages,
    )
    if workflow != "service_delivery":
        _use_action_items(slack)
    shown = list(everything_shown(slack))
    assert len(shown) > 20
    seen: set[str] = set()
    for kind, payload in shown:
        html = draw(kind, payload)
        assert render.UNSUPPORTED not in html, (kind, payload)
        assert "&lt;@U" not in html and "&lt;http" not in html, html  # mentions, links drawn
        seen |= _types(payload)
    assert {
        "header",
        "section",
        "context",
        "actions",
        "input",
        "button",
        "static_select",
        "plain_text_input",
        "radio_buttons",
        "checkboxes",
    } <= seen


@pytest.mark.parametrize("workflow", sorted(WALKS))
def test_every_page_of_every_stage_renders_filled_in(workflow: str) -> None:
    for stage in REGISTRY[workflow].stages:
        values = sample_answers(stage)
        meta = ModalMeta(1, stage.key)
        for page in range(10):
            meta.page = page
            view = stage_view(stage, title="Spring sale", meta=meta, values=values)
            html = render.modal(view, D, example=True)
            assert render.UNSUPPORTED not in html
            typed = entered_values(stage, values)
            for block in view["blocks"]:
                if block["type"] == "input" and block["block_id"] in typed:
                    assert f'data-block-id="{block["block_id"]}"' in html
            if meta.page < page:
                break


def test_block_kit_is_drawn_like_slack() -> None:
    html = render.message(
        {
            "ts": "1700000000.000100",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Q3 :tada:"}},
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": "*Bold* _it_ ~gone~ `code` <@U0BOB> <#C0REVIEWS> <!here> "
                        "<https://example.com/a?b=1&amp;c=2|the report> snake_case_name "
                        ":white_check_mark:",
                    },
                    "accessory": {
                        "type": "overflow",
                        "action_id": "more",
                        "options": [
                            {"text": {"type": "plain_text", "text": "Edit"}, "value": "edit"}
                        ],
                    },
                },
                {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Owner*\n<@U0ALICE>"}]},
                {"type": "divider"},
            ],
        },
        CHANNEL,
        D,
    )
    assert (
        'bk-header" data-block-id="">Q3 <span class="emoji" title=":tada:" '
        'data-text="★">🎉</span></div>'
    ) in html
    assert "<b>Bold</b> <i>it</i> <s>gone</s> <code>code</code>" in html
    assert '<span class="mention">@Bob Smith</span>' in html
    assert '<span class="mention">#reviews</span>' in html and "@here" in html
    assert '<a href="https://example.com/a?b=1&amp;c=2" target="_blank"' in html
    assert ">the report</a>" in html
    assert 'snake_case_name <span class="emoji" title=":white_check_mark:" data-text="✓">✅' in html
    assert "<b>Owner</b><br>" in html and "@Alice Nguyen" in html
    assert 'class="bk-overflow"' in html and '<option value="edit">Edit</option>' in html
    assert '<hr class="bk bk-divider"' in html


def test_user_text_cannot_inject_markup_or_scripts() -> None:
    text = (
        "&lt;script&gt;alert(1)&lt;/script&gt; <javascript:alert(1)|click me> "
        '<https://x.test/" onmouseover="alert(1)|quoted>'
    )
    html = render.mrkdwn(text, D)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html.split("click me")[0].split("<a")[-1]
    assert 'href="https://x.test/&quot; onmouseover=&quot;alert(1)"' in html


def test_a_fake_permalink_becomes_a_jump_to_the_message() -> None:
    html = render.mrkdwn("<https://fake.slack.local/archives/C0REVIEWS/p1700000000000100|it>", D)
    assert 'href="#msg-C0REVIEWS-1700000000.000100"' in html and 'class="permalink"' in html


def test_an_unknown_block_is_marked_not_dropped() -> None:
    html = render.message({"ts": "1.0", "blocks": [{"type": "video", "title": "x"}]}, CHANNEL, D)
    assert render.UNSUPPORTED in html and "Unsupported block: video" in html


def test_a_modal_shows_what_was_typed_and_errors_under_the_field() -> None:
    view = {
        "id": "V1",
        "type": "modal",
        "title": {"type": "plain_text", "text": "Form"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "when",
                "label": {"type": "plain_text", "text": "When"},
                "element": {"type": "datepicker", "action_id": "v"},
            },
            {
                "type": "input",
                "block_id": "who",
                "optional": True,
                "label": {"type": "plain_text", "text": "Who"},
                "element": {"type": "multi_users_select", "action_id": "v"},
            },
        ],
        "state": {
            "values": {
                "when": {"v": {"type": "datepicker", "selected_date": "2026-12-02"}},
                "who": {"v": {"type": "multi_users_select", "selected_users": ["U0BOB"]}},
            }
        },
    }
    html = render.modal(view, D, errors={"when": "Pick a working day."})
    assert 'type="date"' in html and 'value="2026-12-02"' in html
    assert '<option value="U0BOB" selected>Bob Smith</option>' in html and "multiple" in html
    when = html.index('<div class="bk bk-input-block bk-invalid" data-block-id="when"')
    who = html.index('<div class="bk bk-input-block" data-block-id="who"')
    assert when < html.index("Pick a working day.") < who  # under its own field
    assert "(optional)" in html[who:]
    assert ">Save</button>" in html


def test_a_quote_is_drawn_with_or_without_a_space_and_a_typed_gt_is_text() -> None:
    html = render.mrkdwn(">Refund wording must match\n> the returns page\n&gt; not a quote", D)
    assert html == (
        '<span class="quote">Refund wording must match</span><br>'
        '<span class="quote">the returns page</span><br>&gt; not a quote'
    )


def test_a_shared_file_shows_its_title_and_a_download_link() -> None:
    html = render.message(
        {
            "ts": "1.0",
            "text": "Export requested by <@U0ALICE>",
            "files": [
                {
                    "id": "F123",
                    "name": "review-1-late-refund.md",
                    "title": "Review record: Late <b>",
                    "size": 2048,
                }
            ],
        },
        CHANNEL,
        D,
    )
    assert "Export requested by" in html
    assert (
        '<a href="/api/file?id=F123" download="review-1-late-refund.md">'
        "Review record: Late &lt;b&gt;</a>"
    ) in html
    assert "review-1-late-refund.md · 2.0 kB" in html


def test_every_emoji_the_bot_uses_has_a_text_stand_in() -> None:
    root = Path(__file__).resolve().parents[2] / "bot"
    used = {
        m
        for path in root.rglob("*")
        if path.suffix in (".py", ".j2")
        for m in re.findall(r":([a-z_]+):", path.read_text(encoding="utf-8"))
    }
    not_emoji = {"memory", "line"}  # SQLite's ":memory:", "file:line:" in messages
    assert used - set(render.EMOJI) - not_emoji == set()
    assert set(render.EMOJI) <= set(render.EMOJI_TEXT)

"""`/postmortem insights` called directly, and the Block Kit it answers with."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock

from helpers.slack_unit import ALICE, slack_error, slash_command

from bot.insights import listeners, views
from bot.runtime import Runtime
from sandbox.fake_slack import problems

from .samples import empty, half_year


def blocks_of(call: Any) -> list[dict[str, Any]]:
    return call.kwargs["blocks"]


def test_an_answer_slack_refuses_with_the_image_is_sent_again_without_it(
    rt: Runtime, client: MagicMock
) -> None:
    client.files_upload_v2.return_value = {"ok": True, "files": [{"id": "F0CHART"}]}
    respond = MagicMock(
        side_effect=[
            SimpleNamespace(status_code=400, body="invalid_blocks"),
            SimpleNamespace(status_code=200, body="ok"),
        ]
    )
    listeners.insights(rt, slash_command("insights"), "", respond, client)
    upload = client.files_upload_v2.call_args.kwargs
    assert upload["channel"] == "D0ALICE" and upload["file"].startswith(b"\x89PNG")
    assert upload["alt_txt"].startswith("Bar chart of reviews per month")
    first, second = respond.call_args_list
    assert {"type": "image", "slack_file": {"id": "F0CHART"}}.items() <= [
        b for b in blocks_of(first) if b["type"] == "image"
    ][0].items()
    assert not [b for b in blocks_of(second) if b["type"] == "image"]
    assert "direct messages" in str(blocks_of(second))


def test_a_slack_error_on_upload_still_answers_with_the_figures(
    rt: Runtime, client: MagicMock
) -> None:
    client.files_upload_v2.side_effect = slack_error("files.completeUploadExternal", "ratelimited")
    respond = MagicMock(return_value=SimpleNamespace(status_code=200))
    listeners.insights(rt, slash_command("insights 3m"), "3m", respond, client)
    respond.assert_called_once()
    assert "could not be sent this time" in str(blocks_of(respond.call_args))
    assert respond.call_args.kwargs["response_type"] == "ephemeral"


def test_the_answer_escapes_titles_and_keeps_to_slacks_limits() -> None:
    message = views.insights_message(half_year(), file_id="F0CHART", alt="A chart")
    assert problems("message", message) == []
    text = str(message["blocks"])
    assert "<https://slack.example/p11|Refund &lt;wording&gt;>" in text
    assert "_Acme &lt;fit-out&gt;_: Quality Review: Revision required ×2" in text
    assert "Refund <wording>" not in text and "Acme <fit-out>" not in text
    assert "76% done on time" in text  # 105 on time of 105 + 18 late + 15 overdue = 138


def test_app_home_figures_fit_in_a_home_view() -> None:
    for ins in (half_year(), empty()):
        blocks = views.home_section(ins)
        assert problems("home", {"type": "home", "blocks": blocks}) == []
        assert blocks[1]["accessory"]["action_id"] == views.CHART_ACTION


def test_headlines_by_hand() -> None:
    pairs = dict(views.headlines(half_year()))
    assert pairs["Reviews"] == "60 started, 51 completed"
    assert pairs["Review done → last action done"] == "median 6.0 days (20 reviews)"
    assert pairs["Support"] == "CES 3.9 of 7 over 36 tickets · 2 open over 14 days"
    assert pairs["Same theme again"] == "13 of 60 reviews repeat a theme with a lesson"
    assert pairs["Service delivery"] == "1 of 3 engagements sent back"
    assert pairs["Budget vs actual, excl. GST"] == (
        "$1,000.00 vs $1,200.00 (20% over) · 1 of 2 over budget"
    )
    assert ALICE  # the unit fixtures' user, asked nothing here

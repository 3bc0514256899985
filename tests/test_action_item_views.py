"""Every message and view about an action item escapes user text (also in the notification
`text`) and is accepted by Slack's Block Kit checks."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from bot.action_items import views
from bot.action_items.service import Listed
from bot.home.views import home_view
from sandbox.fake_slack import problems

NASTY = "<!channel> & <b>bold</b>"
TODAY = date(2026, 12, 9)


def item(status: str = "blocked", **over: object) -> views.ItemView:
    values: dict = dict(
        id=7,
        title=f"Fix {NASTY}",
        status=status,
        due=date(2026, 12, 4),
        owner_id="U0BOB",
        review_title=f"Review {NASTY}",
        permalink="https://fake.slack.local/archives/C1/p1",
        note=f"Note {NASTY}",
        snoozed_until=datetime(2026, 12, 10, 9, tzinfo=UTC),
        today=TODAY,
        completed=date(2026, 12, 8),
        tracking_link=f"https://x.test/{NASTY}",
    )
    values.update(over)
    return views.ItemView(**values)


MESSAGES = {
    "card": lambda: views.item_blocks(item(), f"Headline {NASTY}"),
    "stale card": lambda: views.item_blocks(
        item("done"), "Action item", buttons=False, card_link="https://fake.slack.local/x"
    ),
    "handed over": lambda: views.handed_over_blocks(item()),
    "note": lambda: views.note_blocks(item("open"), "due_soon", "https://fake.slack.local/x"),
    "escalation": lambda: views.escalation_blocks(item(), 3),
    "escalation done": lambda: views.escalation_blocks(item("done"), 3),
    "blocked": lambda: views.owner_notice_blocks(item(), views.BLOCKED),
    "unblocked": lambda: views.owner_notice_blocks(item("in_progress"), views.BLOCKED),
    "asked": lambda: views.asked_blocks(item(), "U0ALICE", 2, "https://fake.slack.local/x"),
    "failed": lambda: views.delivery_failed_blocks(item(), "account_inactive"),
    "improvements": lambda: views.improvements_blocks(1, f"Review {NASTY}", None),
    "owned": lambda: {"blocks": views.owned_item_blocks(item())},
}
MODALS = {
    "status": lambda: views.status_modal(item()),
    "reopen": lambda: views.status_modal(item("done"), home=True),
    "reassign": lambda: views.reassign_modal(item()),
}


@pytest.mark.parametrize("name", MESSAGES)
def test_messages_escape_user_text_everywhere(name: str) -> None:
    message = MESSAGES[name]()
    assert problems("message", message) == []
    assert "<!channel>" not in json.dumps(message)
    assert "<b>" not in message.get("text", "")


@pytest.mark.parametrize("name", MODALS)
def test_modals_escape_user_text(name: str) -> None:
    view = MODALS[name]()
    assert problems("modal", view) == []
    assert "<!channel>" not in json.dumps(
        {k: v for k, v in view.items() if k != "blocks"} | {"blocks": view["blocks"][:1]}
    )


def test_a_full_home_stays_within_slacks_limits() -> None:
    mine = Listed([item("open", id=n) for n in range(10)], 25)
    owned = Listed([item(id=100 + n, owner_id="U0CAROL") for n in range(10)], 30, 12)
    view = home_view(
        waiting=[(n, f"Review {NASTY}", "Stage") for n in range(15)],
        reviews=[f"line {n}" for n in range(20)],
        mine=mine,
        owned=owned,
    )
    assert problems("home", view) == []
    text = json.dumps(view)
    assert "<!channel>" not in text
    assert ":no_entry: 12 action items in your reviews are blocked" in text
    assert "and 15 more: `/postmortem actions` lists them all" in text
    assert "and 20 more" in text

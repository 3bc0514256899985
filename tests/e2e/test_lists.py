"""Every list the app shows, with several entries, is accepted by Slack's Block Kit checks.

A list that repeats a block id (or breaks another limit) is refused by Slack with
`invalid_blocks`, and a reply through a response_url that is refused shows the person nothing:
the command just seems dead. So each list is filled with several entries and sent through the
fake Slack, which checks it as Slack does (sandbox/fake_slack/limits.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from digest.seed import ADMIN, ALICE, BOB, CHANNEL, NOW, TEAM, seed_busy
from sqlalchemy import select

from bot.digest import service as digest
from sandbox.fake_slack import FakeSlack, problems
from storage import knowledge as kb
from storage import reviews as store
from storage.db import transaction
from storage.models import Review


@pytest.fixture
def busy_bot(slack: FakeSlack, engine, bot_with, monkeypatch: pytest.MonkeyPatch):
    """The digest's busy period, plus more items for Bob and searchable lessons for each review."""
    monkeypatch.setenv("POSTMORTEM_DIGEST_CHANNEL", CHANNEL)
    running = bot_with(slack, engine)
    with transaction(running.rt.sessions) as session:
        seed_busy(session)
    with transaction(running.rt.sessions) as session:
        reviews = session.scalars(select(Review).order_by(Review.id)).all()
        for n, review in enumerate(reviews):
            store.add_action_item(
                session,
                review,
                title=f"Refund follow-up {n} <b>",
                owner_id=BOB,
                due=date(2026, 12, 3 + n),
                tracking_link=None,
                actor=ALICE,
            )
            kb.upsert_entry(
                session,
                workspace_id=review.workspace_id,
                review_id=review.id,
                workflow_key=review.workflow_key,
                title=review.title,
                lessons=f"Refund lesson number {n}: check the refund queue daily.",
                root_causes="The refund queue was checked weekly.",
                recommendations="Alert on refunds older than two days.",
                tags=["refund"],
                created_at=datetime(2026, 11, 20 + n, tzinfo=UTC),
            )
    return running


def _reply(slack: FakeSlack, user: str, text: str) -> dict:
    before = len(slack.response_posts)
    assert slack.slash_command(user, CHANNEL, "/postmortem", text).status == 200
    post = slack.wait_for(
        lambda: len(slack.response_posts) > before and slack.response_posts[before]
    )
    return post


@pytest.mark.parametrize(
    ("user", "text", "entries"),
    [
        (
            BOB,
            "actions",
            ["Update the refund KB article", "Refund follow-up 0", "Refund follow-up 3"],
        ),
        (ALICE, "actions", ["Train pickers on the new labels", "Audit label stock"]),
        (ALICE, "list", ["Refund took 3 weeks", "Black Friday email", "Old one"]),
        (ALICE, "search refund", ["Refund took 3 weeks", "Wrong size shipped", "Old one"]),
        (ALICE, "digest", ["Update the refund KB article"]),
    ],
)
def test_each_list_with_several_entries_is_accepted(
    slack: FakeSlack, busy_bot, user: str, text: str, entries: list[str]
) -> None:
    post = _reply(slack, user, text)
    assert (post["error"], post["problems"]) == (None, [])
    assert problems("message", post["payload"]) == []
    shown = str(post["payload"]["blocks"])
    for entry in entries:
        assert entry in shown, (entry, shown)


def test_the_posted_digest_with_several_entries_is_accepted(slack: FakeSlack, busy_bot) -> None:
    result = digest.post(busy_bot.rt, TEAM, now=NOW, by="test")
    assert result.status == "posted", result
    posted = slack.messages(CHANNEL)[-1]
    assert problems("message", posted) == []
    assert "Update the refund KB article" in str(posted["blocks"])


@pytest.mark.parametrize(
    ("user", "entries"),
    [
        (ALICE, ["Refund took 3 weeks", "Train pickers on the new labels", "Audit label stock"]),
        (BOB, ["Wrong size shipped", "Update the refund KB article", "Refund follow-up 2"]),
        (ADMIN, ["Wrong size shipped"]),
    ],
)
def test_app_home_with_several_entries_is_accepted(
    slack: FakeSlack, busy_bot, user: str, entries: list[str]
) -> None:
    slack.open_home(user)
    home = slack.wait_for(lambda: slack.home(user))
    assert problems("home", home) == []
    shown = str(home["blocks"])
    for entry in entries:
        assert entry in shown, (entry, shown)


def test_a_long_actions_list_stays_within_a_message_and_says_how_many_more(
    slack: FakeSlack, busy_bot
) -> None:
    with transaction(busy_bot.rt.sessions) as session:
        review = session.scalars(select(Review).order_by(Review.id)).first()
        for n in range(15):
            store.add_action_item(
                session,
                review,
                title=f"Chore {n}",
                owner_id=BOB,
                due=date(2026, 12, 20),
                tracking_link=None,
                actor=ALICE,
            )
    post = _reply(slack, BOB, "actions")
    assert (post["error"], post["problems"]) == (None, [])
    assert "*Your open action items* (20)" in str(post["payload"]["blocks"])
    assert "and 5 more: see the Home tab" in str(post["payload"]["blocks"][-1])

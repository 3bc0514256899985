"""Similar lessons, when a review starts, come only from the workspace's own past reviews."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from helpers.oauth import ALICE, CHANNEL_ONE, CHANNEL_TWO, DANA, ONE, TWO, install, start_review
from sqlalchemy import select

from bot.knowledge.service import suggest_similar
from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot
from storage import knowledge as kb
from storage.db import transaction
from storage.models import Review, Workspace


def test_similar_lessons_come_only_from_the_workspaces_own_reviews(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot = oauth_bot()
    install(slack, bot, ONE, ALICE)
    with slack.in_team(TWO):
        install(slack, bot, TWO, DANA)
    start_review(slack, ALICE, CHANNEL_ONE, "Parcel lockers jammed at Bondi")
    with slack.in_team(TWO):
        start_review(slack, DANA, CHANNEL_TWO, "Parcel lockers jammed at Parramatta")
    bot.settle()
    with transaction(bot.rt.sessions) as session:  # both reviews' lessons, as on completion
        for review in session.scalars(select(Review)):
            kb.upsert_entry(
                session,
                workspace_id=review.workspace_id,
                review_id=review.id,
                workflow_key=review.workflow_key,
                title=review.title,
                lessons=f"Lesson of {review.title}: parcel lockers need a daily reset.",
                root_causes="Parcel lockers were reset weekly.",
                recommendations="Reset the parcel lockers daily.",
                tags=["lockers"],
                created_at=datetime(2026, 11, 20, tzinfo=UTC),
            )
    with slack.in_team(TWO):
        start_review(slack, DANA, CHANNEL_TWO, "Parcel lockers jammed again")
        bot.settle()
        replies = slack.wait_for(
            lambda: [
                m
                for m in slack.messages(CHANNEL_TWO, include_replies=True)
                if m.get("thread_ts") and "Lessons from similar" in str(m)
            ]
        )
    assert "Parramatta" in str(replies) and "Bondi" not in str(replies)
    # The other workspace's review id, handed to workspace TWO's runtime, suggests nothing.
    with bot.rt.sessions() as session:
        bondi = session.scalar(select(Review.id).join(Workspace).where(Workspace.team_id == ONE))
    assert bondi is not None
    before = len(slack.calls_to("chat.postMessage"))
    assert suggest_similar(bot.rt.for_team(TWO), bondi) == 0
    assert len(slack.calls_to("chat.postMessage")) == before

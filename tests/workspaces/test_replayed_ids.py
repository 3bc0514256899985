"""Ids of today's features (team-sync items, surveys) replayed from the other workspace reach
nothing: the scoped session reads them as gone, and nothing of the other workspace is shown."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from helpers.oauth import ALICE, CHANNEL_ONE, CHANNEL_TWO, DANA, ONE, TWO, install, start_review
from sqlalchemy import func, select

from bot.surveys.views import ANSWER
from bot.team_sync.views import VOTE
from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot
from storage import surveys as survey_store
from storage import team_sync as sync_store
from storage.db import transaction
from storage.models import Review
from storage.team_sync import SyncVote


def _two(slack: FakeSlack, oauth_bot: Callable[..., Bot]) -> tuple[Bot, dict]:
    bot = oauth_bot()
    install(slack, bot, ONE, ALICE)
    with slack.in_team(TWO):
        install(slack, bot, TWO, DANA)
    start_review(slack, ALICE, CHANNEL_ONE, "Black Friday email went out twice")
    with slack.in_team(TWO):
        second = start_review(slack, DANA, CHANNEL_TWO, "Click and collect lockers jammed")
    bot.settle()
    return bot, second


def _dana_clicks(slack: FakeSlack, second: dict, action_id: str, value: str) -> dict:
    """Dana's own Continue click, replayed with another action and value (a forged payload)."""
    with slack.in_team(TWO):
        own = slack.click(
            DANA, "continue_review", None, channel_id=CHANNEL_TWO, message_ts=second["ts"]
        )
        slack.wait_for(lambda: slack.top_view(DANA))
        with slack.lock:
            slack.workspace.clear_stack(DANA)
        replay = copy.deepcopy(own.payload)
        replay["actions"][0].update(action_id=action_id, value=value)
        replay["trigger_id"] = slack.issue_trigger(DANA)
    return replay


def test_a_vote_replayed_with_the_other_workspaces_item_is_refused(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot, second = _two(slack, oauth_bot)
    with transaction(bot.rt.for_team(ONE).sessions) as session:
        review = session.scalars(select(Review)).one()
        item = sync_store.add_item(
            session, review.id, "data_gathering", "went_well", "Vouchers queued early", ALICE
        )
        item_id = item.id
    replay = _dana_clicks(slack, second, VOTE, str(item_id))
    with slack.in_team(TWO):
        assert slack._send_payload(replay).status == 200
        told = slack.wait_for(
            lambda: [e for e in slack.ephemerals(DANA) if "no longer exists" in e["text"]]
        )
    assert told and "Vouchers" not in str(told)
    with bot.rt.sessions() as session:
        votes = session.scalar(select(func.count(SyncVote.id)).where(SyncVote.item_id == item_id))
    assert votes == 0


def test_a_survey_answer_replayed_with_the_other_workspaces_survey_is_refused(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot, second = _two(slack, oauth_bot)
    now = datetime.now(UTC)
    with transaction(bot.rt.for_team(ONE).sessions) as session:
        review = session.scalars(select(Review)).one()
        survey, _ = survey_store.open_survey(
            session,
            review.id,
            "data_gathering",
            sent_by=ALICE,
            sent_at=now,
            closes_at=now + timedelta(days=2),
            remind_at=now + timedelta(days=1),
            timezone="UTC",
        )
        survey_id = survey.id
    replay = _dana_clicks(slack, second, ANSWER, str(survey_id))
    with slack.in_team(TWO):
        assert slack._send_payload(replay, trigger_id=replay["trigger_id"]).status == 200
        view = slack.wait_for(lambda: slack.top_view(DANA))
    assert view["callback_id"] != "survey_submit"
    assert "no longer exists" in str(view["blocks"])
    assert "Black Friday" not in str(view)

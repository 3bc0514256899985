"""Two workspaces installed through "Add to Slack": each sees, and reaches, only its own."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from helpers.oauth import (
    ALICE,
    CHANNEL_ONE,
    CHANNEL_TWO,
    CLIENT_ID,
    DANA,
    ONE,
    TWO,
    command,
    install,
    start_review,
)
from helpers.slack_walk import REGISTRY, enter
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot import scheduler
from bot.digest import service as digest
from bot.features import Job
from bot.reviews.views.review_message import EXPORT_ACTION
from bot.runtime import Runtime
from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot
from storage import knowledge as kb
from storage import outbox
from storage import reviews as store
from storage.db import transaction
from storage.installations import bots
from storage.models import ActionItem, Review, Workspace
from workflows.samples import sample_answers


def _two(slack: FakeSlack, oauth_bot: Callable[..., Bot]) -> tuple[Bot, dict, dict]:
    bot = oauth_bot()
    install(slack, bot, ONE, ALICE)
    with slack.in_team(TWO):
        install(slack, bot, TWO, DANA)
    first = start_review(slack, ALICE, CHANNEL_ONE, "Black Friday email went out twice")
    with slack.in_team(TWO):
        second = start_review(slack, DANA, CHANNEL_TWO, "Click and collect lockers jammed")
    bot.settle()
    return bot, first, second


def _review_ids(bot: Bot) -> dict[str, int]:
    with bot.rt.sessions() as session:
        rows = session.execute(
            select(Workspace.team_id, Review.id).join(Review, Review.workspace_id == Workspace.id)
        ).all()
    return {team: review_id for team, review_id in rows}


def test_each_install_stores_its_own_token_and_serves_its_workspace(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot, first, second = _two(slack, oauth_bot)
    with bot.rt.sessions() as session:
        stored = session.execute(select(bots.c.team_id, bots.c.bot_token, bots.c.client_id)).all()
    assert {team for team, _, _ in stored} == {ONE, TWO}
    assert len({token for _, token, _ in stored}) == 2
    assert {client for _, _, client in stored} == {CLIENT_ID}
    # Each workspace's status message went out with its own token, into its own channel.
    assert "Black Friday" in first["text"] and "Click and collect" in second["text"]
    assert _review_ids(bot).keys() == {ONE, TWO}
    posts = slack.calls_to("chat.postMessage")
    assert {c.params["channel"] for c in posts} >= {CHANNEL_ONE, CHANNEL_TWO}
    assert all(c.ok for c in posts)


def test_a_token_reaches_only_its_own_workspace(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot = oauth_bot()
    install(slack, bot, ONE, ALICE)
    with slack.in_team(TWO):
        install(slack, bot, TWO, DANA)
    with bot.rt.sessions() as session:
        token_two = session.scalar(select(bots.c.bot_token).where(bots.c.team_id == TWO))
    client = WebClient(token=token_two, base_url=slack.api_url)
    assert client.auth_test()["team_id"] == TWO
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel=CHANNEL_ONE, text="hello from the other workspace")
    assert refused.value.response["error"] == "channel_not_found"
    slack.reset_calls()  # the refusal above was the point


def test_lists_search_and_home_show_only_the_workspaces_own_reviews(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot, _, _ = _two(slack, oauth_bot)
    with transaction(bot.rt.sessions) as session:  # each review's lessons, as on completion
        for review in session.scalars(select(Review)):
            kb.upsert_entry(
                session,
                workspace_id=review.workspace_id,
                review_id=review.id,
                workflow_key=review.workflow_key,
                title=review.title,
                lessons=f"Lesson of {review.title}: check the voucher queue daily.",
                root_causes="The voucher queue was checked weekly.",
                recommendations="Alert on vouchers older than two days.",
                tags=["voucher"],
                created_at=datetime(2026, 11, 20, tzinfo=UTC),
            )
    shown_one = command(slack, ALICE, CHANNEL_ONE, "list")
    found_one = command(slack, ALICE, CHANNEL_ONE, "search voucher")
    assert "Black Friday" in shown_one and "Click and collect" not in shown_one
    assert "Black Friday" in found_one and "Click and collect" not in found_one
    with slack.in_team(TWO):
        shown_two = command(slack, DANA, CHANNEL_TWO, "list")
        found_two = command(slack, DANA, CHANNEL_TWO, "search voucher")
        slack.open_home(DANA)
        home = slack.wait_for(lambda: slack.home(DANA))
    assert "Click and collect" in shown_two and "Black Friday" not in shown_two
    assert "Click and collect" in found_two and "Black Friday" not in found_two
    assert "Black Friday" not in str(home["blocks"])


def test_a_review_id_replayed_from_the_other_workspace_is_refused(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot, _, second = _two(slack, oauth_bot)
    ids = _review_ids(bot)
    with slack.in_team(TWO):
        # Dana's own Continue button opens her stage form...
        own = slack.click(
            DANA, "continue_review", str(ids[TWO]), channel_id=CHANNEL_TWO, message_ts=second["ts"]
        )
        assert slack.wait_for(lambda: slack.top_view(DANA))["callback_id"] == "stage"
        with slack.lock:
            slack.workspace.clear_stack(DANA)
        # ...the same click carrying the other workspace's review id is refused.
        replay = copy.deepcopy(own.payload)
        replay["actions"][0]["value"] = str(ids[ONE])
        replay["trigger_id"] = slack.issue_trigger(DANA)
        assert slack._send_payload(replay, trigger_id=replay["trigger_id"]).status == 200
        view = slack.wait_for(lambda: slack.top_view(DANA))
    assert view["callback_id"] != "stage"
    assert "no longer exists" in str(view["blocks"])
    assert "Black Friday" not in str(view)
    # The export button, replayed with the other workspace's review id, exports nothing.
    export = copy.deepcopy(own.payload)
    export["actions"][0].update(action_id=EXPORT_ACTION, value=str(ids[ONE]))
    before = len(slack.response_posts)
    with slack.in_team(TWO):
        assert slack._send_payload(export).status == 200
    told = slack.wait_for(lambda: slack.response_posts[before:])
    assert "That review no longer exists." in str(told[0]["payload"])
    assert not slack.uploaded_files()


def test_uninstalling_stops_one_workspace_and_leaves_the_other(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot, _, _ = _two(slack, oauth_bot)
    visited: list[str | None] = []

    def job(rt: Runtime) -> None:
        visited.append(rt.team)

    scheduler._run(Job("probe", job, 60), bot.rt)
    assert sorted(visited, key=str) == [ONE, TWO]

    assert slack.event({"type": "app_uninstalled"}).status == 200

    def installed() -> list[str]:
        with bot.rt.sessions() as session:
            return list(session.scalars(select(bots.c.team_id)))

    slack.wait_for(lambda: installed() == [TWO])
    visited.clear()
    scheduler._run(Job("probe", job, 60), bot.rt)
    assert visited == [TWO]
    # The other workspace goes on as before.
    with slack.in_team(TWO):
        assert "Click and collect" in command(slack, DANA, CHANNEL_TWO, "list")


def test_an_action_item_button_replayed_from_the_other_workspace_is_refused(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot, _, _ = _two(slack, oauth_bot)
    items = {}
    for team, owner in ((ONE, ALICE), (TWO, DANA)):
        with transaction(bot.rt.for_team(team).sessions) as session:
            review = session.scalars(select(Review)).one()
            item = store.add_action_item(
                session,
                review,
                title=f"Follow-up of {team}",
                owner_id=owner,
                due=date(2026, 12, 3),
                tracking_link=None,
                actor=owner,
            )
            session.flush()
            items[team] = item.id
            outbox.enqueue(session, "action_items.assigned", {"item_id": item.id})
    bot.rt.delivery_due.set()
    bot.settle()
    with slack.in_team(TWO):
        card = slack.wait_for(lambda: slack.dms(DANA))[-1]
        assert "Follow-up of T0TWO" in str(card)
        own = slack.click(
            DANA, "item_done", str(items[TWO]), channel_id="D" + DANA, message_ts=card["ts"]
        )
        assert own.status == 200
        replay = copy.deepcopy(own.payload)
        replay["actions"][0]["value"] = str(items[ONE])
        assert slack._send_payload(replay).status == 200
        told = slack.wait_for(
            lambda: [e for e in slack.ephemerals(DANA) if "no longer exists" in e["text"]]
        )
    assert told

    def status(item_id: int) -> str:
        with bot.rt.sessions() as session:
            item = session.get(ActionItem, item_id)
            assert item is not None
            return item.status

    slack.wait_for(lambda: status(items[TWO]) == "done")  # her own click, answered after ack
    assert status(items[ONE]) == "open"


def test_each_workspaces_digest_holds_only_its_own_reviews(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot, _, _ = _two(slack, oauth_bot)
    posted = {}
    for team, channel in ((ONE, CHANNEL_ONE), (TWO, CHANNEL_TWO)):
        team_rt = bot.rt.for_team(team)
        with transaction(team_rt.sessions) as session:  # overdue: on every digest's agenda
            review = session.scalars(select(Review)).one()
            store.add_action_item(
                session,
                review,
                title=f"Fix for {review.title}",
                owner_id=review.owner_id,
                due=datetime.now(UTC).date() - timedelta(days=3),
                tracking_link=None,
                actor=review.owner_id,
            )
        digest.save_settings(team_rt, team, "U0ADMIN", channel=channel)
        assert digest.post(team_rt, team, by="test").status == "posted"
        with slack.in_team(team):
            posted[team] = str(slack.messages(channel, include_replies=True)[-1])
    assert "Black Friday" in posted[ONE] and "Click and collect" not in posted[ONE]
    assert "Click and collect" in posted[TWO] and "Black Friday" not in posted[TWO]


def test_a_form_whose_metadata_names_the_other_workspaces_review_is_refused(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot, _, second = _two(slack, oauth_bot)
    ids = _review_ids(bot)
    with slack.in_team(TWO):
        slack.click(
            DANA, "continue_review", str(ids[TWO]), channel_id=CHANNEL_TWO, message_ts=second["ts"]
        )
        form = slack.wait_for(lambda: slack.top_view(DANA))
        assert form["callback_id"] == "stage"
        stage = REGISTRY["campaign_postmortem"].stage("data_gathering")
        values = enter(slack, DANA, stage, sample_answers(stage))
        form = slack.top_view(DANA)
        meta = json.loads(form["private_metadata"])
        assert meta["r"] == ids[TWO]
        with slack.lock:  # a tampered form: the other workspace's review id in its metadata
            slack.workspace.views[form["id"]]["private_metadata"] = json.dumps(
                {**meta, "r": ids[ONE]}
            )
        reply = slack.submit(DANA, form["id"], values)
    assert reply.status == 200
    assert "no longer exists" in str(reply.body)
    with bot.rt.sessions() as session:
        first = session.get(Review, ids[ONE])
        assert first is not None and first.current_stage == "data_gathering"

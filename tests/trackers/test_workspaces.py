"""Many workspaces: a tracker webhook changes only the items of the workspace that filed the task.

Two workspaces installed through "Add to Slack" (the fixtures of tests/workspaces), each filing
its items in its own GitHub repository, on two fakes. GitHub numbers issues per repository, so
both first tasks are #1: the delivery for one repository's #1 must change that workspace's item
and leave the other's alone.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from helpers.oauth import ALICE, CHANNEL_ONE, CHANNEL_TWO, DANA, ONE, TWO, install, start_review
from sqlalchemy import select
from trackers.fakes.github import TOKEN, FakeGitHub
from workspaces.conftest import oauth_bot, slack  # noqa: F401 - the two-workspace fixtures

from bot.delivery.service import record
from bot.trackers import service
from bot.trackers import settings as tracker_settings
from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot
from storage import reviews as store
from storage import trackers as tracker_store
from storage.db import transaction
from storage.models import ActionItem, Review, Workspace


class OtherGitHub(FakeGitHub):
    """The second workspace's repository, on its own GitHub Enterprise host."""

    repo = "acme/shop"


@pytest.fixture
def githubs() -> Iterator[tuple[FakeGitHub, FakeGitHub]]:
    first, second = FakeGitHub().start(), OtherGitHub().start()
    yield first, second
    first.stop()
    second.stop()


def post_hook(bot: Bot, signed: tuple[bytes, dict[str, str]]) -> tuple[int, dict]:
    body, headers = signed
    url = bot.url.rsplit("/slack/", 1)[0] + "/hooks/trackers/github"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - 127.0.0.1
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def status_of(bot: Bot, item_id: int) -> str:
    with bot.rt.sessions() as session:
        item = session.get(ActionItem, item_id)
        assert item is not None
        return item.status


def two_workspaces_with_a_task_each(
    fake_slack: FakeSlack, make_bot: Callable[..., Bot], first: FakeGitHub, second: FakeGitHub
) -> tuple[Bot, dict[str, int]]:
    """Workspace ONE files in the environment's repository, TWO in the one its admin chose;
    each has one action item whose task is #1 in its own repository."""
    bot = make_bot(**first.env())
    install(fake_slack, bot, ONE, ALICE)
    with fake_slack.in_team(TWO):
        install(fake_slack, bot, TWO, DANA)
    start_review(fake_slack, ALICE, CHANNEL_ONE, "Black Friday email went out twice")
    with fake_slack.in_team(TWO):
        start_review(fake_slack, DANA, CHANNEL_TWO, "Click and collect lockers jammed")
    bot.settle()
    with transaction(bot.rt.for_team(TWO).sessions) as session:
        ws = session.scalars(select(Workspace)).one()
        form = tracker_settings.Form(
            tracker="github", target=second.repo, api_url=second.url, token=TOKEN
        )
        tracker_settings.save(session, ws, form)
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
            record(session, [service.create_effect(item.id)])
    bot.rt.delivery_due.set()
    bot.settle()
    fake_slack.wait_for(lambda: first.count() == 1 and second.count() == 1)
    bot.settle()
    with bot.rt.sessions() as session:
        for team, fake in ((ONE, first), (TWO, second)):
            row = tracker_store.for_item(session, items[team])
            assert row is not None and row.external_id == "1", (team, row)
            assert row.url == f"https://github.com/{fake.repo}/issues/1"
    return bot, items


def test_a_task_id_of_one_workspace_never_changes_the_other_workspaces_item(
    slack: FakeSlack,  # noqa: F811 - the two-workspace fixture
    oauth_bot: Callable[..., Bot],  # noqa: F811
    githubs: tuple[FakeGitHub, FakeGitHub],
) -> None:
    first, second = githubs
    bot, items = two_workspaces_with_a_task_each(slack, oauth_bot, first, second)

    # Workspace TWO's #1 is closed in its repository: only TWO's item is done.
    status, answer = post_hook(bot, second.close_by_hand("1"))
    assert (status, answer["applied"]) == (200, 1), answer
    assert status_of(bot, items[TWO]) == "done"
    assert status_of(bot, items[ONE]) == "open"

    # The same number in ONE's repository, closed as not planned: only ONE's item is cancelled.
    status, answer = post_hook(bot, first.cancel_by_hand("1"))
    assert (status, answer["applied"]) == (200, 1), answer
    assert status_of(bot, items[ONE]) == "cancelled"
    assert status_of(bot, items[TWO]) == "done"


def test_a_delivery_for_a_repository_no_workspace_uses_changes_nothing(
    slack: FakeSlack,  # noqa: F811
    oauth_bot: Callable[..., Bot],  # noqa: F811
    githubs: tuple[FakeGitHub, FakeGitHub],
) -> None:
    first, second = githubs
    bot, items = two_workspaces_with_a_task_each(slack, oauth_bot, first, second)
    stranger = FakeGitHub()
    stranger.repo = "someone/else"
    stranger.issues = {1: {**first.only_task()}}

    status, answer = post_hook(bot, stranger.close_by_hand("1"))

    assert (status, answer["applied"]) == (200, 0), answer
    assert status_of(bot, items[ONE]) == status_of(bot, items[TWO]) == "open"

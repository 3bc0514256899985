"""End to end, for each tracker: the real bot, the fake Slack and that tracker's fake.

An action item becomes one task with the owner as assignee and the item's due date; the owner's
DM links it; closing the task in the tracker (a signed webhook) marks the item done; Mark done
in Slack closes the task; a tracker answering 503, 429 and losing an answer still ends with
exactly one task.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from trackers.conftest import FAKES
from trackers.fakes.server import FakeTracker

from bot.action_items import service as reminders
from bot.app import effect_handlers
from bot.cli.main import main
from bot.config import load_settings
from bot.delivery.service import deliver_due, record
from bot.reviews import service
from bot.reviews.status import status_effect
from bot.runtime import Runtime, build_runtime
from bot.trackers.service import request_task, sync
from sandbox.fake_slack import FakeSlack
from storage import reviews as store
from storage import trackers as tracker_store
from storage.db import transaction
from storage.models import ActionItem, AuditEntry, Workspace
from storage.outbox import PENDING, Effect
from storage.types import utcnow
from workflows.loader import Registry

ADMIN, BOB, CHANNEL, TEAM = "U0ADMIN", "U0BOB", "C0REVIEWS", "T0TEST"
REGISTRY = Registry.load()
DUE = date(2026, 12, 4)


def start_review(rt: Runtime, title: str = "Black Friday email") -> int:
    with transaction(rt.sessions) as session:
        review = service.start_review(
            session,
            REGISTRY["campaign_postmortem"],
            team_id=TEAM,
            title=title,
            channel_id=CHANNEL,
            owner_id=ADMIN,
            started_by=ADMIN,
        )
        record(session, [status_effect(review.id)])
        return review.id


def map_github_login(rt: Runtime, user: str, login: str) -> None:
    with transaction(rt.sessions) as session:
        ws = session.scalars(select(Workspace).where(Workspace.team_id == TEAM)).one()
        saved = dict((ws.settings or {}).get("trackers") or {})
        logins = {**(saved.get("github_logins") or {}), user: login}
        ws.settings = {**(ws.settings or {}), "trackers": {**saved, "github_logins": logins}}


def assign(
    rt: Runtime,
    review_id: int,
    title: str = "Fix the promo code check",
    owner: str = BOB,
    due: date = DUE,
) -> int:
    """An action item saved as a stage saves it: the item and its effects in one transaction."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        changes = store.sync_action_items(
            session,
            review,
            stage_key="action_items",
            rows=[{"title": title, "owner": owner, "due_date": due.isoformat()}],
            actor=ADMIN,
        )
        session.flush()
        record(
            session,
            reminders.assignment_effects(
                [(c.item.id, c.created, c.previous_owner) for c in changes]
            ),
        )
        return changes[0].item.id


def item(rt: Runtime, item_id: int) -> ActionItem:
    with rt.sessions() as session:
        found = session.get(ActionItem, item_id)
        session.expunge(found)
        return found


def post_hook(bot, name: str, signed: tuple[bytes, dict[str, str]]) -> tuple[int, dict]:
    body, headers = signed
    url = bot.url.removesuffix("/slack/events") + f"/hooks/trackers/{name}"
    request = urllib.request.Request(  # noqa: S310 - 127.0.0.1
        url,
        data=body,
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - 127.0.0.1
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def new_task(fake: FakeTracker, bot, slack: FakeSlack) -> tuple[int, dict]:
    """Assign an item to Bob; the bot files it and DMs Bob. Returns the item and its task."""
    review_id = start_review(bot.rt)
    bot.settle()
    if fake.name == "github":
        map_github_login(bot.rt, BOB, "bob-gh")
    item_id = assign(bot.rt, review_id)
    bot.rt.delivery_due.set()
    bot.settle()
    slack.wait_for(lambda: fake.count() == 1)
    return item_id, fake.only_task()


@pytest.fixture
def tracker(request: pytest.FixtureRequest) -> FakeTracker:
    server = FAKES[request.param]().start()
    yield server
    server.stop()


ALL = pytest.mark.parametrize("tracker", sorted(FAKES), indirect=True)


@ALL
def test_an_assigned_item_becomes_one_task_with_its_owner_and_due_date(
    tracker: FakeTracker, slack: FakeSlack, engine: Engine, bot_with
) -> None:
    bot = bot_with(slack, engine, **tracker.env())
    item_id, task = new_task(tracker, bot, slack)

    assert tracker.assignees(task) == ["bob@example.com"]
    assert tracker.due_of(task) == DUE
    # The owner's DM links the task (the DM may go out before or after the task exists).
    with bot.rt.sessions() as session:
        reference = tracker_store.task_link(session, item_id)
    assert reference is not None
    slack.wait_for(lambda: reference.url in str(slack.dms(BOB)[0]["blocks"]))
    assert reference.label in str(slack.dms(BOB)[0]["blocks"])
    # and so does the review's status message
    slack.wait_for(lambda: reference.url in json.dumps(slack.messages(CHANNEL)[0]["blocks"]))
    # The description says where it comes from, with the marker that finds it again.
    assert "[postmortem-bot item " in json.dumps(task)
    assert "Black Friday email" in json.dumps(task)
    # Assigning another owner later creates no second task.
    with transaction(bot.rt.sessions) as session:
        record(session, reminders.assignment_effects([(item_id, False, BOB)]))
    bot.settle()
    assert tracker.count() == 1


@ALL
def test_closing_the_task_in_the_tracker_marks_the_item_done(
    tracker: FakeTracker, slack: FakeSlack, engine: Engine, bot_with
) -> None:
    bot = bot_with(slack, engine, **tracker.env())
    item_id, task = new_task(tracker, bot, slack)
    assert item(bot.rt, item_id).next_nudge_at is not None

    status, reply = post_hook(bot, tracker.name, tracker.close_by_hand(tracker.external_id(task)))

    assert (status, reply["applied"]) == (200, 1)
    done = item(bot.rt, item_id)
    assert (done.status, done.next_nudge_at) == ("done", None)  # its nudges stop
    bot.settle()
    slack.wait_for(lambda: "Done. Thank you!" in str(slack.dms(BOB)[0]["blocks"]))
    assert "(closed)" in str(slack.dms(BOB)[0]["blocks"])
    with bot.rt.sessions() as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "action_item.updated")
        ).all()
    assert [(a.actor, a.detail.get("status")) for a in audit] == [(tracker.name, "done")]
    # The same delivery again (trackers retry) changes nothing more, and nothing is closed twice.
    status, reply = post_hook(bot, tracker.name, tracker.close_by_hand(tracker.external_id(task)))
    assert (status, reply["applied"]) == (200, 0)
    bot.settle()
    writes = [
        c
        for c in tracker.calls
        if c.method in ("PUT", "PATCH")
        or (c.method == "POST" and "transitions" in c.path)
        or "issueUpdate" in json.dumps(c.body)
    ]
    assert writes == []


@ALL
def test_a_wrongly_signed_webhook_changes_nothing(
    tracker: FakeTracker, slack: FakeSlack, engine: Engine, bot_with
) -> None:
    bot = bot_with(slack, engine, **tracker.env())
    item_id, task = new_task(tracker, bot, slack)
    body, headers = tracker.close_by_hand(tracker.external_id(task))
    forged = {k: (v[:-4] + "0000" if "ignature" in k else v) for k, v in headers.items()}

    assert post_hook(bot, tracker.name, (body, forged))[0] == 401
    assert post_hook(bot, tracker.name, (body, {"Content-Type": "application/json"}))[0] == 401
    other = "jira" if tracker.name != "jira" else "github"
    assert post_hook(bot, other, (body, headers))[0] == 404  # not the configured tracker
    assert item(bot.rt, item_id).status == "open"


@ALL
def test_mark_done_in_slack_closes_the_task(
    tracker: FakeTracker, slack: FakeSlack, engine: Engine, bot_with
) -> None:
    bot = bot_with(slack, engine, **tracker.env())
    item_id, task = new_task(tracker, bot, slack)
    dm = slack.dms(BOB)[0]

    reply = slack.click(
        BOB,
        "item_done",
        str(item_id),
        channel_id=slack.workspace.dm_for(BOB)["id"],
        message_ts=dm["ts"],
    )

    assert reply.status == 200
    bot.settle()
    slack.wait_for(lambda: tracker.is_closed(tracker.only_task()))
    bot.settle()
    assert tracker.count() == 1
    with bot.rt.sessions() as session:
        assert tracker_store.for_item(session, item_id).status == tracker_store.CLOSED


@pytest.mark.parametrize("tracker", ["clickup", "jira", "linear"], indirect=True)
def test_a_due_date_moved_in_the_tracker_moves_the_nudges(
    tracker: FakeTracker, slack: FakeSlack, engine: Engine, bot_with
) -> None:
    bot = bot_with(slack, engine, **tracker.env())
    item_id, task = new_task(tracker, bot, slack)
    before = item(bot.rt, item_id).next_nudge_at

    moved = DUE + timedelta(days=14)
    status, reply = post_hook(
        bot, tracker.name, tracker.move_due_by_hand(tracker.external_id(task), moved)
    )

    assert (status, reply["applied"]) == (200, 1)
    after = item(bot.rt, item_id)
    assert after.due_date == moved
    assert after.next_nudge_at is not None and after.next_nudge_at > before
    bot.settle()
    slack.wait_for(lambda: "Due: Fri 18 Dec" in str(slack.dms(BOB)[0]["blocks"]))


# --- a tracker that is down, rate-limited, or loses its answer -----------------------------


def _pending(rt: Runtime, kind: str) -> list[Effect]:
    with rt.sessions() as session:
        return list(
            session.scalars(select(Effect).where(Effect.kind == kind, Effect.status == PENDING))
        )


@ALL
def test_503_429_and_a_lost_answer_still_end_with_exactly_one_task(
    tracker: FakeTracker, slack: FakeSlack, engine: Engine
) -> None:
    """Driven by hand with fixed clocks: no delivery thread, every pass chosen by the test."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            **tracker.env(),
        }
    )
    rt = build_runtime(settings, engine)
    handlers = effect_handlers()
    t0 = utcnow() + timedelta(minutes=1)
    review_id = start_review(rt)
    deliver_due(rt, handlers, t0)
    if tracker.name == "github":
        map_github_login(rt, BOB, "bob-gh")
    tracker.fail(503, times=2, **tracker.CREATE)
    assign(rt, review_id)

    # The DM goes out at once; the task waits for the tracker.
    deliver_due(rt, handlers, t0)
    assert [m["text"] for m in slack.dms(BOB)] == [
        "New action item for you: Fix the promo code check (due Fri 4 Dec)"
    ]
    deliver_due(rt, handlers, t0 + timedelta(seconds=10))
    assert tracker.count() == 0 and len(_pending(rt, "trackers.create")) == 1

    # Rate-limited: the next try waits as long as the tracker asked, not the usual backoff.
    tracker.rate_limit(times=1, wait=600)
    t1 = t0 + timedelta(minutes=2)
    deliver_due(rt, handlers, t1)
    [waiting] = _pending(rt, "trackers.create")
    assert waiting.due_at - t1 >= timedelta(seconds=550)
    assert "asked us to wait" in (waiting.last_error or "")
    creates = len(tracker.requests(tracker.CREATE["method"]))
    deliver_due(rt, handlers, t1 + timedelta(minutes=5))  # still inside the wait: no call
    assert len(tracker.requests(tracker.CREATE["method"])) == creates

    # The tracker creates the task but the answer is lost: the next try finds it by its marker.
    tracker.drop_answer(times=1, **tracker.CREATE)
    deliver_due(rt, handlers, t1 + timedelta(minutes=11))
    assert tracker.count() == 1
    assert len(_pending(rt, "trackers.create")) == 1  # we do not know it yet
    deliver_due(rt, handlers, t1 + timedelta(minutes=20))

    assert tracker.count() == 1
    assert _pending(rt, "trackers.create") == []
    with rt.sessions() as session:
        row = session.scalars(select(tracker_store.TrackerTask)).one()
        assert row.external_id == tracker.external_id(tracker.only_task())
        assert row.attempts == 5  # 503, 503, 429, lost answer, found
    statuses = [c.status for c in tracker.requests() if c.status >= 400]
    assert (
        statuses.count(503) == 2
        and (statuses.count(429) + statuses.count(403) + statuses.count(400)) == 1
    )
    assert tracker.assignees(tracker.only_task()) == ["bob@example.com"]


@ALL
def test_the_reconcile_files_missing_tasks_and_reads_closed_ones_back(
    tracker: FakeTracker,
    slack: FakeSlack,
    engine: Engine,
    bot_with,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`postmortem-bot trackers sync`: the fallback when webhooks cannot reach the bot."""
    plain = bot_with(slack, engine)  # no tracker yet: items stay in Slack only
    review_id = start_review(plain.rt)
    item_id = assign(plain.rt, review_id)
    plain.settle()
    assert tracker.count() == 0
    if tracker.name == "github":
        map_github_login(plain.rt, BOB, "bob-gh")
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        **tracker.env(),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    first = CliRunner().invoke(main, ["trackers", "sync"])
    assert first.output.strip() == "created 1, updated 0, failed 0", first.output
    assert tracker.count() == 1
    tracker.close_by_hand(tracker.external_id(tracker.only_task()))  # no webhook arrives

    second = CliRunner().invoke(main, ["trackers", "sync"])
    assert second.output.strip() == "created 0, updated 1, failed 0", second.output
    assert item(plain.rt, item_id).status == "done"
    with plain.rt.sessions() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Effect)
                .where(Effect.kind == "trackers.create", Effect.status == "failed")
            )
            == 0
        )


# --- "Create task" on an item that has none ---------------------------------------------------


def _card_buttons(slack: FakeSlack, user: str) -> list[str]:
    card = slack.dms(user)[0]
    return [
        e.get("action_id", "")
        for b in card.get("blocks") or []
        if b.get("type") == "actions"
        for e in b.get("elements") or []
    ]


@ALL
def test_create_task_on_a_card_files_it_once_however_often_it_is_clicked(
    tracker: FakeTracker, slack: FakeSlack, engine: Engine, bot_with
) -> None:
    bot = bot_with(slack, engine, **tracker.env())
    review_id = start_review(bot.rt)
    bot.settle()
    if tracker.name == "github":
        map_github_login(bot.rt, BOB, "bob-gh")
    tracker.fail(401, times=1, **tracker.CREATE)  # refused for good: the effect gives up
    item_id = assign(bot.rt, review_id)
    bot.rt.delivery_due.set()
    bot.settle()
    slack.wait_for(lambda: bool(slack.dms(BOB)))
    assert tracker.count() == 0
    assert "tracker_create_task" in _card_buttons(slack, BOB)
    dm = slack.dms(BOB)[0]

    for _ in range(2):  # a double click
        reply = slack.click(
            BOB,
            "tracker_create_task",
            str(item_id),
            channel_id=slack.workspace.dm_for(BOB)["id"],
            message_ts=dm["ts"],
        )
        assert reply.status == 200
    bot.settle()
    slack.wait_for(lambda: tracker.count() == 1)
    bot.settle()

    assert tracker.count() == 1
    assert tracker.assignees(tracker.only_task()) == ["bob@example.com"]
    with bot.rt.sessions() as session:
        link = tracker_store.task_link(session, item_id)
    assert link is not None
    slack.wait_for(lambda: link.url in str(slack.dms(BOB)[0]["blocks"]))
    assert "tracker_create_task" not in _card_buttons(slack, BOB)  # it has a task now


def test_create_task_without_a_tracker_records_nothing_and_says_why(
    slack: FakeSlack, engine: Engine, bot_with
) -> None:
    bot = bot_with(slack, engine)
    review_id = start_review(bot.rt)
    item_id = assign(bot.rt, review_id)
    bot.settle()
    assert "tracker_create_task" not in _card_buttons(slack, BOB)

    text = request_task(bot.rt, item_id, BOB)

    assert "No tracker is set up" in text and "/postmortem tracker" in text
    assert _pending(bot.rt, "trackers.create") == []


# --- reassigning an item gives its task to the new owner ---------------------------------------

ALICE = "U0ALICE"


def _dms_saying(slack: FakeSlack, user: str, words: str) -> list[str]:
    return [m["text"] for m in slack.dms(user) if words in (m.get("text") or "")]


@ALL
def test_reassigning_an_item_reassigns_its_task_or_says_once_why_it_cannot(
    tracker: FakeTracker, slack: FakeSlack, engine: Engine, bot_with
) -> None:
    bot = bot_with(slack, engine, **tracker.env())
    item_id, task = new_task(tracker, bot, slack)
    assert tracker.assignees(task) == ["bob@example.com"]
    if tracker.name == "github":
        map_github_login(bot.rt, ALICE, "alice-gh")

    refused, previous, _ = reminders.reassign(bot.rt, item_id, ALICE, ADMIN)
    assert (refused, previous) == (None, BOB)
    bot.rt.delivery_due.set()
    bot.settle()
    slack.wait_for(lambda: tracker.assignees(tracker.only_task()) == ["alice@example.com"])

    # Carol has no account in the tracker: the task is left unassigned and she is told, once.
    reminders.reassign(bot.rt, item_id, ADMIN, ADMIN)
    bot.rt.delivery_due.set()
    bot.settle()
    slack.wait_for(lambda: bool(_dms_saying(slack, ADMIN, "is unassigned in")))
    bot.settle()
    assert tracker.assignees(tracker.only_task()) == []
    [notice] = _dms_saying(slack, ADMIN, "is unassigned in")
    assert "Fix the promo code check" in notice
    assert tracker.count() == 1


# --- GitHub: closed as "not planned" is not done ---------------------------------------------


@pytest.mark.parametrize("tracker", ["github"], indirect=True)
@pytest.mark.parametrize("by", ["webhook", "reconcile"])
def test_an_issue_closed_as_not_planned_cancels_the_item_and_tells_its_owner(
    tracker: FakeTracker, slack: FakeSlack, engine: Engine, bot_with, by: str
) -> None:
    bot = bot_with(slack, engine, **tracker.env())
    item_id, task = new_task(tracker, bot, slack)

    signed = tracker.close_by_hand(tracker.external_id(task), reason="not_planned")  # type: ignore[call-arg]
    if by == "webhook":
        assert post_hook(bot, "github", signed)[1]["applied"] == 1
    else:
        assert sync(bot.rt).updated == 1

    cancelled = item(bot.rt, item_id)
    assert (cancelled.status, cancelled.next_nudge_at) == ("cancelled", None)  # not "done"
    assert "not planned" in (cancelled.status_note or "")
    bot.settle()
    slack.wait_for(lambda: bool(_dms_saying(slack, BOB, "closed as *not planned*")))
    bot.settle()
    [told] = _dms_saying(slack, BOB, "closed as *not planned*")
    assert "Fix the promo code check" in told and "no more reminders" in told
    # the issue is left as GitHub has it: nothing closes it "as completed" afterwards
    assert tracker.only_task()["state_reason"] == "not_planned"
    assert not [c for c in tracker.calls if c.method == "PATCH"]

"""kill -9 of a real `serve` (gunicorn) in the middle of work: nothing it promised is lost.

Before the outbox (issue 13), a kill during a burst of 60 low-CES webhooks, then a redelivery of
all of them, left 3 (SQLite) and 1 (PostgreSQL) reviews committed with no status message and no
Start DM (the redelivery answered `created: false` and posted nothing); a kill during stage
submissions left a saved stage's status message stale. Here the same kills, on both databases.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from helpers import processes
from helpers.delivered import Received, failed_effects, status_problem, wait_for_drain
from helpers.slack_walk import submit_start_form
from helpers.ticket_hooks import TOKEN, event
from sqlalchemy import Engine, select

from bot.reviews.service import workflow_of
from bot.reviews.views.stage_modal import ModalMeta, entered_values, stage_view
from bot.tickets.service import TICKET_DM_EVENT
from sandbox.fake_slack import FakeSlack
from storage.db import session_factory
from storage.models import Review
from workflows.samples import sample_answers

NO_ANSWER = (OSError, http.client.HTTPException)  # killed mid-request, or not listening yet


@pytest.fixture
def served(slack: FakeSlack, engine: Engine, tmp_path: Path) -> Iterator[processes.BotProcess]:
    url = engine.url.render_as_string(hide_password=False)
    env = processes.bot_env(slack, url, POSTMORTEM_WEBHOOK_TOKEN=TOKEN)
    bot = processes.serve("serve", env, tmp_path).start().wait_ready()
    slack.request_url = f"{bot.url}/slack/events"
    yield bot
    bot.stop()


def _hook(bot: processes.BotProcess, body: dict[str, Any]) -> int | None:
    request = urllib.request.Request(  # noqa: S310 - a local URL
        f"{bot.url}/hooks/tickets",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except NO_ANSWER:
        return None


def _restart(bot: processes.BotProcess) -> None:
    bot.kill()
    bot.start().wait_ready()


def test_kill_9_during_a_burst_of_60_webhooks_loses_no_status_message_or_start_dm(
    slack: FakeSlack, served: processes.BotProcess, engine: Engine
) -> None:
    slack.delay = 0.05  # Slack takes a moment to answer: the kill finds deliveries in flight
    bodies = [
        event(
            ticket_id=f"K-{n:02d}",
            subject=f"Parcel {n} lost",
            ces_score=2,
            url=f"https://help.example.com/t/{n}",
        )
        for n in range(60)
    ]
    answered: list[int | None] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        burst = [pool.submit(lambda b=b: answered.append(_hook(served, b))) for b in bodies]
        while len(answered) < 20:
            time.sleep(0.01)
        served.kill()  # mid-burst: some events committed, some not, some answered
        for future in burst:
            future.result()
    assert None in answered  # the kill did land in the middle of the burst
    served.start().wait_ready()
    with ThreadPoolExecutor(max_workers=8) as pool:  # the helpdesk redelivers all of them
        again = list(pool.map(lambda b: _hook(served, b), bodies))
    assert again == [200] * 60
    wait_for_drain(engine, 90)

    received = Received(slack)
    assert received.duplicates() == {}
    with session_factory(engine)() as session:
        assert failed_effects(session) == []
        reviews = list(session.scalars(select(Review)))
        assert sorted(r.trigger_ref for r in reviews) == [f"ticket:K-{n:02d}" for n in range(60)]
        for review in reviews:
            assert status_problem(session, review, received) is None
            starts = received.found(TICKET_DM_EVENT, kind="start", review_id=review.id)
            assert len(starts) == 1, f"review {review.id}: {len(starts)} Start DMs"


def _current_stage(engine: Engine, review_id: int) -> str | None:
    with session_factory(engine)() as session:
        return session.get(Review, review_id).current_stage


def _walk(slack: FakeSlack, engine: Engine, review_id: int, user: str) -> None:
    """Submit every stage of the review as `user` would, again when the bot did not answer."""
    for _ in range(60):
        with session_factory(engine)() as session:
            review = session.get(Review, review_id)
            if review.current_stage is None:
                return
            stage = workflow_of(review).stage(review.current_stage)
            title = review.title
        sample = sample_answers(
            stage,
            action_items=[
                {"title": f"Fix it ({review_id})", "owner": "U0BOB", "due_date": "2026-12-18"}
            ],
        )
        meta = ModalMeta(review_id, stage.key)
        # The form as drawn for these answers (fields that apply shown, rows added).
        view = slack.open_modal(user, stage_view(stage, title=title, meta=meta, values=sample))
        answers = entered_values(stage, sample, ModalMeta.loads(view["private_metadata"]))
        try:
            reply = slack.submit(user, view["id"], answers)
        except NO_ANSWER:  # killed: was it saved? the next round looks at the review again
            time.sleep(0.2)
            continue
        if reply.status == 200 and not reply.body and not reply.timed_out:
            assert _current_stage(engine, review_id) != stage.key  # acknowledged: saved
    raise AssertionError(f"review {review_id} not walked through in 60 submissions")


def test_kill_9_during_stage_submissions_leaves_no_stale_status_message(
    slack: FakeSlack, served: processes.BotProcess, engine: Engine
) -> None:
    people = [f"U0K{n}" for n in range(6)]
    for user in people:
        slack.add_user(user, user.lower())
    for n in range(6):
        submit_start_form(slack, f"Launch {n}")
    wait_for_drain(engine, 30)
    with session_factory(engine)() as session:
        review_ids = list(session.scalars(select(Review.id).order_by(Review.id)))
    slack.set_delay("chat.update", 0.3)  # status refreshes in flight when the kill lands
    walkers = [
        threading.Thread(target=_walk, args=(slack, engine, r, user))  # one modal each
        for r, user in zip(review_ids, people, strict=True)
    ]
    for walker in walkers:
        walker.start()
    time.sleep(1.5)  # some stages saved, their refreshes in flight or waiting
    _restart(served)
    for walker in walkers:
        walker.join(120)
    wait_for_drain(engine, 90)

    received = Received(slack)
    assert received.duplicates() == {}
    with session_factory(engine)() as session:
        assert failed_effects(session) == []
        for review in session.scalars(select(Review)):
            assert review.current_stage is None  # every stage saved, once
            assert status_problem(session, review, received) is None

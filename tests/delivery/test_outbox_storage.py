"""The outbox queue on SQLite and PostgreSQL: claims, leases, groups, failures."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.delivery.service import record
from bot.features import SideEffect
from storage import outbox
from storage.db import session_factory, team_session_factory, transaction

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)


def _claim(engine: Engine, now: datetime = NOW, limit: int = 20) -> list[outbox.Claimed]:
    with transaction(session_factory(engine)) as session:
        return outbox.claim_due(session, now, limit=limit)


def test_a_claimed_effect_is_not_claimed_again_until_its_lease_passes(
    engine: Engine, session: Session
) -> None:
    with session.begin():
        outbox.enqueue(session, "reviews.status", {"review_id": 1}, now=NOW)
    [first] = _claim(engine)
    assert (first.kind, first.payload, first.attempt) == ("reviews.status", {"review_id": 1}, 1)
    assert _claim(engine, NOW + timedelta(seconds=20)) == []  # a worker holds it
    # That worker was killed: another takes the effect within a minute, not after five (the
    # chaos test found a killed worker's effects, and every later effect of their reviews,
    # held for the old five-minute lease).
    [again] = _claim(engine, NOW + timedelta(minutes=1))
    assert (again.id, again.attempt) == (first.id, 2)


def test_a_renewed_claim_stays_held_and_a_lost_one_is_not_taken_back(
    engine: Engine, session: Session
) -> None:
    with session.begin():
        outbox.enqueue(session, "reviews.status", {"review_id": 1}, now=NOW)
    [first] = _claim(engine)
    later = NOW + outbox.LEASE * 3
    with transaction(session_factory(engine)) as s:
        outbox.renew(s, [first], later + outbox.LEASE)  # its handler is still running
    assert _claim(engine, later) == []
    [second] = _claim(engine, later + outbox.LEASE * 2)  # renewals stopped: the worker died
    with transaction(session_factory(engine)) as s:
        outbox.renew(s, [first], later + outbox.LEASE * 10)  # the first claim is stale now
    [third] = _claim(engine, later + outbox.LEASE * 4)
    assert (second.attempt, third.attempt) == (2, 3)


def test_a_group_is_delivered_in_order_and_waits_for_a_retrying_head(
    engine: Engine, session: Session
) -> None:
    with session.begin():
        head = outbox.enqueue(session, "reviews.status", {"n": 1}, group="review:1", now=NOW)
        outbox.enqueue(session, "knowledge.report", {"n": 2}, group="review:1", now=NOW)
        outbox.enqueue(session, "action_items.assigned", {"n": 3}, now=NOW)
    claimed = _claim(engine)
    assert [c.payload["n"] for c in claimed] == [1, 3]  # 2 waits for 1
    with transaction(session_factory(engine)) as s:
        outbox.retry_at(s, head.id, NOW + timedelta(seconds=5), "Slack: internal_error")
    assert _claim(engine, NOW + timedelta(seconds=1)) == []  # still waiting on the head
    [retried] = _claim(engine, NOW + timedelta(seconds=6))
    assert retried.payload == {"n": 1} and retried.attempt == 2
    with transaction(session_factory(engine)) as s:
        outbox.finish(s, retried.id)
    assert [c.payload["n"] for c in _claim(engine, NOW + timedelta(seconds=7))] == [2]


def test_failed_effects_are_counted_listed_and_retried(engine: Engine, session: Session) -> None:
    with session.begin():
        a = outbox.enqueue(session, "a", {}, now=NOW)
        outbox.enqueue(session, "b", {}, now=NOW)
    _claim(engine)
    with transaction(session_factory(engine)) as s:
        outbox.fail(s, a.id, "Slack: channel_not_found")
    with transaction(session_factory(engine)) as s:
        backlog = outbox.backlog(s)
        assert (backlog.pending, backlog.retrying, backlog.failed) == (0, 1, 1)
        [failed] = outbox.unfinished(s, failed_only=True)
        assert (failed.kind, failed.last_error) == ("a", "Slack: channel_not_found")
        assert outbox.retry_failed(s) == 1
    [again] = [c for c in _claim(engine, NOW + timedelta(hours=1)) if c.kind == "a"]
    assert again.attempt == 1


def test_two_workers_claiming_at_once_never_take_the_same_effect(
    engine: Engine, session: Session
) -> None:
    with session.begin():
        for n in range(60):
            outbox.enqueue(session, "k", {"n": n}, now=NOW)
    taken: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def work(slot: int) -> None:
        barrier.wait()
        while claimed := _claim(engine, limit=7):
            taken[slot] += [c.payload["n"] for c in claimed]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(taken[0] + taken[1]) == list(range(60))


def test_effects_recorded_together_keep_their_order_groups_and_workspace(engine: Engine) -> None:
    """`record` writes a change's effects in one statement: mixed with and without a group,
    they are still delivered in the order given (a group's head first) and carry the team of a
    workspace's session, so the worker uses that workspace's token."""
    effects = [
        SideEffect("reviews.status", {"n": 1}, group="review:1"),
        SideEffect("surveys.open", {"n": 2}),
        SideEffect("knowledge.report", {"n": 3}, group="review:1"),
        SideEffect("people.stage_saved", {"n": 4}, group="review:1"),
    ]
    with transaction(team_session_factory(engine, "T0ONE")) as session:
        assert record(session, effects) == 4
    first = _claim(engine)
    # The group's later effects wait for its head; the ungrouped one goes at once.
    assert [(c.kind, c.payload, c.team_id) for c in first] == [
        ("reviews.status", {"n": 1}, "T0ONE"),
        ("surveys.open", {"n": 2}, "T0ONE"),
    ]
    with transaction(session_factory(engine)) as session:
        for claimed in first:
            outbox.finish(session, claimed.id)
    assert [c.kind for c in _claim(engine)] == ["knowledge.report"]

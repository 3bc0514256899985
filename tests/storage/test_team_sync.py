"""Team sync items and votes on SQLite and PostgreSQL: one vote per person per item, even when
two clicks race each other."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from storage import team_sync
from storage.db import session_factory
from tests.storage.test_reviews import start


def test_items_come_back_with_their_vote_counts(session: Session) -> None:
    review = start(session)
    first = team_sync.add_item(session, review.id, "team_sync", "went_well", "Copy", "U2")
    second = team_sync.add_item(session, review.id, "team_sync", "ideas", "SMS", "U3")
    other_stage = team_sync.add_item(session, review.id, "lessons", "ideas", "x", "U3")
    assert team_sync.vote(session, second.id, "U2")
    assert team_sync.vote(session, second.id, "U3")
    assert team_sync.vote(session, other_stage.id, "U2")
    session.commit()
    found = [(i.text, n) for i, n in team_sync.items(session, review.id, "team_sync")]
    assert found == [("Copy", 0), ("SMS", 2)]
    assert first.id != second.id


def test_one_vote_per_person_per_item(session: Session) -> None:
    review = start(session)
    item = team_sync.add_item(session, review.id, "team_sync", "went_well", "Copy", "U2")
    assert team_sync.vote(session, item.id, "U2") is True
    assert team_sync.vote(session, item.id, "U2") is False  # "already voted"
    assert team_sync.vote(session, item.id, "U3") is True
    session.commit()
    assert team_sync.vote_count(session, item.id) == 2


def test_a_double_click_racing_itself_counts_once(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions() as session:
        review = start(session)
        item_id = team_sync.add_item(session, review.id, "team_sync", "ideas", "SMS", "U2").id
        session.commit()
    together = threading.Barrier(2)
    outcomes: list[bool] = []
    errors: list[BaseException] = []

    def click() -> None:
        try:
            with sessions() as session:
                together.wait(timeout=5)
                outcomes.append(team_sync.vote(session, item_id, "U7"))
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert sorted(outcomes) == [False, True]  # one counted, one told it already counts
    with sessions() as session:
        votes = session.scalar(
            select(func.count())
            .select_from(team_sync.SyncVote)
            .where(team_sync.SyncVote.item_id == item_id)
        )
    assert votes == 1

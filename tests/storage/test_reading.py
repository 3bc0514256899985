"""`reading`: a unit of work that only reads. On SQLite it does not queue for the write turn
every `transaction` takes at its start, so a background render (the delivery worker's status
message) no longer holds up the acks of forms submitted meanwhile; it cannot write either."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, select

from storage.db import ReadOnlySession, reading, session_factory, transaction
from storage.models import Workspace


def test_a_read_goes_ahead_while_a_writer_holds_its_transaction(engine: Engine) -> None:
    sessions = session_factory(engine)
    writing, finish = threading.Event(), threading.Event()

    def write() -> None:
        with transaction(sessions) as session:
            session.add(Workspace(team_id="T0WRITER", name="Writer"))
            session.flush()
            writing.set()
            finish.wait(10)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    assert writing.wait(10)
    seen: list[int] = []

    def read() -> None:
        with reading(sessions) as session:
            seen.append(session.scalar(select(func.count(Workspace.id))) or 0)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(3)
    still_writing = not finish.is_set()
    finish.set()
    writer.join(10)
    assert not reader.is_alive(), "the read waited for the writer's transaction to end"
    assert still_writing and seen == [0]  # the snapshot from before the writer's commit
    with reading(sessions) as session:
        assert session.scalar(select(func.count(Workspace.id))) == 1


def test_a_change_inside_reading_is_refused_and_nothing_is_written(engine: Engine) -> None:
    sessions = session_factory(engine)
    with pytest.raises(ReadOnlySession), reading(sessions) as session:
        session.add(Workspace(team_id="T0SNEAKY", name="Sneaky"))
        session.flush()
    with reading(sessions) as session:
        assert session.scalar(select(func.count(Workspace.id))) == 0
    with transaction(sessions) as session:  # and the session's write turn was not taken
        session.add(Workspace(team_id="T0WRITER", name="Writer"))
    with reading(sessions) as session:
        assert session.scalar(select(func.count(Workspace.id))) == 1

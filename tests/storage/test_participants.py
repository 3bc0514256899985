"""Participants and stakeholders are rows on the review: added once, invited once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage import participants
from tests.storage.test_reviews import start


def test_people_are_added_once_and_in_order(session: Session) -> None:
    review = start(session)
    added = participants.add(session, review.id, ["U2", "U3", "U2"], "participant", "U1")
    assert added == ["U2", "U3"]
    assert participants.add(session, review.id, ["U3", "U4"], "participant", "U1") == ["U4"]
    session.commit()
    assert participants.user_ids(session, review.id) == ["U2", "U3", "U4"]


def test_a_stakeholder_who_is_added_as_a_participant_takes_part(session: Session) -> None:
    review = start(session)
    participants.add(session, review.id, ["U5"], "stakeholder", "U1")
    participants.add(session, review.id, ["U5"], "participant", "U1")
    session.commit()
    assert participants.user_ids(session, review.id, "participant") == ["U5"]
    assert participants.user_ids(session, review.id, "stakeholder") == []


def test_each_participant_is_invited_exactly_once(session: Session) -> None:
    review = start(session)
    participants.add(session, review.id, ["U2", "U3"], "participant", "U1")
    assert participants.mark_invited(session, review.id, ["U2", "U3"]) == ["U2", "U3"]
    participants.add(session, review.id, ["U4"], "participant", "U1")
    assert participants.mark_invited(session, review.id, ["U2", "U3", "U4"]) == ["U4"]
    assert participants.remove(session, review.id, "U3")
    assert not participants.is_on(session, review.id, "U3")
    assert participants.is_on(session, review.id, "U4", "participant")

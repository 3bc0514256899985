"""Stage assignments (one per review and stage) and the claims of one-off notices."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage import assignments
from storage.types import utcnow
from tests.storage.test_reviews import start


def test_handing_a_stage_on_replaces_its_assignee_and_restarts_the_wait(session: Session) -> None:
    review = start(session)
    first = assignments.assign(session, review.id, review.current_stage, "U2", "U1")
    first.waiting_since = utcnow()
    session.commit()
    assert [(a.user_id, r.id) for a, r in assignments.waiting(session)] == [("U2", review.id)]
    again = assignments.assign(session, review.id, review.current_stage, "U3", "U1")
    session.commit()
    assert again.id == first.id and again.waiting_since is None
    assert assignments.assignee(session, review.id, review.current_stage) == "U3"
    assert assignments.waiting(session) == []  # not told yet: nothing to nudge


def test_a_notice_is_claimed_once(session: Session) -> None:
    review = start(session)
    assert assignments.claim_notice(session, review.id, "U2", "lessons", "lessons_learned")
    assert not assignments.claim_notice(session, review.id, "U2", "lessons", "lessons_learned")
    assert assignments.claim_notice(session, review.id, "U3", "lessons", "lessons_learned")

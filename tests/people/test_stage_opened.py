"""The stage a save opens is handed to its assignee once. Each save's `people.stage_saved`
effect opens the stage then current; one delivered late, after a later save had moved the
review on, opened the later stage too, with its own older time, and the assignee got the
"Start" DM twice (tests/e2e/test_people.py failed one run in five)."""

from __future__ import annotations

from datetime import timedelta

from helpers.slack_unit import ALICE, BOB, seed_review, submit_current
from sqlalchemy import select

from bot.people import service
from bot.runtime import Runtime
from storage import reviews as store
from storage.db import transaction
from storage.outbox import Claimed, Effect
from storage.types import utcnow


def stage_saved(review_id: int, stage: str, minutes_ago: int) -> Claimed:
    at = (utcnow() - timedelta(minutes=minutes_ago)).isoformat()
    payload = {"review_id": review_id, "stage": stage, "at": at, "by": ALICE}
    return Claimed(1, "people.stage_saved", payload, 1)


def assigned_dms(rt: Runtime) -> list[dict]:
    with transaction(rt.sessions) as session:
        rows = session.scalars(select(Effect).where(Effect.kind == "people.assigned"))
        return [dict(r.payload) for r in rows]


def test_a_late_effect_of_an_earlier_save_does_not_tell_the_assignee_again(rt: Runtime) -> None:
    review_id = seed_review(rt, workflow="service_delivery")
    submit_current(rt, review_id, quality_reviewer=BOB)  # kickoff names Bob
    submit_current(rt, review_id)  # planning
    submit_current(rt, review_id)  # execution: quality review is open, and Bob's
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        assert review is not None and review.current_stage == "quality_review"

    service.deliver_stage_saved(rt, stage_saved(review_id, "planning", minutes_ago=2))  # late
    assert assigned_dms(rt) == []
    service.deliver_stage_saved(rt, stage_saved(review_id, "execution", minutes_ago=1))
    assert [(d["user"], d["stage"]) for d in assigned_dms(rt)] == [(BOB, "quality_review")]

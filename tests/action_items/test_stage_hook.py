"""The action items' stage hook (bot/action_items/service.py `after_stage`): the owners of items
a stage created or reassigned are told; a stage that assigned nobody costs no query."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from helpers.slack_unit import ALICE, seed_item, seed_review
from sqlalchemy.orm import Session

from bot.action_items import service
from bot.features import StageSaved
from bot.reviews.service import SubmitResult
from bot.runtime import Runtime
from storage.db import transaction


@pytest.mark.parametrize(
    "changes", [[], [(1, False, None)]], ids=["no-items", "items-kept-as-they-were"]
)
def test_a_stage_that_assigned_nobody_does_not_ask_whether_a_tracker_is_in_use(
    rt: Runtime, changes: list[tuple[int, bool, str | None]]
) -> None:
    session = MagicMock(spec=Session)  # any query (the review's workspace) would show here
    result = SubmitResult(item_changes=changes)
    saved = StageSaved(1, "report", ALICE, result, rt=rt, session=session)

    assert service.after_stage(saved) == []
    assert session.mock_calls == []


def test_a_new_item_still_tells_its_owner(rt: Runtime) -> None:
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id, dm=False)
    with transaction(rt.sessions) as session:
        saved = StageSaved(
            review_id,
            "action_items",
            ALICE,
            SubmitResult(item_changes=[(item_id, True, None)]),
            rt=rt,
            session=session,
        )
        kinds = [e.kind for e in service.after_stage(saved)]
    assert kinds == ["action_items.assigned"]  # no tracker in use: no tracker effect

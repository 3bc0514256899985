"""With no tracker in use, no tracker effect is recorded at all (not a no-op effect per item).

"In use" is the workspace's choice in Slack, else the environment's: the hooks are asked with the
runtime and the saving transaction, as the stage listener calls them.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

import pytest
from helpers.slack_unit import (
    ALICE,
    BOB,
    TEAM,
    make_runtime,
    seed_item,
    seed_review,
    view_submission,
)
from sqlalchemy import Engine, select

from bot.action_items import listeners as item_listeners
from bot.action_items import service as reminders
from bot.action_items import views as item_views
from bot.app import review_hooks
from bot.features import StageSaved
from bot.reviews.service import SubmitResult
from bot.runtime import Runtime
from bot.trackers import settings as tracker_settings
from bot.trackers.service import request_task
from storage import reviews as store
from storage.db import transaction
from storage.outbox import Effect

JIRA_ENV = {
    "POSTMORTEM_TRACKER": "jira",
    "JIRA_BASE_URL": "https://acme.atlassian.net",
    "JIRA_EMAIL": "bot@acme.com",
    "JIRA_API_TOKEN": "ATATT_SECRET",
    "JIRA_PROJECT_KEY": "PM",
}


def choose(rt: Runtime, tracker: str) -> None:
    """What an admin's Save in `/postmortem tracker` stores."""
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, TEAM)
        tracker_settings.save(
            session,
            ws,
            tracker_settings.Form(tracker, "PM", "https://acme.atlassian.net", "a@acme.com")
            if tracker != "none"
            else tracker_settings.Form("none"),
        )


def stage_effects(rt: Runtime, review_id: int, item_id: int) -> list[str]:
    """The effects a saved stage that assigned an item and named a task records."""
    result = SubmitResult(answers={"related_task": "PM-12"}, item_changes=[(item_id, True, None)])
    with transaction(rt.sessions) as session:
        saved = StageSaved(review_id, "action_items", ALICE, result, rt=rt, session=session)
        return [e.kind for e in review_hooks().stage_saved(saved)]


def tracker_kinds(kinds: list[str]) -> list[str]:
    return sorted(k for k in kinds if k.startswith("trackers."))


@pytest.mark.parametrize(
    ("env", "chosen", "expected"),
    [
        ({}, None, []),
        ({}, "jira", ["trackers.create", "trackers.references"]),
        (JIRA_ENV, None, ["trackers.create", "trackers.references"]),
        (JIRA_ENV, "none", []),
    ],
    ids=["nothing", "chosen-in-slack", "from-env", "env-but-none-chosen"],
)
def test_a_saved_stage_records_tracker_effects_only_with_a_tracker_in_use(
    unit_engine: Engine, client: MagicMock, env: dict, chosen: str | None, expected: list
) -> None:
    rt = make_runtime(unit_engine, client, **env)
    review_id = seed_review(rt)
    item_id = seed_item(rt, review_id)
    if chosen:
        choose(rt, chosen)

    kinds = stage_effects(rt, review_id, item_id)

    assert "action_items.assigned" in kinds  # the owner is told either way
    assert tracker_kinds(kinds) == expected


def outbox(rt: Runtime) -> list[tuple[str, Any]]:
    with rt.sessions() as session:
        return [(e.kind, e.payload) for e in session.scalars(select(Effect).order_by(Effect.id))]


def test_reassigning_records_no_tracker_effect_without_a_tracker(
    unit_engine: Engine, client: MagicMock
) -> None:
    rt = make_runtime(unit_engine, client)
    item_id = seed_item(rt, seed_review(rt))

    assert reminders.reassign(rt, item_id, ALICE, ALICE)[0] is None

    assert [k for k, _ in outbox(rt) if k.startswith("trackers.")] == []


def test_reassigning_with_a_tracker_reassigns_its_task(
    unit_engine: Engine, client: MagicMock
) -> None:
    rt = make_runtime(unit_engine, client, **JIRA_ENV)
    item_id = seed_item(rt, seed_review(rt))

    reminders.reassign(rt, item_id, ALICE, ALICE)

    assert ("trackers.assign", {"item_id": item_id}) in outbox(rt)


@pytest.mark.parametrize(("env", "filed"), [({}, False), (JIRA_ENV, True)])
def test_an_item_added_from_the_status_message_is_filed_only_with_a_tracker(
    unit_engine: Engine, client: MagicMock, env: dict, filed: bool
) -> None:
    rt = make_runtime(unit_engine, client, **env)
    review_id = seed_review(rt)
    form = item_views.add_item_modal(review_id, "Refund took three weeks", ALICE)
    body, view = view_submission(
        form, {"title": "Call the courier", "owner": BOB, "due": "2026-12-04"}, user=ALICE
    )

    item_listeners.add_submitted(ack=MagicMock(), body=body, view=view, rt=rt)

    kinds = [k for k, _ in outbox(rt)]
    assert "action_items.assigned" in kinds
    assert ("trackers.create" in kinds) is filed


def test_create_task_is_for_the_owners_and_admins_and_queued_once(
    unit_engine: Engine, client: MagicMock
) -> None:
    rt = make_runtime(unit_engine, client, **JIRA_ENV)
    item_id = seed_item(rt, seed_review(rt))  # Bob's item in Alice's review

    refused = request_task(rt, item_id, "U0EVE")
    first = request_task(rt, item_id, BOB)
    second = request_task(rt, item_id, ALICE)

    assert refused.startswith("Only the item's owner, the review's owner or an admin")
    assert (
        first
        == second
        == ("Filing “Add a refund status page” in Jira: its link will appear on the item's card.")
    )
    assert [k for k, _ in outbox(rt)] == ["trackers.create"]

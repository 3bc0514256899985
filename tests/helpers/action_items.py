"""Action items through the fake Slack: shared by the end-to-end tests of cards and reminders."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.action_items import service as reminders
from bot.reviews import service
from bot.reviews.status import refresh_status
from sandbox.fake_slack import FakeSlack
from storage import reviews as store
from storage.db import transaction
from storage.models import ActionItem
from workflows.loader import Registry

ALICE, BOB, ADMIN, CHANNEL = "U0ALICE", "U0BOB", "U0ADMIN", "C0REVIEWS"
REGISTRY = Registry.load()
# Due Friday 4 Dec 2026. Alice is in Sydney (09:00 = 22:00 UTC the day before), Bob in Perth
# (09:00 = 01:00 UTC the same day).
DUE = "2026-12-04"
# When the items are assigned: pinned before every sweep the tests run, so the reminders they
# expect do not depend on the day the tests run (an item assigned "now" gets nothing earlier).
ASSIGNED = datetime(2026, 11, 30, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def make_items(bot, rows: list[dict], owner: str = ADMIN) -> list[int]:
    """A campaign review owned by `owner` whose action-items stage holds `rows`; the owners
    are told (their cards are posted)."""
    with transaction(bot.rt.sessions) as session:
        review = service.start_review(
            session,
            REGISTRY["campaign_postmortem"],
            team_id="T0TEST",
            title="Black Friday email",
            channel_id=CHANNEL,
            owner_id=owner,
            started_by=owner,
        )
        review_id = review.id
    refresh_status(bot.rt, review_id)
    with transaction(bot.rt.sessions) as session:
        review = store.get_review(session, review_id)
        changes = store.sync_action_items(
            session, review, stage_key="action_items", rows=rows, actor=owner
        )
        ids = [(c.item.id, c.created, c.previous_owner) for c in changes]
    reminders.notify_changes(bot.rt, ids)
    with transaction(bot.rt.sessions) as session:
        for item_id, _, _ in ids:
            item = session.get(ActionItem, item_id)
            item.assigned_at = ASSIGNED
            reminders.reschedule(bot.rt, item, item.review.workspace, now=ASSIGNED)
    return [i for i, _, _ in ids]


def dm_channel(slack: FakeSlack, user: str) -> str:
    return slack.workspace.dm_for(user)["id"]


def buttons(message: dict) -> list[str]:
    """The action ids of a message's or view's actions blocks, in order."""
    return [
        e.get("action_id")
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def status_of(bot, item_id: int) -> str:
    with transaction(bot.rt.sessions) as session:
        return session.get(ActionItem, item_id).status

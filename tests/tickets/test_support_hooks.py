"""What a support post-mortem's saved stages record for the support loop (bot/tickets/support.py).

The admins' "waiting on you" DM and the owner's decision DM are recorded only by the saves that can
call for them (the review now In Review or an admin's stage next; an admin's stage that closed the
review or sent it back), and those still reach their people; other stages record neither.
"""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import MagicMock

from helpers.slack_unit import ADMIN, ALICE, save_stage, seed_review

from bot.app import effect_handlers
from bot.delivery.service import deliver_due
from bot.runtime import Runtime
from storage.types import utcnow

WAITING, DECISION = "tickets.admins_waiting", "tickets.decision"


def deliver(rt: Runtime) -> None:
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(minutes=1))


def texts_to(client: MagicMock, user: str) -> list[str]:
    return [
        c.kwargs["text"]
        for c in client.chat_postMessage.call_args_list
        if c.kwargs.get("channel") == user
    ]


def at_one_on_one(rt: Runtime) -> int:
    """A support review through its owner's stages, up to the 1on1: nothing for the loop yet."""
    review_id = seed_review(rt)
    recorded: list[str] = []
    for _ in range(4):  # ticket details, analysis, report, action items
        recorded += save_stage(rt, review_id)
    assert [k for k in recorded if k.startswith("tickets.")] == []
    return review_id


def test_the_move_in_review_tells_the_admins_and_the_close_tells_the_owner(
    rt: Runtime, client: MagicMock
) -> None:
    review_id = at_one_on_one(rt)

    kinds = save_stage(rt, review_id)  # the 1on1: In Review, the admin's stage next
    assert WAITING in kinds and DECISION not in kinds
    deliver(rt)
    assert len(texts_to(client, ADMIN)) == 1  # the In Review DM

    kinds = save_stage(rt, review_id, user=ADMIN, review_outcome="close")
    assert DECISION in kinds and WAITING not in kinds  # closed: nobody waits any more
    deliver(rt)
    assert [t for t in texts_to(client, ALICE) if t.startswith("Closed:")] != []


def test_changes_requested_reach_the_owner(rt: Runtime, client: MagicMock) -> None:
    review_id = at_one_on_one(rt)
    save_stage(rt, review_id)

    kinds = save_stage(
        rt,
        review_id,
        user=ADMIN,
        review_outcome="changes_requested",
        review_comment="Dig deeper into the courier",
    )
    # Back at the owner's report, In Progress: the admins wait on nobody.
    assert DECISION in kinds and WAITING not in kinds
    deliver(rt)
    assert [t for t in texts_to(client, ALICE) if t.startswith("Changes requested")] != []

"""Posting a recorded consumer guarantees assessment in its review's thread (an outbox effect)."""

from __future__ import annotations

from bot.consumer_law import views
from bot.features import SideEffect, payload_int
from bot.reviews.status import status_group
from bot.runtime import Runtime
from bot.slack import posted
from storage import reviews as store
from storage.db import transaction
from storage.models import FollowUp
from storage.outbox import Claimed

RESULT_EFFECT = "consumer_law.result"
RESULT_EVENT = "postmortem_acl_result"


def result_effect(review_id: int, follow_up_id: int) -> SideEffect:
    """Post the assessment in the review's thread. In the status message's group: the reply
    needs the message to exist, so it follows any pending post of it."""
    return SideEffect(
        RESULT_EFFECT,
        {"review_id": review_id, "follow_up_id": follow_up_id},
        group=status_group(review_id),
    )


def deliver_result(rt: Runtime, effect: Claimed) -> None:
    """The assessment as recorded (its summary lines), posted once: the reply names the
    assessment in its metadata, and a retry looks for it in the thread first."""
    follow_up_id = payload_int(effect.payload, "follow_up_id")
    with transaction(rt.sessions) as session:
        row = session.get(FollowUp, follow_up_id)
        review = store.get_review(session, row.review_id) if row is not None else None
        if row is None or review is None:  # the review was deleted since
            return
        channel, ts, title = review.channel_id, review.message_ts, review.title
        lines = row.detail.splitlines()
    if not ts:
        raise RuntimeError("the review's message is not posted yet")  # retried, after it
    if effect.attempt > 1 and posted.find(
        rt.client, channel, RESULT_EVENT, thread_ts=ts, follow_up_id=follow_up_id
    ):
        return
    rt.client.chat_postMessage(
        channel=channel,
        thread_ts=ts,
        metadata=posted.metadata(RESULT_EVENT, follow_up_id=follow_up_id),
        **views.result_message(title, lines),
    )

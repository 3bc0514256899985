"""Systemic issues escalated for organisational change reach someone, once, and the review says
who.

A decision option with `follow_up: {kind: escalation}` ("Yes: escalate for organisational
change") records a follow-up; on its own that only waited for the next meeting's digest. After
the stage is saved, `escalate_new` posts each new one to POSTMORTEM_ESCALATION_CHANNEL with a
link to the review, or DMs the admins (POSTMORTEM_ADMINS, else Slack's admins) when no channel
is set or the bot cannot post there. Each is claimed (open → escalating) before it is sent, so a
retried hook or a second replica never tells anyone twice; who was told is in the audit trail,
which the status message reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.reviews.service import workflow_of
from bot.runtime import Runtime
from bot.slack.people import admin_ids
from bot.slack.text import clip, escape, link, mention
from storage import reviews as store
from storage.db import transaction
from storage.models import AuditEntry, FollowUp, Review, StageSubmission

log = logging.getLogger(__name__)

KIND = "escalation"
AUDIT = "review.escalated"


@dataclass(frozen=True)
class Told:
    channel: str | None = None
    users: tuple[str, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.channel or self.users)


def escalation_message(
    *, title: str, permalink: str | None, workflow: str, stage: str, raised_by: str, detail: str
) -> dict[str, Any]:
    """What the escalation channel (or each admin) reads: the issue, who raised it, a link."""
    review = link(permalink, clip(title, 150)) if permalink else f"*{escape(clip(title, 150))}*"
    head = (
        f":rotating_light: *Systemic issue escalated for organisational change*\n"
        f"{review} · {escape(workflow)} · raised by {mention(raised_by)} at "
        f"{escape(stage)}"
    )
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
    if detail.strip():
        quote = ">" + escape(clip(detail.strip(), 2800)).replace("\n", "\n>")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": quote}})
    return {
        "text": clip(f"Systemic issue escalated: {escape(title)}", 3000),
        "blocks": blocks,
        "unfurl_links": False,
    }


def _tell(rt: Runtime, message: dict[str, Any]) -> Told:
    channel = rt.settings.escalation_channel
    if channel:
        try:
            posted = rt.client.chat_postMessage(channel=channel, **message)
            return Told(channel=str(posted.get("channel") or channel))
        except SlackApiError as exc:  # e.g. not_in_channel: the admins hear instead
            log.warning(
                "could not post an escalation in %s: %s; DMing the admins",
                channel,
                exc.response.get("error"),
            )
    told = []
    for admin in admin_ids(rt.client, rt.settings.admins):
        try:
            rt.client.chat_postMessage(channel=admin, **message)
            told.append(admin)
        except SlackApiError as exc:
            log.warning("could not DM admin %s an escalation: %s", admin, exc.response.get("error"))
    return Told(users=tuple(told))


def escalate_new(rt: Runtime, review_id: int, actor: str) -> int:
    """Tell someone about each escalation of the review not told yet; how many were sent."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return 0
        claimed = store.claim_follow_ups(session, review_id, KIND, to_status="escalating")
        workflow = workflow_of(review)
        pending = []
        for row in claimed:
            stage_key = (
                session.scalar(
                    select(StageSubmission.stage_key).where(StageSubmission.id == row.submission_id)
                )
                if row.submission_id
                else None
            )
            stage = next((s.name for s in workflow.stages if s.key == stage_key), "")
            pending.append(
                (
                    row.id,
                    escalation_message(
                        title=review.title,
                        permalink=review.permalink,
                        workflow=workflow.name,
                        stage=stage,
                        raised_by=actor,
                        detail=row.detail or row.title,
                    ),
                )
            )
        workspace_id = review.workspace_id
    sent = 0
    for follow_up_id, message in pending:
        told = _tell(rt, message)
        with transaction(rt.sessions) as session:
            claimed_row = session.get(FollowUp, follow_up_id)
            if claimed_row is None:
                continue  # the review was deleted meanwhile
            if not told:  # nobody could be told: open again, the next saved stage retries
                claimed_row.status = "open"
                log.error("escalation %s of review %s reached nobody", follow_up_id, review_id)
                continue
            claimed_row.status = "escalated"
            store.audit(
                session,
                workspace_id,
                actor,
                AUDIT,
                review_id,
                follow_up=follow_up_id,
                channel=told.channel,
                users=list(told.users),
            )
        sent += 1
    return sent


def who_was_told(session: Session, review: Review) -> str | None:
    """The status message's line for the person who escalated: where it went (mrkdwn)."""
    entries = list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.review_id == review.id, AuditEntry.action == AUDIT)
            .order_by(AuditEntry.id)
        )
    )
    if not entries:
        return None
    channels = list(
        dict.fromkeys(e.detail.get("channel") for e in entries if e.detail.get("channel"))
    )
    users = list(dict.fromkeys(u for e in entries for u in e.detail.get("users") or []))
    where = [f"posted in <#{c}>" for c in channels]
    if users:
        where.append("sent to " + ", ".join(mention(u) for u in users[:10]))
    return ":rotating_light: *Escalated for organisational change*: " + " and ".join(where) + "."

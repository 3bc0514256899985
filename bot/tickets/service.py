"""Helpdesk webhooks: `POST /hooks/<helpdesk>` turns low-CES tickets into assigned post-mortems.

A plain WSGI app next to Slack's handler. The request is checked (bearer token, JSON, fields, the
owner's Slack account) before anything is written; then one transaction records the ticket and,
for a low CES, the review and its pre-filled metadata draft; Slack is told after the commit. The
reviews table's unique (workspace, trigger_ref) makes redelivered or concurrent events for the same
ticket end in one post-mortem.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.delivery.service import record as record_effects
from bot.features import PermanentError, ReviewHooks, SideEffect, payload_int
from bot.reviews import service
from bot.reviews.status import status_effect
from bot.runtime import Runtime
from bot.slack import posted
from bot.slack.text import clip
from bot.tickets.views import TicketView, stale_dm, start_dm
from storage import reviews as store
from storage import tickets as ticket_store
from storage.db import transaction
from storage.models import Workspace
from storage.outbox import Claimed
from storage.tickets import Ticket
from storage.types import utcnow
from workflows.model import FieldType, Workflow
from workflows.tickets import (
    STALE_AFTER,
    CesRules,
    TicketError,
    TicketEvent,
    easiness_1_to_7,
    is_stale,
)

log = logging.getLogger(__name__)

SUPPORT = "support_postmortem"


@dataclass(frozen=True)
class TicketConfig:
    """Environment settings of the helpdesk integration (README: "Support post-mortems")."""

    token: str | None = None
    channel: str | None = None  # where status messages go; None: the owner's DM
    stale_days: int = 5  # working days In Progress before the owner is reminded


def ticket_config(settings: Settings) -> TicketConfig:
    """From the settings checked at start-up (bot.config: POSTMORTEM_WEBHOOK_TOKEN, ...)."""
    return TicketConfig(
        token=settings.webhook_token,
        channel=settings.support_channel,
        stale_days=settings.support_stale_days,
    )


def tickets_settings(ws: Workspace) -> dict[str, Any]:
    return dict((ws.settings or {}).get("tickets") or {})


# --- receiving an event ------------------------------------------------------------------------


def resolve_owner(rt: Runtime, event: TicketEvent) -> str:
    """The owner's Slack user id; TicketError naming `owner` when Slack does not know them."""
    if event.owner_is_email:
        try:
            user = rt.client.users_lookupByEmail(email=event.owner)["user"]
        except SlackApiError as exc:
            if exc.response.get("error") in ("users_not_found", "user_not_found"):
                raise TicketError(
                    f"owner: no Slack user has the e-mail {event.owner}", "owner"
                ) from None
            raise
    else:
        user = rt.people.info(event.owner)
        if user is None:
            # None is also "Slack did not answer": ask once more, directly, so an outage is a
            # 503 the helpdesk redelivers, not a 400 that drops the ticket for good.
            try:
                user = rt.client.users_info(user=event.owner)["user"]
            except SlackApiError as exc:
                if exc.response.get("error") in ("user_not_found", "users_not_found"):
                    raise TicketError(
                        f"owner: {event.owner} is not a Slack user here", "owner"
                    ) from None
                raise
    if user.get("deleted") or user.get("is_bot"):
        raise TicketError(f"owner: {event.owner} is deactivated or a bot", "owner")
    return user["id"]


def _settings(rt: Runtime, team: str) -> dict[str, Any]:
    with rt.sessions() as session:
        ws = session.scalar(select(Workspace).where(Workspace.team_id == team))
        return tickets_settings(ws) if ws else {}


@dataclass
class Outcome:
    review_id: int | None = None
    created: bool = False
    owner: str = ""
    ticket: TicketView | None = None
    title: str = ""
    stale_row_id: int | None = None
    stale_days: int = 0


def _ensure_pinned(rt: Runtime, team: str, workflow: Workflow) -> None:
    """Create the workspace and workflow rows in their own transaction (first-sight races)."""
    for attempt in range(2):
        try:
            with transaction(rt.sessions) as session:
                store.workspace(session, team)
                store.pin_workflow(
                    session,
                    workflow.key,
                    workflow.version,
                    workflow.digest,
                    workflow.model_dump(mode="json"),
                )
            return
        except IntegrityError:
            if attempt:
                raise


def ticket_view(ticket: Ticket) -> TicketView:
    ces = None
    if ticket.ces_score is not None:
        score = f"{ticket.ces_score:g}"
        ces = f"{score}/{ticket.ces_scale}" if ticket.ces_scale else score
    return TicketView(ticket.ticket_id, ticket.subject, ticket.url, ces)


def review_title(ticket: Ticket) -> str:
    return clip(
        f"Ticket {ticket.ticket_id}: {ticket.subject}"
        if ticket.subject
        else f"Ticket {ticket.ticket_id}",
        200,
    )


def metadata_draft(
    workflow: Workflow,
    event: TicketEvent | None,
    ticket: Ticket,
    trigger: str,
    rules: CesRules,
    owner: str,
) -> dict[str, Any]:
    """The metadata stage's raw answers from the ticket (only values the form accepts)."""
    stage = workflow.stages[0]
    keys = {f.key: f for f in stage.fields}
    values: dict[str, Any] = {"trigger": trigger, "ticket_owner": owner}
    if ticket.url:
        values["ticket_link"] = ticket.url
    if ticket.customer_type:
        values["customer_type"] = ticket.customer_type.replace("-", "_")
    if ticket.category:
        values["category"] = ticket.category.strip().lower().replace(" ", "_").replace("-", "_")
    if event is not None and (score := easiness_1_to_7(event, rules)) is not None:
        values["ces_score"] = str(score)
    for key in list(values):  # a helpdesk's own category names may not be ours: leave them blank
        f = keys.get(key)
        if f is None or (
            f.type == FieldType.CHOICE and values[key] not in {o.value for o in f.options}
        ):
            del values[key]
    return values


def create_for_ticket(
    rt: Runtime,
    session: Session,
    ticket: Ticket,
    *,
    team: str,
    channel: str,
    started_by: str,
    trigger: str,
    draft: dict[str, Any],
) -> tuple[int, bool]:
    """The ticket's post-mortem (review id, created?): at most one per ticket, even in a race."""
    ref = f"ticket:{ticket.ticket_id}"
    existing = ticket_store.review_for_trigger(session, ticket.workspace_id, ref)
    if existing is not None:
        ticket.review_id = existing.id
        return existing.id, False
    workflow = rt.registry[SUPPORT]
    try:
        with session.begin_nested():
            review = service.start_review(
                session,
                workflow,
                team_id=team,
                title=review_title(ticket),
                channel_id=channel,
                owner_id=ticket.owner_id,
                started_by=started_by,
                trigger=trigger,
                trigger_ref=ref,
            )
            store.save_draft(session, review.id, workflow.stages[0].key, ticket.owner_id, draft)
    except IntegrityError:  # another delivery created it first and has committed
        existing = ticket_store.review_for_trigger(session, ticket.workspace_id, ref)
        if existing is None:
            raise
        ticket.review_id = existing.id
        return existing.id, False
    ticket.review_id = review.id
    return review.id, True


def record(
    rt: Runtime,
    config: TicketConfig,
    team: str,
    source: str,
    data: Any,
    event: TicketEvent,
    owner: str,
    low: bool,
    rules: CesRules,
    now: datetime,
    hooks: ReviewHooks,
) -> Outcome:
    workflow = rt.registry[SUPPORT]
    _ensure_pinned(rt, team, workflow)
    for attempt in range(2):
        try:
            return _record_once(
                rt, config, team, source, data, event, owner, low, rules, now, workflow, hooks
            )
        except IntegrityError:  # a concurrent first insert of the same ticket; the retry sees it
            if attempt:
                raise
    raise AssertionError("unreachable")


def _record_once(
    rt: Runtime,
    config: TicketConfig,
    team: str,
    source: str,
    data: Any,
    event: TicketEvent,
    owner: str,
    low: bool,
    rules: CesRules,
    now: datetime,
    workflow: Workflow,
    hooks: ReviewHooks,
) -> Outcome:
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team)
        ticket = ticket_store.upsert_ticket(
            session,
            ws.id,
            event.ticket_id,
            source=source,
            raw=data,
            subject=event.subject,
            url=event.url,
            owner_id=owner,
            customer_type=event.customer_type,
            category=event.category,
            ces_score=float(event.ces_score) if event.ces_score is not None else None,
            ces_scale=(event.ces_scale or rules.scale) if event.ces_score is not None else None,
            opened_at=event.opened_at,
            closed_at=event.closed_at,
        )
        outcome = Outcome(
            review_id=ticket.review_id,
            owner=owner,
            ticket=ticket_view(ticket),
            title=review_title(ticket),
        )
        if low and ticket.review_id is None:
            draft = metadata_draft(workflow, event, ticket, "low_ces", rules, owner)
            outcome.review_id, outcome.created = create_for_ticket(
                rt,
                session,
                ticket,
                team=team,
                channel=config.channel or owner,
                started_by=owner,
                trigger="webhook",
                draft=draft,
            )
            if outcome.created:
                store.audit(
                    session,
                    ws.id,
                    owner,
                    "ticket.low_ces",
                    outcome.review_id,
                    ticket=event.ticket_id,
                    ces=str(event.ces_score),
                    source=source,
                )
        elif (
            ticket.review_id is None
            and is_stale(event.opened_at, event.closed_at, now)
            and ticket_store.claim_stale_suggestion(session, ticket)
        ):
            outcome.stale_row_id = ticket.id
            outcome.stale_days = (now - event.opened_at).days
        effects = announcement_effects(outcome, ticket.id)
        if outcome.created and outcome.review_id is not None:
            # What every new review gets (similar past lessons, a survey or the team's invitation
            # where its first stage asks for them), as when it is started with /postmortem.
            effects += hooks.started(outcome.review_id, workflow)
        record_effects(session, effects)
    return outcome


def announcement_effects(outcome: Outcome, ticket_row: int) -> list[SideEffect]:
    """What Slack is told about a recorded ticket, promised in the same transaction."""
    effects: list[SideEffect] = []
    if outcome.created and outcome.review_id is not None:
        effects += [
            status_effect(outcome.review_id),
            SideEffect(
                "tickets.start_dm",
                {"review_id": outcome.review_id, "ticket_row": ticket_row, "owner": outcome.owner},
            ),
        ]
    if outcome.stale_row_id is not None:
        effects.append(
            SideEffect(
                "tickets.stale_dm",
                {
                    "ticket_row": outcome.stale_row_id,
                    "owner": outcome.owner,
                    "days": outcome.stale_days,
                },
            )
        )
    return effects


TICKET_DM_EVENT = "postmortem_ticket_dm"


def _dm_once(
    rt: Runtime, owner: str, message: dict[str, Any], retrying: bool, **identity: Any
) -> None:
    """Post a DM unless a retried attempt finds Slack already has it (by its metadata)."""
    if retrying:
        channel = rt.client.conversations_open(users=owner)["channel"]["id"]
        if posted.find(rt.client, channel, TICKET_DM_EVENT, **identity):
            return
    rt.client.chat_postMessage(
        channel=owner, metadata=posted.metadata(TICKET_DM_EVENT, **identity), **message
    )


def _ticket(rt: Runtime, row_id: int) -> Ticket:
    with transaction(rt.sessions) as session:
        ticket = session.get(Ticket, row_id)
        if ticket is None:
            raise PermanentError(f"ticket row {row_id} no longer exists")
        session.expunge(ticket)
        return ticket


def deliver_start_dm(rt: Runtime, effect: Claimed) -> None:
    """The owner's DM for a post-mortem a low CES started."""
    review_id = payload_int(effect.payload, "review_id")
    ticket = _ticket(rt, payload_int(effect.payload, "ticket_row"))
    _dm_once(
        rt,
        str(effect.payload["owner"]),
        start_dm(review_id, ticket_view(ticket), review_title(ticket)),
        effect.attempt > 1,
        kind="start",
        review_id=review_id,
    )


def deliver_stale_dm(rt: Runtime, effect: Claimed) -> None:
    """The one-off suggestion for a ticket open more than 14 days."""
    row_id = payload_int(effect.payload, "ticket_row")
    ticket = _ticket(rt, row_id)
    _dm_once(
        rt,
        str(effect.payload["owner"]),
        stale_dm(row_id, ticket_view(ticket), int(effect.payload.get("days") or 0)),
        effect.attempt > 1,
        kind="stale",
        ticket_row=row_id,
    )


# --- stale tickets: the sweep and the suggestion's button --------------------------------------


def suggest_stale(rt: Runtime, now: datetime | None = None) -> int:
    """Suggest a post-mortem, once, for every recorded ticket open more than 14 days."""
    now = now or utcnow()
    outcomes: list[Outcome] = []
    with transaction(rt.sessions) as session:
        for ticket in ticket_store.stale_candidates(session, now - STALE_AFTER):
            if ticket_store.claim_stale_suggestion(session, ticket):
                outcome = Outcome(
                    owner=ticket.owner_id,
                    ticket=ticket_view(ticket),
                    stale_row_id=ticket.id,
                    stale_days=(now - ticket.opened_at).days,
                )
                outcomes.append(outcome)
                record_effects(session, announcement_effects(outcome, ticket.id))
    if outcomes:
        rt.delivery_due.set()
    return len(outcomes)


def start_from_stale(
    rt: Runtime, row_id: int, user_id: str, hooks: ReviewHooks
) -> tuple[int | None, str]:
    """The stale suggestion's button: the ticket's post-mortem (new or existing).

    A new one's status message and what every new review gets follow from the outbox: the
    button's caller opens the first stage next, with a trigger_id that Slack honours for 3 s,
    so no Slack call may come before it (nor be lost if Slack fails at that moment)."""
    config = ticket_config(rt.settings)
    workflow = rt.registry[SUPPORT]
    with transaction(rt.sessions) as session:
        ticket = session.get(Ticket, row_id)
        if ticket is None:
            return None, "That ticket is no longer recorded."
        team = ticket_store_team(session, ticket)
    _ensure_pinned(rt, team, workflow)
    with transaction(rt.sessions) as session:
        ticket = session.get(Ticket, row_id)
        if ticket is None:  # (nothing deletes a ticket row; said as above all the same)
            return None, "That ticket is no longer recorded."
        ws = _workspace_of(session, ticket)
        rules = CesRules.from_settings(tickets_settings(ws))
        draft = metadata_draft(workflow, None, ticket, "stale_ticket", rules, ticket.owner_id)
        review_id, created = create_for_ticket(
            rt,
            session,
            ticket,
            team=team,
            channel=config.channel or ticket.owner_id,
            started_by=user_id,
            trigger="stale_ticket",
            draft=draft,
        )
        if created:
            record_effects(session, [status_effect(review_id), *hooks.started(review_id, workflow)])
    if created:
        rt.delivery_due.set()
    return review_id, ""


def ticket_store_team(session: Session, ticket: Ticket) -> str:
    return _workspace_of(session, ticket).team_id


def _workspace_of(session: Session, ticket: Ticket) -> Workspace:
    ws = session.get(Workspace, ticket.workspace_id)
    assert ws is not None  # workspace_id is a foreign key: the row exists
    return ws

"""Action items: assignment DMs, changes from buttons, and each item's reminder schedule.

The reminders themselves are sent by the sweep in bot/action_items/nudges.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, object_session

from bot.action_items.views import (
    BLOCKED,
    ItemView,
    asked_blocks,
    handed_over_blocks,
    improvements_blocks,
    item_blocks,
    owner_notice_blocks,
)
from bot.delivery.service import record
from bot.features import PermanentError, SideEffect, StageSaved, payload_int
from bot.reviews.status import status_effect
from bot.runtime import Runtime
from bot.slack import posted
from bot.slack.text import escape, mention
from storage import reviews as store
from storage.claims import insert_once
from storage.db import transaction
from storage.models import ActionItem, Review, Workspace
from storage.nudges import SENT, Nudge
from storage.outbox import Claimed
from storage.trackers import TRACKER_NAMES, TaskLink, chosen_name, task_link
from storage.types import utcnow
from workflows.calendar import working_days_between
from workflows.nudges import (
    ItemSchedule,
    NudgePolicy,
    next_nudge_at,
    zone_or_default,
)

log = logging.getLogger(__name__)

OPEN = store.OPEN_ITEM_STATUSES
STALE_CLAIM = timedelta(minutes=10)
PERMANENT_ERRORS = {
    "user_not_found",
    "account_inactive",
    "user_disabled",
    "channel_not_found",
    "cannot_dm_bot",
    "is_archived",
    "user_is_restricted",
    "not_allowed",
}
METADATA_EVENT = "postmortem_nudge"


def reminder_settings(ws: Workspace) -> dict[str, int]:
    """The workspace's reminder settings over the defaults (README: "Reminders")."""
    defaults = {
        "due_soon_days": 2,
        "overdue_every_days": 2,
        "escalate_after_days": 3,
        "hour": 9,
        "catch_up_hours": 24,
    }
    saved = (ws.settings or {}).get("reminders", {})
    return {k: int(saved.get(k, v)) for k, v in defaults.items()}


def policy(rt: Runtime, ws: Workspace) -> NudgePolicy:
    s = reminder_settings(ws)
    return NudgePolicy(
        due_soon_days=s["due_soon_days"],
        overdue_every_days=s["overdue_every_days"],
        escalate_after_days=s["escalate_after_days"],
        hour=s["hour"],
        state=rt.settings.state,
        default_tz=rt.settings.timezone,
    )


def schedule(item: ActionItem, owner_tz: str | None) -> ItemSchedule | None:
    if item.due_date is None:
        return None
    return ItemSchedule(
        item_id=item.id,
        due_date=item.due_date,
        status=item.status,
        owner_tz=owner_tz,
        assigned_at=item.assigned_at,
        snoozed_until=item.snoozed_until,
    )


def reschedule(rt: Runtime, item: ActionItem, ws: Workspace, now: datetime | None = None) -> None:
    """Recompute when the item's next nudge falls due (after any change to it)."""
    sched = schedule(item, rt.people.timezone(item.owner_id, rt.settings.timezone))
    item.next_nudge_at = (
        next_nudge_at(sched, policy(rt, ws), now or utcnow())
        if sched and item.status in OPEN
        else None
    )


def _task_link(item: ActionItem) -> TaskLink | None:
    """The item's task in the team's tracker, when bot/trackers has filed one."""
    session = object_session(item)
    return task_link(session, item.id) if session is not None else None


def tracker_in_use(rt: Runtime, ws: Workspace) -> str | None:
    """The tracker items are filed in (bot/trackers): the workspace's choice, else the env's."""
    env = rt.settings.tracker.name if rt.settings.tracker else None
    return chosen_name(ws.settings, env)


def _tracker_label(rt: Runtime, item: ActionItem) -> str | None:
    name = tracker_in_use(rt, item.review.workspace)
    return TRACKER_NAMES.get(name) if name else None


def view_of(rt: Runtime, item: ActionItem, now: datetime | None = None) -> ItemView:
    """The item as its owner sees it at `now` (a job's clock, or the wall clock): dates in the
    owner's timezone and year, and a snooze only while it lasts."""
    now = now or utcnow()
    tz = zone_or_default(
        rt.people.timezone(item.owner_id, rt.settings.timezone),
        NudgePolicy(default_tz=rt.settings.timezone),
    )
    snoozed = item.snoozed_until if item.snoozed_until and item.snoozed_until > now else None
    return ItemView(
        id=item.id,
        title=item.title,
        status=item.status,
        due=item.due_date,
        owner_id=item.owner_id,
        review_title=item.review.title,
        permalink=item.review.permalink,
        note=item.status_note,
        snoozed_until=snoozed.astimezone(tz) if snoozed else None,
        today=now.astimezone(tz).date(),
        completed=item.completed_at.astimezone(tz).date() if item.completed_at else None,
        tracking_link=item.tracking_link,
        task=_task_link(item),
        tracker=_tracker_label(rt, item),
    )


def days_overdue(rt: Runtime, item: ActionItem, now: datetime | None = None) -> int:
    """Working days since the due date, on the owner's calendar: their today (their timezone,
    at `now`, the sweep's clock) and the state's working days. Never negative: an item not yet
    due is 0 days overdue."""
    if item.due_date is None:
        return 0
    zone = zone_or_default(
        rt.people.timezone(item.owner_id, rt.settings.timezone),
        NudgePolicy(default_tz=rt.settings.timezone),
    )
    today = (now or utcnow()).astimezone(zone).date()
    return max(0, working_days_between(item.due_date, today, rt.settings.state))


def card_of(item: ActionItem) -> tuple[str, str] | None:
    return (item.dm_channel, item.dm_ts) if item.dm_channel and item.dm_ts else None


def card_link(rt: Runtime, card: tuple[str, str] | None) -> str | None:
    """The permalink of an item's card, or None when it has none (its DM failed, or the owner
    deleted it): then a reminder is sent as a full card and becomes the item's card.

    Any other failure (Slack answering 500, a rate limit) is raised for the caller to retry: a
    card taken for gone would be replaced by the new message while it still works (the chaos
    test caught a reminder becoming the card after a chat.getPermalink 500)."""
    if card is None:
        return None
    try:
        return str(rt.client.chat_getPermalink(channel=card[0], message_ts=card[1])["permalink"])
    except SlackApiError as exc:
        if exc.response.get("error") not in GONE:
            raise
        log.info("card %s of an item is gone: %s", card, exc.response.get("error"))
        return None


# --- assignment ------------------------------------------------------------------------------


ASSIGNMENT_EVENT = "postmortem_assignment"


def notify_assignment(
    rt: Runtime, item_id: int, previous_owner: str | None = None, *, retrying: bool = False
) -> None:
    """DM the owner the item's card at once; on reassignment tell the new owner and the old one.

    The card (its channel and ts are kept on the item) is the one message with buttons; it is
    rewritten whenever the item changes. The former owner's card loses its buttons. When
    `retrying` (an earlier attempt may have reached Slack), the card is looked up by its
    metadata before it is posted again.
    """
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None or item.status == "cancelled":
            return
        reschedule(rt, item, item.review.workspace)
        view = view_of(rt, item)
        old_card = card_of(item) if previous_owner else None
        if previous_owner:  # until the new owner's card is posted, the item has none
            item.dm_channel = item.dm_ts = None
    handed_over = previous_owner and previous_owner != view.owner_id
    headline = "Reassigned to you" if previous_owner else "New action item for you"
    found: tuple[str, str] | None = None
    if retrying:
        channel = rt.client.conversations_open(users=view.owner_id)["channel"]["id"]
        ts = posted.find(rt.client, channel, ASSIGNMENT_EVENT, item_id=item_id, owner=view.owner_id)
        found = (channel, ts) if ts else None
    if found is None:
        reply = rt.client.chat_postMessage(
            channel=view.owner_id,
            **item_blocks(view, headline),
            metadata=posted.metadata(ASSIGNMENT_EVENT, item_id=item_id, owner=view.owner_id),
        )
        found = (str(reply["channel"]), str(reply["ts"]))
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is not None:  # (nothing deletes an item; if one went, there is no card to keep)
            item.dm_channel, item.dm_ts = found
    # The former owner's card, unless it is in the new owner's DM (this call run again).
    if handed_over and old_card and old_card[0] != found[0]:
        try:
            rt.client.chat_update(channel=old_card[0], ts=old_card[1], **handed_over_blocks(view))
        except SlackApiError as exc:  # deleted by its reader: nothing left to rewrite
            log.info(
                "former owner's card of item %s not rewritten: %s",
                item_id,
                exc.response.get("error"),
            )
    if handed_over and previous_owner:
        tell_former_owner(rt, view, previous_owner, retrying=retrying)


HANDED_OVER_EVENT = "postmortem_handed_over"


def tell_former_owner(rt: Runtime, view: ItemView, former: str, *, retrying: bool) -> None:
    """ "Now owned by…" in the former owner's DM, once: the note names the item and its new
    owner in its metadata, and a retry (`retrying`: an attempt may have posted it and then
    died) looks for it before posting. A later hand-over to someone else is a new note."""
    meta = {"item_id": view.id, "owner": view.owner_id, "former": former}
    if retrying and _posted_to(rt, former, HANDED_OVER_EVENT, **meta):
        return
    rt.client.chat_postMessage(
        channel=former,
        metadata=posted.metadata(HANDED_OVER_EVENT, **meta),
        text=(
            f"“{escape(view.title)}” in {escape(view.review_title)} is now owned by "
            f"{mention(view.owner_id)}: you will get no more reminders about it."
        ),
    )


def tracker_effects(item_id: int, reassigned: bool) -> list[SideEffect]:
    """The item's task in the tracker (bot/trackers): filed if it has none; on reassignment,
    given to the new owner. Recorded only when a tracker is in use."""
    group = f"tracker:{item_id}"
    effects = [SideEffect("trackers.create", {"item_id": item_id}, group=group)]
    if reassigned:
        effects.append(SideEffect("trackers.assign", {"item_id": item_id}, group=group))
    return effects


def assignment_effects(
    changes: list[tuple[int, bool, str | None]], *, tracker: bool = True
) -> list[SideEffect]:
    """One effect per item created or reassigned: each owner's DM is delivered on its own;
    with `tracker` (one is in use), its task follows."""
    effects = []
    for item_id, created, previous_owner in changes:
        if created or previous_owner:
            effects.append(
                SideEffect(
                    "action_items.assigned", {"item_id": item_id, "previous_owner": previous_owner}
                )
            )
            if tracker:
                effects += tracker_effects(item_id, reassigned=bool(previous_owner))
    return effects


def after_stage(saved: StageSaved) -> list[SideEffect]:
    """The owners of the action items the stage created or reassigned are told; their tasks
    follow only when a tracker is in use."""
    changes = saved.result.item_changes
    if not any(created or previous_owner for _, created, previous_owner in changes):
        return []  # no owner to tell: whether a tracker is in use (a query) does not matter
    return assignment_effects(changes, tracker=_tracker_on(saved))


def _tracker_on(saved: StageSaved) -> bool:
    if saved.rt is None or saved.session is None:
        return True  # cannot tell here: the delivery finds no tracker and does nothing
    review = saved.session.get(Review, saved.review_id)
    return review is not None and tracker_in_use(saved.rt, review.workspace) is not None


def deliver_assignment(rt: Runtime, effect: Claimed) -> None:
    previous = effect.payload.get("previous_owner")
    notify_assignment(
        rt,
        payload_int(effect.payload, "item_id"),
        str(previous) if previous else None,
        retrying=effect.attempt > 1,
    )


def notify_changes(rt: Runtime, changes: list[tuple[int, bool, str | None]]) -> None:
    """(item id, created, previous owner) each: tell new and former owners, one at a time."""
    for item_id, created, previous_owner in changes:
        if created or previous_owner:
            try:
                notify_assignment(rt, item_id, previous_owner)
            except SlackApiError as exc:  # the item is saved; the sweep will still nudge
                log.error(
                    "assignment DM for item %s failed: %s", item_id, exc.response.get("error")
                )


# --- changes from buttons --------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    changed: bool
    item: ItemView | None
    review_id: int | None = None
    all_done: bool = False
    card: tuple[str, str] | None = None  # the item's card (channel, ts), to rewrite
    refused: str | None = None  # why nothing was changed, to tell the person who clicked
    fields: tuple[str, ...] = ()  # what changed


def refusal(item: ActionItem, fields: dict[str, Any], reopen: bool) -> str | None:
    """Why a click may not change a finished item, or None. A click can come from any older
    message (a list, Home, a reminder from before the item was done): it acts on the item as it
    is now, and a done item is reopened only when the person said so (`reopen`)."""
    title = f"“{item.title}”"
    if item.status == "cancelled":
        return (
            f"{title} was cancelled (taken out of the review's action items), so it cannot "
            "be changed here."
        )
    if item.status != "done" or reopen:
        return None
    if "snoozed_until" in fields:
        return f"{title} is already done: there is nothing to snooze."
    if fields.get("status", "done") != "done":
        return (
            f"{title} was marked done, so it was not reopened. To reopen it, use Update "
            "status on its card and confirm."
        )
    return None


def update_item(
    rt: Runtime,
    item_id: int,
    actor: str,
    *,
    reopen: bool = False,
    clicked: Message | None = None,
    effects: bool = True,
    **fields: Any,
) -> Change:
    """Apply a change from a button; applying the same change twice changes nothing more.

    What the change means in Slack (the card and the clicked message redrawn, the review's
    owner told it is blocked, the review's message, the all-done question) is recorded in the
    outbox in the same transaction: a Slack outage after the commit delays it, never loses it.
    A caller that records its own (`effects=False`: bot/trackers) gets none of these.
    """
    with transaction(rt.sessions) as session:
        item = session.scalar(select(ActionItem).where(ActionItem.id == item_id).with_for_update())
        if item is None:
            return Change(False, None)
        redraw = redraw_effect(item, clicked, actor)
        card = card_of(item)
        refused = refusal(item, fields, reopen)
        if refused:
            record(session, [redraw] if effects else [])
            return Change(False, view_of(rt, item), item.review_id, card=card, refused=refused)
        if fields.get("status") == "done" and item.status != "done":
            fields["completed_at"] = utcnow()
        elif fields.get("status", "done") != "done" and item.status == "done":
            fields["completed_at"] = None  # reopened, on purpose
        changes = {k: v for k, v in fields.items() if getattr(item, k) != v}
        for key, value in changes.items():
            setattr(item, key, value)
        if changes:
            store.audit(
                session,
                item.review.workspace_id,
                actor,
                "action_item.updated",
                item.review_id,
                item=item.id,
                **{
                    k: v.isoformat() if isinstance(v, date | datetime) else v
                    for k, v in changes.items()
                },
            )
            reschedule(rt, item, item.review.workspace)
        if changes.get("status") == "done" and tracker_in_use(rt, item.review.workspace):
            record(
                session,
                [SideEffect("trackers.close", {"item_id": item.id}, group=f"tracker:{item.id}")],
            )  # bot/trackers
        review = item.review
        all_done = bool(
            changes.get("status") == "done"
            and review.improvements_asked_at is None
            and all(i.status in ("done", "cancelled") for i in review.action_items)
        )
        if all_done:
            review.improvements_asked_at = utcnow()
        todo = [redraw]
        if changes:
            todo += [notices_effect(item.id), status_effect(review.id)]
        if item.status == "blocked" and {"status", "status_note"} & changes.keys():
            todo.append(blocked_effect(item.id, actor))
        if all_done:
            todo.append(SideEffect(ALL_DONE_EFFECT, {"review_id": review.id}))
        record(session, todo if effects else [])
        return Change(
            bool(changes), view_of(rt, item), review.id, all_done, card=card, fields=tuple(changes)
        )


def confirm_improvements(
    rt: Runtime, review_id: int, actor: str, clicked: Message | None = None
) -> tuple[bool, Review | None]:
    """Record the owner's (or an admin's) confirmation: (confirmed now, the review).

    The question clicked (`clicked`) is redrawn as confirmed by the outbox, recorded in the same
    transaction; a click on a question already confirmed (another copy, a second click) gets
    the same redraw, so it shows who confirmed."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id, for_update=True)
        if review is None:
            return False, review
        confirmed = False
        if review.improvements_confirmed_at is None:
            if actor != review.owner_id and not rt.is_admin(actor):
                return False, review
            review.improvements_confirmed_at, review.improvements_confirmed_by = utcnow(), actor
            store.audit(
                session, review.workspace_id, actor, "review.improvements_confirmed", review.id
            )
            confirmed = True
        if clicked is not None:
            record(session, [confirmed_effect(review.id, clicked)])
        return confirmed, review


CONFIRMED_EFFECT = "action_items.improvements_confirmed"


def confirmed_effect(review_id: int, clicked: Message) -> SideEffect:
    """Redraw the question clicked as confirmed (chat.update: a retry draws it again)."""
    return SideEffect(
        CONFIRMED_EFFECT,
        {"review_id": review_id, "clicked": list(clicked)},
        group=f"review:{review_id}:improvements",
    )


def deliver_confirmed(rt: Runtime, effect: Claimed) -> None:
    review_id = payload_int(effect.payload, "review_id")
    raw = effect.payload.get("clicked")
    if not (isinstance(raw, list) and len(raw) == 2):
        raise PermanentError("payload has no clicked message")
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return
        message = improvements_blocks(
            review.id, review.title, review.permalink, confirmed_by=review.improvements_confirmed_by
        )
    _update_unless_gone(rt, (str(raw[0]), str(raw[1])), message)


IMPROVEMENTS_EVENT = "postmortem_improvements"


def ask_to_confirm(rt: Runtime, review_id: int, *, retrying: bool = False) -> None:
    """Ask the review's owner to confirm the improvements, once: a retry (`retrying`) first
    looks for the question an interrupted attempt may have posted."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None or review.improvements_confirmed_at is not None:
            return  # no review, or already confirmed: nothing to ask
        owner, title, permalink = review.owner_id, review.title, review.permalink
    if retrying and _posted_to(rt, owner, IMPROVEMENTS_EVENT, review_id=review_id):
        return
    rt.client.chat_postMessage(
        channel=owner,
        metadata=posted.metadata(IMPROVEMENTS_EVENT, review_id=review_id),
        **improvements_blocks(review_id, title, permalink),
    )


def _posted_to(rt: Runtime, user_id: str, event_type: str, **match: Any) -> tuple[str, str] | None:
    """(channel, ts) of the message with this metadata in the bot's DM with `user_id`."""
    channel = str(rt.client.conversations_open(users=user_id)["channel"]["id"])
    ts = posted.find(rt.client, channel, event_type, **match)
    return (channel, ts) if ts else None


def deliver_all_done(rt: Runtime, effect: Claimed) -> None:
    ask_to_confirm(rt, payload_int(effect.payload, "review_id"), retrying=effect.attempt > 1)


# --- redrawing what was clicked ----------------------------------------------------------------


Message = tuple[str, str]  # (channel, ts) of a Slack message
REDRAW_EFFECT = "action_items.redraw"
NOTICES_EFFECT = "action_items.notices"
BLOCKED_EFFECT = "action_items.blocked"
NUDGE_EFFECT = "action_items.nudge"
ALL_DONE_EFFECT = "action_items.all_done"
GONE = frozenset({"message_not_found", "cant_update_message", "channel_not_found"})


def redraw_effect(item: ActionItem, clicked: Message | None, clicker: str) -> SideEffect:
    """Redraw the item's card, and the message clicked when it is another one, as the item is
    when the effect is delivered (so redraws converge whatever failed in between).

    A click by the owner on a message of theirs, when the item has no card (the assignment DM
    never arrived), makes that message the card (in the caller's transaction)."""
    if card_of(item) is None and clicked and clicker == item.owner_id:
        item.dm_channel, item.dm_ts = clicked
    payload: dict[str, Any] = {"item_id": item.id}
    if clicked:
        payload["clicked"] = list(clicked)
    return SideEffect(REDRAW_EFFECT, payload, group=f"item:{item.id}:card")


def show_current(rt: Runtime, item_id: int, clicked: Message | None, clicker: str) -> bool:
    """Record a redraw of the item's card and of the message clicked; False if it is gone."""
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:
            return False
        record(session, [redraw_effect(item, clicked, clicker)])
    rt.delivery_due.set()
    return True


def deliver_redraw(rt: Runtime, effect: Claimed) -> None:
    """chat.update is idempotent: a retry just draws the item as it is now, again."""
    item_id = payload_int(effect.payload, "item_id")
    raw = effect.payload.get("clicked")
    clicked = (str(raw[0]), str(raw[1])) if isinstance(raw, list) and len(raw) == 2 else None
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:
            return
        view, card = view_of(rt, item), card_of(item)
    if card:
        _update_unless_gone(rt, card, item_blocks(view, "Action item"))
    if clicked and clicked != card:
        link = card_link(rt, card)
        _update_unless_gone(
            rt, clicked, item_blocks(view, "Action item", buttons=False, card_link=link)
        )


def _update_unless_gone(rt: Runtime, message: Message, content: dict[str, Any]) -> None:
    """chat.update; a message its reader deleted has nothing left to redraw (not an error)."""
    try:
        rt.client.chat_update(channel=message[0], ts=message[1], **content)
    except SlackApiError as exc:
        if exc.response.get("error") not in GONE:
            raise
        log.info("message %s of an item is gone: %s", message, exc.response.get("error"))


def notices_effect(item_id: int) -> SideEffect:
    """Rewrite the notices the review's owner was sent about the item (they follow its state)."""
    return SideEffect(NOTICES_EFFECT, {"item_id": item_id}, group=f"item:{item_id}:notices")


def blocked_effect(item_id: int, actor: str) -> SideEffect:
    """Tell the review's owner the item is blocked; after the notices' rewrite, in order."""
    return SideEffect(
        BLOCKED_EFFECT, {"item_id": item_id, "actor": actor}, group=f"item:{item_id}:notices"
    )


def deliver_notices(rt: Runtime, effect: Claimed) -> None:
    refresh_owner_notices(rt, payload_int(effect.payload, "item_id"))


def deliver_blocked(rt: Runtime, effect: Claimed) -> None:
    notify_blocked(
        rt,
        payload_int(effect.payload, "item_id"),
        str(effect.payload.get("actor")),
        occurrence=effect.id,
        retrying=effect.attempt > 1,
    )


def deliver_nudge(rt: Runtime, effect: Claimed) -> None:
    send_nudge(
        rt,
        payload_int(effect.payload, "item_id"),
        str(effect.payload.get("asker")),
        occurrence=effect.id,
        retrying=effect.attempt > 1,
    )


# --- the review owner's side: escalations, nudges, reassignment ------------------------------


NOTICES = ("escalation", BLOCKED)  # what the review's owner is sent about someone's item


def refresh_owner_notices(rt: Runtime, item_id: int) -> None:
    """Rewrite the escalations and blocked notices sent about the item, so the review's owner
    sees it as it is now (done, reassigned, unblocked) and no button acts on what has changed."""
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:
            return
        sent = session.execute(
            select(Nudge.kind, Nudge.channel, Nudge.ts).where(
                Nudge.action_item_id == item_id,
                Nudge.kind.in_(NOTICES),
                Nudge.status == SENT,
                Nudge.ts.is_not(None),
            )
        ).all()
        if not sent:
            return
        view, days = view_of(rt, item), days_overdue(rt, item)
    for kind, channel, ts in sent:
        if channel is None or ts is None:  # a sent notice has both (ts is asked for above)
            continue
        # A notice its reader deleted is skipped; a Slack outage raises, and the effect retries.
        _update_unless_gone(rt, (channel, ts), owner_notice_blocks(view, kind, days))


BLOCKED_EVENT = "postmortem_blocked"


def notify_blocked(
    rt: Runtime, item_id: int, actor: str, *, occurrence: int = 0, retrying: bool = False
) -> None:
    """Tell the review's owner that an item of their review is blocked, and by what, with what
    they can do about it (nudge, reassign, open the review). Nobody is told what they did.

    `occurrence` (the outbox effect's id) names this notice in its metadata: a retry
    (`retrying`) finds the one an interrupted attempt posted instead of posting it again, and
    keeps it (redrawn as the item is now) even if the item was unblocked since."""
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:
            return
        owner_of_review = item.review.owner_id
        if owner_of_review in (actor, item.owner_id):
            return
        blocked = item.status == "blocked"
        message = owner_notice_blocks(view_of(rt, item), BLOCKED)
    meta = {"item_id": item_id, "occurrence": occurrence}
    found = _posted_to(rt, owner_of_review, BLOCKED_EVENT, **meta) if retrying else None
    if found is not None:
        _update_unless_gone(rt, found, message)
    elif not blocked:
        return  # unblocked before the notice went out: nothing to tell
    else:
        reply = rt.client.chat_postMessage(
            channel=owner_of_review, metadata=posted.metadata(BLOCKED_EVENT, **meta), **message
        )
        found = (str(reply["channel"]), str(reply["ts"]))
    channel, ts = found
    now = utcnow()
    with transaction(rt.sessions) as session:  # kept, so the notice follows the item's state
        insert_once(
            session,
            Nudge,
            ("action_item_id", "kind", "occurrence"),
            action_item_id=item_id,
            kind=BLOCKED,
            occurrence=ts,
            recipient_id=owner_of_review,
            scheduled_at=now,
            claimed_at=now,
            sent_at=now,
            status=SENT,
            channel=channel,
            ts=ts,
        )


@dataclass(frozen=True)
class Listed:
    """The first items of a list, and how many there are in all (and how many blocked)."""

    items: list[ItemView]
    total: int
    blocked: int = 0


def items_in_reviews_of(
    rt: Runtime, session: Session, user_id: str, workspace_id: int, limit: int
) -> Listed:
    """Open items of the reviews `user_id` owns that others own, blocked first, then soonest
    due: what the review's owner keeps an eye on (Home)."""
    where = (
        Review.owner_id == user_id,
        Review.workspace_id == workspace_id,
        ActionItem.owner_id != user_id,
        ActionItem.status.in_(OPEN),
    )
    counts = session.execute(
        select(
            func.count(ActionItem.id),
            func.count(case((ActionItem.status == "blocked", ActionItem.id))),
        )
        .join(Review)
        .where(*where)
    ).one()
    rows = session.scalars(
        select(ActionItem)
        .join(Review)
        .where(*where)
        .order_by(
            case((ActionItem.status == "blocked", 0), else_=1),
            ActionItem.due_date.is_(None),
            ActionItem.due_date,
            ActionItem.id,
        )
        .limit(limit)
    )
    return Listed([view_of(rt, item) for item in rows], counts[0] or 0, counts[1] or 0)


def items_of(rt: Runtime, session: Session, user_id: str, workspace_id: int, limit: int) -> Listed:
    """A person's open items, soonest due first (`/postmortem actions`, Home)."""
    items = store.open_items_for(session, user_id, workspace_id)
    return Listed(
        [view_of(rt, item) for item in items[:limit]],
        len(items),
        sum(1 for item in items if item.status == "blocked"),
    )


NUDGE_EVENT = "postmortem_asked"


def nudge_owner(rt: Runtime, item_id: int, asker: str) -> str:
    """The review owner's "Nudge the owner": recorded with the note to the item's owner (an
    outbox effect, `send_nudge`). Answers what to tell the asker (mrkdwn, escaped)."""
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None:
            return "That action item no longer exists."
        if item.status not in OPEN:
            return escape(f"“{item.title}” is already {item.status}: no nudge sent.")
        owner, title = item.owner_id, item.title
        store.audit(
            session,
            item.review.workspace_id,
            asker,
            "action_item.nudged",
            item.review_id,
            item=item.id,
            owner=item.owner_id,
        )
        record(
            session,
            [
                SideEffect(NUDGE_EFFECT, {"item_id": item_id, "asker": asker}),
                notices_effect(item_id),
            ],
        )
    rt.delivery_due.set()
    return f"Nudged {mention(owner)} about “{escape(title)}”."


def send_nudge(
    rt: Runtime, item_id: int, asker: str, *, occurrence: int = 0, retrying: bool = False
) -> None:
    """The note to the item's owner, pointing to its card (or, without one, a new card).
    `occurrence` names it in its metadata, so a retry does not send it twice."""
    with transaction(rt.sessions) as session:
        item = session.get(ActionItem, item_id)
        if item is None or item.status not in OPEN:
            return  # done (or reassigned away) since: nothing to ask about
        view, days, card = view_of(rt, item), days_overdue(rt, item), card_of(item)
    meta = {"item_id": item_id, "occurrence": occurrence}
    if retrying and _posted_to(rt, view.owner_id, NUDGE_EVENT, **meta):
        return
    link = card_link(rt, card)
    if link:
        rt.client.chat_postMessage(
            channel=view.owner_id,
            metadata=posted.metadata(NUDGE_EVENT, **meta),
            **asked_blocks(view, asker, days, link),
        )
        return
    reply = rt.client.chat_postMessage(  # no card to point to: this message becomes it
        channel=view.owner_id,
        metadata=posted.metadata(NUDGE_EVENT, **meta),
        **item_blocks(view, ":wave: The review's owner asked about this"),
    )
    with transaction(rt.sessions) as session:
        row = session.get(ActionItem, item_id)
        # Only the card this found missing is replaced: an assignment DM that another worker
        # delivered meanwhile stays the card.
        if row is not None and (row.dm_channel, row.dm_ts) == (card or (None, None)):
            row.dm_channel, row.dm_ts = str(reply["channel"]), str(reply["ts"])


def reassign(
    rt: Runtime, item_id: int, new_owner: str, actor: str
) -> tuple[str | None, str | None, int | None]:
    """Give the item to `new_owner`: (refusal, previous owner, review id). The new owner's
    reminders start from now; the snooze was the previous owner's."""
    with transaction(rt.sessions) as session:
        item = session.scalar(select(ActionItem).where(ActionItem.id == item_id).with_for_update())
        if item is None:
            return "That action item no longer exists.", None, None
        if item.status not in OPEN:
            return f"“{item.title}” is already {item.status}: it was not reassigned.", None, None
        if item.owner_id == new_owner:
            return "They already own it: choose someone else.", None, None
        previous = item.owner_id
        item.owner_id, item.assigned_at, item.snoozed_until = new_owner, utcnow(), None
        reschedule(rt, item, item.review.workspace)
        store.audit(
            session,
            item.review.workspace_id,
            actor,
            "action_item.updated",
            item.review_id,
            item=item.id,
            owner_id=new_owner,
            previous_owner=previous,
        )
        record(
            session,
            [
                # Its task follows when a tracker is in use (bot/trackers).
                *assignment_effects(
                    [(item.id, False, previous)],
                    tracker=tracker_in_use(rt, item.review.workspace) is not None,
                ),
                notices_effect(item.id),
                status_effect(item.review_id),
            ],
        )
        return None, previous, item.review_id

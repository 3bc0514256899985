"""The product safety register: record incidents, alert officers before the ACCC deadline.

The deadline comes from workflows.au.product_safety.report_due (ACL s131: 2 days, 11:59 pm,
moved off weekends and public holidays). Alerts (on recording, 24 h and 4 h before, and when the
deadline passes) are claimed in `safety_alerts` before sending, like action-item nudges, so a
restart or a second replica never sends one twice.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.delivery import service as delivery
from bot.features import SideEffect
from bot.runtime import Runtime
from bot.safety.views import alert_message, recall_alert, recall_summary
from bot.slack import posted, state
from storage import reviews as store
from storage.claims import insert_once
from storage.db import transaction
from storage.outbox import Claimed
from storage.safety import (
    RecallDeadline,
    SafetyAlert,
    SafetyIncident,
    SafetyRecall,
    register,
)
from storage.types import utcnow
from workflows.au import product_safety as ps

log = logging.getLogger(__name__)


def incident_from_state(
    values: dict[str, Any], tz: str
) -> tuple[ps.Incident | None, dict[str, str]]:
    """The modal's answers as an Incident, or the errors to show next to the fields."""
    day, clock = state.date(values, "aware_date"), state.time(values, "aware_time")
    if not day or not clock:
        return None, {"aware_date": "Give the date and time you became aware."}
    aware = datetime.combine(
        date.fromisoformat(day), time.fromisoformat(clock), tzinfo=ZoneInfo(tz)
    )
    exemption = state.option(values, "exemption")
    batches = tuple(b.strip() for b in state.text(values, "batch").split(",") if b.strip())
    incident = ps.Incident(
        product_name=state.text(values, "product_name"),
        aware_at=aware,
        what_happened=state.text(values, "what_happened"),
        outcome=state.one_of(state.option(values, "outcome"), ps.OUTCOMES) or "other",
        caused_or_may_have=state.option(values, "caused") == "yes",
        model=state.text(values, "model"),
        batch_or_serial_numbers=batches,
        supplier=state.text(values, "supplier"),
        where=state.text(values, "location"),
        exemption=state.one_of(exemption, ps.EXEMPTIONS),  # "none" (None of these) is None
        actions_taken=state.text(values, "actions"),
    )
    errors = ps.validate_incident(incident, utcnow())
    blocks = {
        "aware_at": "aware_date",
        "product_name": "product_name",
        "what_happened": "what_happened",
    }
    return incident, {blocks.get(k, "product_name"): m for k, m in errors.items()}


def record(rt: Runtime, team_id: str, user_id: str, incident: ps.Incident, tz: str) -> int:
    required, reason = ps.report_required(incident)
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team_id)
        row = SafetyIncident(
            workspace_id=ws.id,
            product_name=incident.product_name,
            model=incident.model,
            batch_or_serials=", ".join(incident.batch_or_serial_numbers),
            supplier=incident.supplier,
            aware_at=incident.aware_at,
            aware_tz=tz,
            what_happened=incident.what_happened,
            location=incident.where,
            outcome=incident.outcome,
            caused_or_may_have=incident.caused_or_may_have,
            exemption=incident.exemption,
            actions_taken=incident.actions_taken,
            report_status="due" if required else "not_required",
            report_due_at=ps.report_due(incident.aware_at, rt.settings.state) if required else None,
            status_reason=reason,
            reported_by=user_id,
        )
        session.add(row)
        session.flush()
        store.audit(
            session,
            ws.id,
            user_id,
            "safety.incident_recorded",
            None,
            incident=row.id,
            report_required=required,
        )
        return row.id


def mark_reported(
    rt: Runtime, incident_id: int, user_id: str, submitted_on: date, reference: str
) -> bool:
    with transaction(rt.sessions) as session:
        row = session.get(SafetyIncident, incident_id)
        if row is None or row.report_status == "submitted":
            return False
        row.report_status, row.submitted_on, row.accc_reference = (
            "submitted",
            submitted_on,
            reference,
        )
        store.audit(
            session,
            row.workspace_id,
            user_id,
            "safety.reported",
            None,
            incident=row.id,
            accc_reference=reference,
        )
        return True


def _alerts_due(row: SafetyIncident, now: datetime) -> list[tuple[str, bool]]:
    """Alerts that have come due, each with whether to send it: at once, then 24 h and 4 h
    before the deadline and when it passes. Only the latest deadline alert is sent; the ones
    it supersedes (recorded late, or the bot was down) are recorded without sending."""
    kinds = [("reported", True)]
    if row.report_status == "due" and row.report_due_at:
        day_before, hours_before = ps.reminder_times(row.report_due_at)
        passed = [
            k
            for k, at in (("24h", day_before), ("4h", hours_before), ("overdue", row.report_due_at))
            if at <= now
        ]
        kinds += [(k, k == passed[-1]) for k in passed]
    return kinds


def _claim(
    session: Any,
    kind: str,
    now: datetime,
    send: bool,
    *,
    incident_id: int | None = None,
    deadline_id: int | None = None,
) -> bool:
    """Insert the alert's row first; only the sweep that inserts it sends it."""
    target = "incident_id" if incident_id is not None else "deadline_id"
    claimed = insert_once(
        session,
        SafetyAlert,
        (target, "kind"),
        incident_id=incident_id,
        deadline_id=deadline_id,
        kind=kind,
        claimed_at=now,
        status="claimed" if send else "skipped",
    )
    return claimed is not None and send


def send_alerts(rt: Runtime, now: datetime | None = None) -> int:
    """Alert the safety channel and officers about every incident alert that has come due:
    each alert's messages are recorded in the outbox in the transaction that claims it, so a
    Slack outage delays an alert, never loses it. How many alerts."""
    now = now or utcnow()
    sent = 0  # alerts claimed: each recorded for the outbox with its claim
    with transaction(rt.sessions) as session:
        window = now + timedelta(hours=25)  # only incidents with something due soon or open
        rows = session.scalars(
            select(SafetyIncident).where(
                (SafetyIncident.report_status == "due") & (SafetyIncident.report_due_at <= window)
                | (SafetyIncident.created_at >= now - timedelta(days=1))
            )
        ).all()
        for row in rows:
            for kind, send in _alerts_due(row, now):
                if _claim(session, kind, now, send, incident_id=row.id):
                    message = alert_message(kind, row, rt.settings.timezone, row.status_reason)
                    delivery.record(
                        session, message_effects(rt, f"incident:{row.id}:{kind}", message)
                    )
                    sent += 1
        deadlines = session.scalars(
            select(RecallDeadline).where(
                RecallDeadline.done_at.is_(None), RecallDeadline.due_at <= window
            )
        ).all()
        for deadline in deadlines:
            passed = [
                k
                for k, at in (
                    ("24h", deadline.due_at - timedelta(hours=24)),
                    ("overdue", deadline.due_at),
                )
                if at <= now
            ]
            for kind in passed:
                if _claim(session, kind, now, kind == passed[-1], deadline_id=deadline.id):
                    message = recall_alert(
                        kind,
                        deadline,
                        session.get(SafetyRecall, deadline.recall_id),
                        rt.settings.timezone,
                    )
                    delivery.record(
                        session, message_effects(rt, f"deadline:{deadline.id}:{kind}", message)
                    )
                    sent += 1
    if sent:
        rt.delivery_due.set()
    return sent


def record_recall(
    rt: Runtime, team_id: str, user_id: str, values: dict[str, Any], tz: str
) -> tuple[int | None, dict[str, str]]:
    """A recall from the modal, with its ACL s128 deadlines tracked; or errors for the form."""

    def text(block: str) -> str:
        return state.text(values, block)

    day, clock = state.date(values, "action_date"), state.time(values, "action_time")
    errors = {
        b: "This is required."
        for b in ("product", "hazard", "consumer_action", "contact")
        if not text(b)
    }
    if not day or not clock:
        errors["action_date"] = "Give the date and time the recall action was taken."
    if errors or not day or not clock:  # (no day or time has its error above)
        return None, errors
    zone = ZoneInfo(tz)
    action_at = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=zone)
    if action_at > utcnow():
        return None, {"action_date": "The recall action can't be in the future."}
    published = state.date(values, "published")
    published_at = (
        datetime.combine(date.fromisoformat(published), time(9), tzinfo=zone) if published else None
    )
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team_id)
        recall = SafetyRecall(
            workspace_id=ws.id,
            product=text("product"),
            identifiers=text("identifiers"),
            hazard=text("hazard"),
            supplied=text("supplied"),
            consumer_action=text("consumer_action"),
            contact=text("contact"),
            action_at=action_at,
            published_at=published_at,
            created_by=user_id,
        )
        session.add(recall)
        session.flush()
        for d in ps.recall_deadlines(action_at, published_at, rt.settings.state):
            session.add(
                RecallDeadline(
                    recall_id=recall.id, kind=d.kind, due_at=d.due_at, description=d.description
                )
            )
        store.audit(session, ws.id, user_id, "safety.recall_recorded", None, recall=recall.id)
        session.flush()
        deadlines = session.scalars(
            select(RecallDeadline)
            .where(RecallDeadline.recall_id == recall.id)
            .order_by(RecallDeadline.due_at)
        ).all()
        summary = recall_summary(recall, deadlines, rt.settings.timezone)
        delivery.record(session, message_effects(rt, f"recall:{recall.id}:recorded", summary))
        return recall.id, {}


def mark_deadline_done(rt: Runtime, deadline_id: int, user_id: str) -> bool:
    with transaction(rt.sessions) as session:
        deadline = session.get(RecallDeadline, deadline_id)
        if deadline is None or deadline.done_at is not None:
            return False
        deadline.done_at, deadline.done_by = utcnow(), user_id
        recall = session.get(SafetyRecall, deadline.recall_id)
        assert recall is not None  # recall_id is a foreign key (a recall's deadlines go with it)
        store.audit(
            session,
            recall.workspace_id,
            user_id,
            "safety.recall_deadline_done",
            None,
            recall=recall.id,
            deadline=deadline.kind,
        )
        return True


MESSAGE_EFFECT = "safety.message"
SAFETY_EVENT = "postmortem_safety"


def recipients(rt: Runtime) -> list[str]:
    """The safety channel and officers hear about every safety event."""
    return [
        *([rt.settings.safety_channel] if rt.settings.safety_channel else []),
        *sorted(rt.settings.safety_officers),
    ]


def message_effects(rt: Runtime, key: str, message: dict[str, Any]) -> list[SideEffect]:
    """One outbox effect per recipient (each delivered, and retried, on its own); `key` names
    the event in the message's metadata, so a retry does not post it twice. The message is
    kept as built when the event happened: an alert says what was due then.

    Each recipient's messages are one outbox group, delivered in the order they were recorded:
    a sweep that finds an incident both 4 hours from its deadline and past it posted "deadline
    has passed" before "due in 4 hours" as often as not."""
    return [
        SideEffect(
            MESSAGE_EFFECT,
            {
                "channel": to,
                "dm": to in rt.settings.safety_officers,
                "key": key,
                "message": message,
            },
            group=f"safety:{to}",
        )
        for to in recipients(rt)
    ]


def deliver_message(rt: Runtime, effect: Claimed) -> None:
    to, key = str(effect.payload["channel"]), str(effect.payload["key"])
    message = dict(effect.payload["message"])
    if effect.attempt > 1:  # an interrupted attempt may have posted it
        where = (
            str(rt.client.conversations_open(users=to)["channel"]["id"])
            if effect.payload.get("dm")
            else to
        )
        if posted.find(rt.client, where, SAFETY_EVENT, key=key, to=to):
            return
    rt.client.chat_postMessage(
        channel=to, metadata=posted.metadata(SAFETY_EVENT, key=key, to=to), **message
    )


def scheduled_alerts(rt: Runtime) -> int:
    return send_alerts(rt)


CSV_COLUMNS = (
    "id",
    "product_name",
    "model",
    "batch_or_serials",
    "supplier",
    "aware_at",
    "what_happened",
    "location",
    "outcome",
    "caused_or_may_have",
    "exemption",
    "actions_taken",
    "report_status",
    "report_due_at",
    "submitted_on",
    "accc_reference",
    "status_reason",
    "reported_by",
)


def export_csv(rt: Runtime, team_id: str | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    with rt.sessions() as session:
        workspaces = [store.workspace(session, team_id).id] if team_id else None
        rows = (
            register(session, workspaces[0])
            if workspaces
            else list(session.scalars(select(SafetyIncident).order_by(SafetyIncident.id)))
        )
        for row in rows:
            writer.writerow([_cell(getattr(row, c)) for c in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    text = "" if value is None else str(value)
    # Spreadsheets run cells that start with these as formulas.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text

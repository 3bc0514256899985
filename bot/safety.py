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

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.runtime import Runtime
from bot.scheduler import job
from bot.views.safety import alert_message
from storage import reviews as store
from storage.db import transaction
from storage.safety import SafetyAlert, SafetyIncident, register
from storage.types import utcnow
from workflows.au import product_safety as ps

log = logging.getLogger(__name__)


def _pick(values: dict[str, Any], block: str, key: str = "value") -> Any:
    element = values.get(block, {}).get("v", {})
    if key == "option":
        return (element.get("selected_option") or {}).get("value")
    return element.get(key)


def incident_from_state(values: dict[str, Any], tz: str) -> tuple[ps.Incident | None,
                                                                   dict[str, str]]:
    """The modal's answers as an Incident, or the errors to show next to the fields."""
    day, clock = _pick(values, "aware_date", "selected_date"), _pick(values, "aware_time",
                                                                       "selected_time")
    if not day or not clock:
        return None, {"aware_date": "Give the date and time you became aware."}
    aware = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock),
                             tzinfo=ZoneInfo(tz))
    exemption = _pick(values, "exemption", "option")
    batches = tuple(b.strip() for b in (_pick(values, "batch") or "").split(",") if b.strip())
    incident = ps.Incident(
        product_name=(_pick(values, "product_name") or "").strip(), aware_at=aware,
        what_happened=(_pick(values, "what_happened") or "").strip(),
        outcome=_pick(values, "outcome", "option") or "other",
        caused_or_may_have=_pick(values, "caused", "option") == "yes",
        model=(_pick(values, "model") or "").strip(), batch_or_serial_numbers=batches,
        supplier=(_pick(values, "supplier") or "").strip(),
        where=(_pick(values, "location") or "").strip(),
        exemption=None if exemption in (None, "none") else exemption,
        actions_taken=(_pick(values, "actions") or "").strip())
    errors = ps.validate_incident(incident, utcnow())
    blocks = {"aware_at": "aware_date", "product_name": "product_name",
              "what_happened": "what_happened"}
    return incident, {blocks.get(k, "product_name"): m for k, m in errors.items()}


def record(rt: Runtime, team_id: str, user_id: str, incident: ps.Incident, tz: str) -> int:
    required, reason = ps.report_required(incident)
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team_id)
        row = SafetyIncident(
            workspace_id=ws.id, product_name=incident.product_name, model=incident.model,
            batch_or_serials=", ".join(incident.batch_or_serial_numbers),
            supplier=incident.supplier, aware_at=incident.aware_at, aware_tz=tz,
            what_happened=incident.what_happened, location=incident.where,
            outcome=incident.outcome, caused_or_may_have=incident.caused_or_may_have,
            exemption=incident.exemption, actions_taken=incident.actions_taken,
            report_status="due" if required else "not_required",
            report_due_at=ps.report_due(incident.aware_at, rt.settings.state) if required
            else None, status_reason=reason, reported_by=user_id)
        session.add(row)
        session.flush()
        store.audit(session, ws.id, user_id, "safety.incident_recorded", None,
                    incident=row.id, report_required=required)
        return row.id


def mark_reported(rt: Runtime, incident_id: int, user_id: str, submitted_on: date,
                  reference: str) -> bool:
    with transaction(rt.sessions) as session:
        row = session.get(SafetyIncident, incident_id)
        if row is None or row.report_status == "submitted":
            return False
        row.report_status, row.submitted_on, row.accc_reference = (
            "submitted", submitted_on, reference)
        store.audit(session, row.workspace_id, user_id, "safety.reported", None,
                    incident=row.id, accc_reference=reference)
        return True


def _alerts_due(row: SafetyIncident, now: datetime) -> list[tuple[str, bool]]:
    """Alerts that have come due, each with whether to send it: at once, then 24 h and 4 h
    before the deadline and when it passes. Only the latest deadline alert is sent; the ones
    it supersedes (recorded late, or the bot was down) are recorded without sending."""
    kinds = [("reported", True)]
    if row.report_status == "due" and row.report_due_at:
        day_before, hours_before = ps.reminder_times(row.report_due_at)
        passed = [k for k, at in (("24h", day_before), ("4h", hours_before),
                                  ("overdue", row.report_due_at)) if at <= now]
        kinds += [(k, k == passed[-1]) for k in passed]
    return kinds


def _claim(session: Any, incident_id: int, kind: str, now: datetime, send: bool) -> bool:
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    stmt = (insert(SafetyAlert).values(incident_id=incident_id, kind=kind, claimed_at=now,
                                       status="claimed" if send else "skipped")
            .on_conflict_do_nothing(index_elements=["incident_id", "kind"])
            .returning(SafetyAlert.id))
    return session.execute(stmt).scalar() is not None and send


def send_alerts(rt: Runtime, now: datetime | None = None) -> int:
    """Alert the safety channel and officers about every incident alert that has come due."""
    now = now or utcnow()
    recipients = [*([rt.settings.safety_channel] if rt.settings.safety_channel else []),
                  *sorted(rt.settings.safety_officers)]
    to_send: list[tuple[str, dict[str, Any]]] = []
    with transaction(rt.sessions) as session:
        window = now + timedelta(hours=25)  # only incidents with something due soon or open
        rows = session.scalars(select(SafetyIncident).where(
            (SafetyIncident.report_status == "due") & (SafetyIncident.report_due_at <= window)
            | (SafetyIncident.created_at >= now - timedelta(days=1)))).all()
        for row in rows:
            for kind, send in _alerts_due(row, now):
                if _claim(session, row.id, kind, now, send):
                    to_send.append((kind, alert_message(kind, row, rt.settings.timezone,
                                                        row.status_reason)))
    for _kind, message in to_send:
        for recipient in recipients:
            try:
                rt.client.chat_postMessage(channel=recipient, **message)
            except SlackApiError as exc:
                log.error("safety alert to %s failed: %s", recipient, exc.response.get("error"))
    return len(to_send)


@job("safety", 60)
def scheduled_alerts(rt: Runtime) -> int:
    return send_alerts(rt)


CSV_COLUMNS = ("id", "product_name", "model", "batch_or_serials", "supplier", "aware_at",
               "what_happened", "location", "outcome", "caused_or_may_have", "exemption",
               "actions_taken", "report_status", "report_due_at", "submitted_on",
               "accc_reference", "status_reason", "reported_by")


def export_csv(rt: Runtime, team_id: str | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    with rt.sessions() as session:
        workspaces = [store.workspace(session, team_id).id] if team_id else None
        rows = (register(session, workspaces[0]) if workspaces
                else list(session.scalars(select(SafetyIncident).order_by(SafetyIncident.id))))
        for row in rows:
            writer.writerow([_cell(getattr(row, c)) for c in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    text = "" if value is None else str(value)
    # Spreadsheets run cells that start with these as formulas.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text

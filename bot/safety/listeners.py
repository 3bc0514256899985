"""`/postmortem safety`: the product safety register (report, list open, mark reported)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.reviews.views.start_modal import start_view
from bot.runtime import Runtime
from bot.safety import service as safety
from bot.safety import views
from bot.slack import state
from storage import reviews as store
from storage import safety as register_store
from storage.db import transaction
from storage.safety import SafetyIncident


def register_message(rt: Runtime, team_id: str) -> dict:
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team_id)
        deadlines = [
            (d, session.get(register_store.SafetyRecall, d.recall_id))
            for d in register_store.open_recall_deadlines(session, ws.id)
        ]
        return views.register_message(
            register_store.register(session, ws.id, open_only=True), rt.settings.timezone, deadlines
        )


def safety_command(
    rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient
) -> None:
    respond(**register_message(rt, command["team_id"]))


def open_report(ack: Ack, body: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    tz = rt.people.timezone(body["user"]["id"], rt.settings.timezone)
    client.views_open(trigger_id=body["trigger_id"], view=views.report_modal(tz))


def report_submitted(ack: Ack, body: dict, view: dict, client: WebClient, rt: Runtime) -> None:
    user_id = body["user"]["id"]
    tz = view["private_metadata"] or rt.settings.timezone  # looked up when it opened
    incident, errors = safety.incident_from_state(view["state"]["values"], tz)
    if errors or incident is None:
        ack(response_action="errors", errors=errors)
        return
    safety.record(rt, body["team"]["id"], user_id, incident, tz)
    ack()
    # Claims the new incident's alert and records its messages for the outbox (no Slack call
    # here); if this process dies first, the minutely sweep claims it instead.
    safety.send_alerts(rt)


def open_recall(ack: Ack, body: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    tz = rt.people.timezone(body["user"]["id"], rt.settings.timezone)
    client.views_open(trigger_id=body["trigger_id"], view=views.recall_modal(tz))


def recall_submitted(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    user_id = body["user"]["id"]
    tz = view["private_metadata"] or rt.settings.timezone  # looked up when it opened
    recall_id, errors = safety.record_recall(
        rt, body["team"]["id"], user_id, view["state"]["values"], tz
    )
    if errors or recall_id is None:
        ack(response_action="errors", errors=errors)
        return
    ack()
    rt.delivery_due.set()  # the recall's summary was recorded with it, for the outbox


def deadline_done(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    user_id = body["user"]["id"]
    done = safety.mark_deadline_done(rt, int(action["value"]), user_id)
    channel = (body.get("channel") or {}).get("id") or user_id
    client.chat_postEphemeral(
        channel=channel,
        user=user_id,
        text=("Marked done." if done else "That deadline was already marked done."),
    )


def mark_clicked(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    with transaction(rt.sessions) as session:
        row = session.get(SafetyIncident, int(action["value"]))
        product = row.product_name if row else ""
    if row is not None:
        tz = rt.people.timezone(body["user"]["id"], rt.settings.timezone)
        client.views_open(
            trigger_id=body["trigger_id"], view=views.reported_modal(row.id, product, tz)
        )


def reported(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    values = view["state"]["values"]
    incident_id, _, tz = view["private_metadata"].partition(" ")
    tz = tz or rt.settings.timezone  # a form opened before the timezone rode along
    submitted = state.date(values, "submitted_on")
    reference = state.text(values, "reference")
    errors = {}
    if not submitted:
        errors["submitted_on"] = "Give the date the report was submitted."
    elif date.fromisoformat(submitted) > datetime.now(ZoneInfo(tz)).date():
        errors["submitted_on"] = "The submission date can't be in the future."
    if not reference:
        errors["reference"] = "Give the ACCC reference number."
    if errors or not submitted:  # (no date has its error above)
        ack(response_action="errors", errors=errors)
        return
    safety.mark_reported(
        rt,
        int(incident_id),
        body["user"]["id"],
        date.fromisoformat(submitted),
        reference,
    )
    ack()


def start_review(ack: Ack, body: dict, action: dict, client: WebClient, rt: Runtime) -> None:
    ack()
    with transaction(rt.sessions) as session:
        row = session.get(SafetyIncident, int(action["value"]))
        title = f"Product safety incident: {row.product_name}" if row else ""
    client.views_open(
        trigger_id=body["trigger_id"],
        view=start_view(
            rt.registry.all(),
            user_id=body["user"]["id"],
            channel_id=(body.get("channel") or {}).get("id", ""),
            workflow_key="support_postmortem",
            title=title,
        ),
    )


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.action(views.OPEN_REPORT)(open_report)
    app.view(views.REPORT_CALLBACK)(report_submitted)
    app.action(views.OPEN_RECALL)(open_recall)
    app.view(views.RECALL_CALLBACK)(recall_submitted)
    app.action(views.DEADLINE_DONE)(deadline_done)
    app.action(views.MARK_REPORTED)(mark_clicked)
    app.view(views.REPORTED_CALLBACK)(reported)
    app.action(views.START_REVIEW)(start_review)

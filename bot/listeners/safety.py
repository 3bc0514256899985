"""`/postmortem safety`: the product safety register (report, list open, mark reported)."""

from __future__ import annotations

from datetime import date

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import safety
from bot.listeners.commands import subcommand
from bot.runtime import Runtime
from bot.views import safety as views
from bot.views.start_modal import start_view
from storage import reviews as store
from storage import safety as register_store
from storage.db import transaction
from storage.safety import SafetyIncident


def register_message(rt: Runtime, team_id: str) -> dict:
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, team_id)
        deadlines = [(d, session.get(register_store.SafetyRecall, d.recall_id))
                     for d in register_store.open_recall_deadlines(session, ws.id)]
        return views.register_message(register_store.register(session, ws.id, open_only=True),
                                       rt.settings.timezone, deadlines)


@subcommand("safety")
def safety_command(rt: Runtime, command: dict, rest: str, respond: Respond,
                   client: WebClient) -> None:
    respond(**register_message(rt, command["team_id"]))


def register(app: App, rt: Runtime) -> None:
    @app.action(views.OPEN_REPORT)
    def open_report(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        tz = rt.people.timezone(body["user"]["id"], rt.settings.timezone)
        client.views_open(trigger_id=body["trigger_id"], view=views.report_modal(tz))

    @app.view(views.REPORT_CALLBACK)
    def report_submitted(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        user_id = body["user"]["id"]
        tz = view["private_metadata"] or rt.settings.timezone  # looked up when it opened
        incident, errors = safety.incident_from_state(view["state"]["values"], tz)
        if errors or incident is None:
            ack(response_action="errors", errors=errors)
            return
        safety.record(rt, body["team"]["id"], user_id, incident, tz)
        ack()
        safety.send_alerts(rt)

    @app.action(views.OPEN_RECALL)
    def open_recall(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        tz = rt.people.timezone(body["user"]["id"], rt.settings.timezone)
        client.views_open(trigger_id=body["trigger_id"], view=views.recall_modal(tz))

    @app.view(views.RECALL_CALLBACK)
    def recall_submitted(ack: Ack, body: dict, view: dict) -> None:
        user_id = body["user"]["id"]
        tz = view["private_metadata"] or rt.settings.timezone  # looked up when it opened
        recall_id, errors = safety.record_recall(rt, body["team"]["id"], user_id,
                                                 view["state"]["values"], tz)
        if errors or recall_id is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        safety.notify(rt, safety.recall_recorded_message(rt, recall_id))

    @app.action(views.DEADLINE_DONE)
    def deadline_done(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        done = safety.mark_deadline_done(rt, int(action["value"]), user_id)
        channel = (body.get("channel") or {}).get("id") or user_id
        client.chat_postEphemeral(channel=channel, user=user_id, text=(
            "Marked done." if done else "That deadline was already marked done."))

    @app.action(views.MARK_REPORTED)
    def mark_clicked(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        with transaction(rt.sessions) as session:
            row = session.get(SafetyIncident, int(action["value"]))
            product = row.product_name if row else ""
        if row is not None:
            client.views_open(trigger_id=body["trigger_id"],
                              view=views.reported_modal(row.id, product))

    @app.view(views.REPORTED_CALLBACK)
    def reported(ack: Ack, body: dict, view: dict) -> None:
        values = view["state"]["values"]
        submitted = values["submitted_on"]["v"].get("selected_date")
        reference = (values["reference"]["v"].get("value") or "").strip()
        errors = {}
        if not submitted:
            errors["submitted_on"] = "Give the date the report was submitted."
        elif date.fromisoformat(submitted) > date.today():  # noqa: DTZ011 - a calendar day
            errors["submitted_on"] = "The submission date can't be in the future."
        if not reference:
            errors["reference"] = "Give the ACCC reference number."
        if errors:
            ack(response_action="errors", errors=errors)
            return
        safety.mark_reported(rt, int(view["private_metadata"]), body["user"]["id"],
                             date.fromisoformat(submitted), reference)
        ack()

    @app.action(views.START_REVIEW)
    def start_review(ack: Ack, body: dict, action: dict, client: WebClient) -> None:
        ack()
        with transaction(rt.sessions) as session:
            row = session.get(SafetyIncident, int(action["value"]))
            title = f"Product safety incident: {row.product_name}" if row else ""
        client.views_open(trigger_id=body["trigger_id"], view=start_view(
            rt.registry.all(), user_id=body["user"]["id"],
            channel_id=(body.get("channel") or {}).get("id", ""),
            workflow_key="support_postmortem", title=title))


"""`/postmortem digest`: the next meeting and a preview of its digest; admins manage the schedule.

Everyone sees the preview (ephemeral). "Post now", "Skip this meeting" and "Change schedule"
are shown to admins only, and every one of them is checked again on the server (a button can be
replayed by anyone who saw it).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.digest import service as digest
from bot.digest import views
from bot.runtime import Runtime
from bot.slack import state
from bot.slack.text import escape
from storage.db import transaction
from storage.types import utcnow
from workflows.meetings import format_schedule, upcoming

log = logging.getLogger(__name__)

NOT_ADMIN = "Only admins can {what}: ask a Slack workspace admin or one of POSTMORTEM_ADMINS."


def preview_message(rt: Runtime, team: str, user_id: str) -> dict[str, Any]:
    now = utcnow()
    p = digest.preview(rt, team, now)
    where = f"<#{p.settings.channel}>" if p.settings.channel else None
    if p.meeting is None:
        head = "*No post-mortem meeting is scheduled in the next year* (all are skipped)."
    else:
        m = p.meeting
        head = f"*Next post-mortem meeting:* {views.when(m.starts_at)}" + (
            f" · digest in {where} at {views.when(m.post_at)}" if where else ""
        )
    if where is None:
        head += "\n*No digest channel is set yet*: an admin can choose one with *Change schedule*."
    head += f"\n{escape(p.settings.describe())}. Coming up:"
    return views.preview_message(
        next_line=head,
        schedule_lines=format_schedule(
            upcoming(p.schedule, now, 5),
            day=lambda d: views.day(d, now.astimezone(p.schedule.zone).date()),
        ),
        digest=p.message,
        admin=rt.is_admin(user_id),
        meeting_key=p.meeting.key if p.meeting else None,
    )


def digest_command(
    rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient
) -> None:
    respond(**preview_message(rt, command["team_id"], command["user_id"]))


def _settings(rt: Runtime, team: str) -> digest.DigestSettings:
    with transaction(rt.sessions) as session:
        return digest.load_settings(session, team, rt)[1]


def skip_errors(
    rt: Runtime, team: str, key: str, values: dict[str, Any]
) -> tuple[dict[str, str], dict[str, Any]]:
    """Validate the skip/move modal; the changes to save when there are no errors."""
    reason = state.text(values, "reason")
    move_raw = state.date(values, "move_to")
    settings = _settings(rt, team)
    schedule = settings.schedule(rt.settings.state)
    now = utcnow()
    meeting = digest.meeting_by_key(schedule, key, now)
    if meeting is None:
        return {"reason": "That meeting has already started or is no longer on the schedule."}, {}
    original = date.fromisoformat(key)
    skips, moves = dict(settings.skips), dict(settings.moves)
    skips.pop(original, None)
    moves.pop(original, None)
    if move_raw:
        target = date.fromisoformat(move_raw)
        if target < now.astimezone(schedule.zone).date():
            return {"move_to": "Choose a day that has not passed."}, {}
        taken = {m.date for m in upcoming(schedule, now, 12) if not m.skipped and m.key != key}
        if target in taken:
            return {"move_to": "There is already a meeting that day."}, {}
        if target != original:
            moves[original] = target
    else:
        if not reason:
            return {"reason": "Say why there is no meeting (the digest channel will see it)."}, {}
        skips[original] = reason
    return {}, {"skips": skips, "moves": moves}


def schedule_errors(values: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Validate the schedule modal; the changes to save when there are no errors."""
    errors: dict[str, str] = {}
    channel = state.conversation(values, "channel")
    if not channel:
        errors["channel"] = "Choose the channel the digest is posted in."
    every = state.option(values, "every_weeks")
    first_raw = state.date(values, "first_meeting")
    first = date.fromisoformat(first_raw) if first_raw else None
    if first is None or first.weekday() != 2:
        errors["first_meeting"] = "Choose a Wednesday: meetings are held on Wednesdays."
    at_raw = state.time(values, "time")
    if not at_raw:
        errors["time"] = "Choose the meeting time."
    tz = state.text(values, "tz")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        errors["tz"] = "Use a time zone name such as Australia/Sydney or Australia/Perth."
    hours_raw = state.text(values, "hours_before")
    if not hours_raw.isdigit() or not 1 <= int(hours_raw) <= 168:
        errors["hours_before"] = "Give a whole number of hours from 1 to 168 (a week)."
    if errors or not at_raw:  # (no time has its error above)
        return errors, {}
    return {}, {
        "channel": channel,
        "every_weeks": int(every or 2),
        "first_meeting": first,
        "time": time.fromisoformat(at_raw),
        "tz": tz,
        "hours_before": int(hours_raw),
    }


def refused(rt: Runtime, body: dict, respond: Respond, what: str) -> bool:
    if rt.is_admin(body["user"]["id"]):
        return False
    respond(text=NOT_ADMIN.format(what=what), response_type="ephemeral", replace_original=False)
    return True


def post_now(ack: Ack, body: dict, action: dict, respond: Respond, rt: Runtime) -> None:
    ack()
    if refused(rt, body, respond, "post the digest now"):
        return
    team, user = body["team"]["id"], body["user"]["id"]
    schedule = _settings(rt, team).schedule(rt.settings.state)
    meeting = digest.meeting_by_key(schedule, action.get("value") or "", utcnow())
    if meeting is None:
        respond(
            text="That meeting has already started or is no longer on the schedule: "
            "run `/postmortem digest` again.",
            replace_original=False,
        )
        return
    result = digest.post(rt, team, by=user, meeting=meeting)
    texts = {
        "posted": f"Posted the digest for the meeting on {views.when(meeting.starts_at)} "
        f"in <#{result.channel}>.",
        "already": f"The digest for the meeting on {views.when(meeting.starts_at)} is "
        f"already in <#{result.channel}>: it is posted once per meeting.",
        "no_channel": "No digest channel is set: choose one with *Change schedule*.",
        "failed": f"Slack refused the digest ({escape(result.detail)}); it will be "
        "retried before the meeting.",
    }
    respond(text=texts.get(result.status, escape(result.detail)), replace_original=False)


def skip_clicked(
    ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient, rt: Runtime
) -> None:
    ack()
    if refused(rt, body, respond, "skip a meeting"):
        return
    schedule = _settings(rt, body["team"]["id"]).schedule(rt.settings.state)
    meeting = digest.meeting_by_key(schedule, action.get("value") or "", utcnow())
    if meeting is None:
        respond(
            text="That meeting has already started: run `/postmortem digest` again.",
            replace_original=False,
        )
        return
    client.views_open(
        trigger_id=body["trigger_id"],
        view=views.skip_modal(meeting.key, f"The meeting on {views.when(meeting.starts_at)}"),
    )


def schedule_clicked(
    ack: Ack, body: dict, respond: Respond, client: WebClient, rt: Runtime
) -> None:
    ack()
    if refused(rt, body, respond, "change the meeting schedule"):
        return
    s = _settings(rt, body["team"]["id"])
    client.views_open(
        trigger_id=body["trigger_id"],
        view=views.schedule_modal(
            channel=s.channel,
            every_weeks=s.every_weeks,
            first_meeting=s.first_meeting,
            time=f"{s.time:%H:%M}",
            tz=s.tz,
            hours_before=s.hours_before,
        ),
    )


def skip_submitted(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    user, team = body["user"]["id"], body["team"]["id"]
    if not rt.is_admin(user):
        ack(response_action="errors", errors={"reason": "Only admins can skip meetings."})
        return
    errors, changes = skip_errors(
        rt, team, view.get("private_metadata") or "", view["state"]["values"]
    )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    digest.save_settings(rt, team, user, **changes)
    ack()


def schedule_submitted(ack: Ack, body: dict, view: dict, rt: Runtime) -> None:
    user, team = body["user"]["id"], body["team"]["id"]
    if not rt.is_admin(user):
        ack(response_action="errors", errors={"channel": "Only admins can change the schedule."})
        return
    errors, changes = schedule_errors(view["state"]["values"])
    if errors:
        ack(response_action="errors", errors=errors)
        return
    current = _settings(rt, team)
    probe = replace(current, **changes, skips={}, moves={}).schedule(rt.settings.state)
    # Skips and moves of meetings the new cadence no longer has would only confuse.
    changes["skips"] = {d: r for d, r in current.skips.items() if probe.is_on_cadence(d)}
    changes["moves"] = {d: m for d, m in current.moves.items() if probe.is_on_cadence(d)}
    digest.save_settings(rt, team, user, **changes)
    ack()


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.action(views.POST_NOW)(post_now)
    app.action(views.SKIP)(skip_clicked)
    app.action(views.SCHEDULE)(schedule_clicked)
    app.view(views.SKIP_CALLBACK)(skip_submitted)
    app.view(views.SCHEDULE_CALLBACK)(schedule_submitted)

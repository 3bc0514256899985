"""The Wednesday post-mortem meeting's digest: collect, render, post once, and the scheduled job.

Seed 001: "Every few weeks dedicated PostMortem meetings will be organized on Wednesday". The
team reads the digest in the channel before the meeting; it is the agenda. The cadence is pure
(workflows.meetings); this module reads the workspace's setting (seeded from the environment on
first start, then edited by admins in Slack), collects what happened since the channel's last
digest, and posts it.

Exactly once: the digest's row (unique on workspace, meeting, channel) is inserted before the
message is sent, so the scheduler on every replica, `postmortem-bot digest` and an admin's
"Post now" can race and only one posts. A digest whose window passed while the bot was down is
recorded as missed instead of arriving after the meeting began.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.digest import views
from bot.insights.service import post_digest_chart
from bot.runtime import Runtime
from bot.tickets.support import count_feature_requests
from storage import digests as store
from storage import reviews as reviews_store
from storage.db import transaction
from storage.models import WorkflowVersion, Workspace
from storage.types import utcnow
from workflows.meetings import (
    Meeting,
    MeetingSchedule,
    due_to_post,
    first_wednesday_on_or_after,
    missed_since,
    next_meeting,
    previous_meeting,
    upcoming,
)

log = logging.getLogger(__name__)

SETTINGS_KEY = "digest"
STALE_CLAIM = timedelta(minutes=10)
METADATA_EVENT = "postmortem_digest"
FETCH = 30  # rows read per section: more than a section ever shows, the rest are counted
SUPPORT = "support_postmortem"
SUMMARY_FIELDS = ("summary", "lessons")
LESSON_FIELDS = ("lessons", "summary")


# --- the workspace setting -------------------------------------------------------------------


@dataclass(frozen=True)
class DigestSettings:
    """settings["digest"] of a workspace: where and when the digest is posted."""

    channel: str | None
    first_meeting: date
    every_weeks: int = 2
    time: time = time(10, 0)
    tz: str = "Australia/Sydney"
    hours_before: int = 1
    skips: Mapping[date, str] = field(default_factory=dict)
    moves: Mapping[date, date] = field(default_factory=dict)
    updated_at: datetime = field(default_factory=utcnow)
    updated_by: str = "environment"

    def schedule(self, state: str) -> MeetingSchedule:
        return MeetingSchedule(
            first_meeting=self.first_meeting,
            every_weeks=self.every_weeks,
            time=self.time,
            tz=self.tz,
            post_before=timedelta(hours=self.hours_before),
            state=state,
            skip_holidays=True,
            skips=dict(self.skips),
            moves=dict(self.moves),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "first_meeting": self.first_meeting.isoformat(),
            "every_weeks": self.every_weeks,
            "time": f"{self.time:%H:%M}",
            "tz": self.tz,
            "hours_before": self.hours_before,
            "skips": {d.isoformat(): r for d, r in sorted(self.skips.items())},
            "moves": {d.isoformat(): m.isoformat() for d, m in sorted(self.moves.items())},
            "updated_at": self.updated_at.isoformat(),
            "updated_by": self.updated_by,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DigestSettings:
        return cls(
            channel=data.get("channel") or None,
            first_meeting=date.fromisoformat(data["first_meeting"]),
            every_weeks=int(data.get("every_weeks", 2)),
            time=time.fromisoformat(data.get("time", "10:00")),
            tz=data.get("tz") or "Australia/Sydney",
            hours_before=int(data.get("hours_before", 1)),
            skips={date.fromisoformat(k): v for k, v in (data.get("skips") or {}).items()},
            moves={
                date.fromisoformat(k): date.fromisoformat(v)
                for k, v in (data.get("moves") or {}).items()
            },
            updated_at=datetime.fromisoformat(data["updated_at"]),
            updated_by=data.get("updated_by", ""),
        )

    def describe(self) -> str:
        every = "every week" if self.every_weeks == 1 else f"every {self.every_weeks} weeks"
        hours = "1 hour" if self.hours_before == 1 else f"{self.hours_before} hours"
        return (
            f"Meetings {every} on Wednesday at {self.time:%H:%M} ({self.tz}); the digest "
            f"is posted {hours} before"
        )


def settings_from_env(config: Settings, *, now: datetime | None = None) -> DigestSettings:
    """The first-start setting from POSTMORTEM_DIGEST_CHANNEL, _MEETING_EVERY_WEEKS, ...

    The variables are checked once, in bot.config.load_settings, before the bot starts.
    """
    now = now or utcnow()
    first = config.first_meeting or first_wednesday_on_or_after(
        now.astimezone(ZoneInfo(config.timezone)).date()
    )
    return DigestSettings(
        channel=config.digest_channel,
        first_meeting=first,
        every_weeks=config.meeting_every_weeks,
        time=config.meeting_time,
        tz=config.timezone,
        updated_at=now,
        updated_by="environment",
    )


def load_settings(
    session: Session, team: str, rt: Runtime, now: datetime | None = None
) -> tuple[Workspace, DigestSettings]:
    """The workspace's digest setting, seeded from the environment the first time."""
    ws = reviews_store.workspace(session, team)
    saved = (ws.settings or {}).get(SETTINGS_KEY)
    if saved:
        return ws, DigestSettings.from_json(saved)
    seeded = settings_from_env(rt.settings, now=now)
    ws.settings = {**(ws.settings or {}), SETTINGS_KEY: seeded.to_json()}
    return ws, seeded


def save_settings(rt: Runtime, team: str, actor: str, **changes: Any) -> DigestSettings:
    """Change the setting under a row lock, so two admins' edits never undo each other."""
    with transaction(rt.sessions) as session:
        ws = session.scalar(select(Workspace).where(Workspace.team_id == team).with_for_update())
        if ws is None:
            ws = reviews_store.workspace(session, team)
        _, current = load_settings(session, team, rt)
        updated = replace(current, **changes, updated_at=utcnow(), updated_by=actor)
        updated.schedule(rt.settings.state)  # raises ValueError on a bad combination
        ws.settings = {**(ws.settings or {}), SETTINGS_KEY: updated.to_json()}
        reviews_store.audit(
            session,
            ws.id,
            actor,
            "digest.settings_changed",
            None,
            **{k: str(v) for k, v in changes.items()},
        )
        return updated


def meeting_by_key(schedule: MeetingSchedule, key: str, now: datetime) -> Meeting | None:
    """A meeting that has not started yet, by its key (its original date)."""
    return next((m for m in upcoming(schedule, now, 12) if m.key == key), None)


# --- collecting ------------------------------------------------------------------------------


class _Workflows:
    """Names and choice labels from the pinned definitions, read once per version."""

    def __init__(self, session: Session):
        self._session = session
        self._defs: dict[int, dict[str, Any]] = {}

    def definition(self, version_id: int) -> dict[str, Any]:
        if version_id not in self._defs:
            self._defs[version_id] = (
                self._session.scalar(
                    select(WorkflowVersion.definition).where(WorkflowVersion.id == version_id)
                )
                or {}
            )
        return self._defs[version_id]

    def name(self, version_id: int, key: str) -> str:
        return self.definition(version_id).get("name") or key

    def label(self, version_id: int, field_key: str, value: Any) -> str:
        for stage in self.definition(version_id).get("stages", []):
            for f in stage.get("fields", []):
                if f.get("key") == field_key:
                    for option in f.get("options") or []:
                        if option.get("value") == value:
                            return option.get("label") or str(value)
        return str(value)


def _first_answer(answers: dict[str, dict[str, Any]], keys: tuple[str, ...]) -> str:
    for key in keys:
        for stage_answers in answers.values():
            value = stage_answers.get(key)
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())
    return ""


def _review_entry(
    row: store.ReviewRow,
    wf: _Workflows,
    answers: dict[str, dict[str, Any]],
    fields: tuple[str, ...] = SUMMARY_FIELDS,
) -> views.ReviewEntry:
    return views.ReviewEntry(
        title=row.title,
        workflow=wf.name(row.workflow_version_id, row.workflow_key),
        owner_id=row.owner_id,
        summary=_first_answer(answers, fields),
        permalink=row.permalink,
    )


def collect(
    session: Session,
    workspace_id: int,
    schedule: MeetingSchedule,
    meeting: Meeting,
    covered_from: datetime,
    covered_to: datetime,
) -> views.DigestContent:
    """Everything the digest reports for [covered_from, covered_to)."""
    zone = schedule.zone
    today = covered_to.astimezone(zone).date()
    following = next_meeting(schedule, meeting.starts_at)
    due_by = following.date if following else meeting.date + timedelta(weeks=schedule.every_weeks)
    start, end = covered_from, covered_to
    wf = _Workflows(session)

    completed, n_completed = store.completed_reviews(session, workspace_id, start, end, FETCH)
    waiting, n_waiting = store.reviews_in_status(session, workspace_id, "in_review", FETCH)
    flagged, n_flagged = store.flagged_for_sharing(session, workspace_id, start, end, FETCH)
    issues, n_issues = store.follow_ups_of_kind(
        session, workspace_id, "escalation", start, end, FETCH
    )
    overdue, n_overdue = store.open_items_due(session, workspace_id, before=today, limit=FETCH)
    due_soon, n_due_soon = store.open_items_due(
        session, workspace_id, before=due_by + timedelta(days=1), on_or_after=today, limit=FETCH
    )
    done, n_done = store.items_completed(session, workspace_id, start, end, FETCH)

    ids = {r.id for r in (*completed, *waiting, *flagged)}
    answers = store.latest_answers_for(session, ids)
    # A later revision may have taken the flag off again: only the current answers count.
    lessons = [
        r for r in flagged if any(a.get("share_at_meeting") is True for a in answers[r.id].values())
    ]

    shared = {r.id for r in lessons}

    def items(rows: list[store.ItemRow]) -> tuple[views.ItemEntry, ...]:
        return tuple(
            views.ItemEntry(
                title=r.title,
                owner_id=r.owner_id,
                due=r.due_date,
                review=_review_entry(r.review, wf, {}),
            )
            for r in rows
        )

    sections = {
        "lessons": views.Listing(
            tuple(_review_entry(r, wf, answers[r.id], LESSON_FIELDS) for r in lessons),
            n_flagged - (len(flagged) - len(lessons)),
        ),
        "systemic": views.Listing(
            tuple(
                views.IssueEntry(
                    i.title, " ".join(i.detail.split()), _review_entry(i.review, wf, {})
                )
                for i in issues
            ),
            n_issues,
        ),
        "in_review": views.Listing(
            tuple(_review_entry(r, wf, answers[r.id]) for r in waiting), n_waiting
        ),
        "overdue": views.Listing(items(overdue), n_overdue),
        # A completed review whose lesson is shared above is counted, not listed twice.
        "completed": views.Listing(
            tuple(_review_entry(r, wf, answers[r.id]) for r in completed if r.id not in shared),
            n_completed,
            sum(1 for r in completed if r.id in shared),
        ),
        "due_soon": views.Listing(items(due_soon), n_due_soon),
        "done": views.Listing(items(done), n_done),
    }
    return views.DigestContent(
        meeting_starts_at=meeting.starts_at.astimezone(zone),
        covered_from=covered_from.astimezone(zone),
        covered_to=covered_to.astimezone(zone),
        next_meeting=following.date if following else None,
        sections=sections,
        figures=figures(session, workspace_id, start, end, zone, wf),
    )


def figures(
    session: Session, workspace_id: int, start: datetime, end: datetime, zone: Any, wf: _Workflows
) -> views.Figures:
    by_workflow = tuple(
        (wf.name(version, key), n)
        for key, version, n in store.completed_by_workflow(session, workspace_id, start, end)
    )
    counts = store.figure_counts(session, workspace_id, start, end, zone, ces_workflow=SUPPORT)
    categories: Counter[str] = Counter()
    for version, value, n in counts.categories:
        categories[wf.label(version, "category", value)] += n
    return views.Figures(
        by_workflow=by_workflow,
        by_category=tuple(sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))),
        closed_on_time=counts.closed_on_time,
        closed_with_due_date=counts.closed_with_due_date,
        ces_average=counts.ces_average,
        ces_count=counts.ces_count,
        feature_requests=count_feature_requests(session, workspace_id, since=start),
    )


def covered_start(
    session: Session, workspace_id: int, channel: str, schedule: MeetingSchedule, meeting: Meeting
) -> datetime:
    """Where this digest begins: the end of the channel's last digest, else the last meeting."""
    last = store.last_covered_to(session, workspace_id, channel)
    if last is not None:
        return last
    previous = previous_meeting(schedule, meeting)
    if previous is not None:
        return previous.post_at.astimezone(UTC)
    return (meeting.post_at - timedelta(weeks=schedule.every_weeks)).astimezone(UTC)


def render(
    content: views.DigestContent,
    settings: DigestSettings,
    names: Mapping[str, str] | None = None,
    templates_dir: Path | None = None,
) -> dict[str, Any]:
    return views.digest_message(
        content, every_weeks=settings.every_weeks, templates_dir=templates_dir, names=names
    )


def display_names(rt: Runtime, content: views.DigestContent) -> dict[str, str]:
    """The digest's people by name (users.info, cached), so each is @-mentioned only once."""
    ids: set[str] = set()
    for listing in content.sections.values():
        for entry in listing.entries:
            review = entry if isinstance(entry, views.ReviewEntry) else entry.review
            ids.add(getattr(entry, "owner_id", review.owner_id))
    names = {}
    for user_id in sorted(ids):
        profile = (rt.people.info(user_id) or {}).get("profile") or {}
        name = (profile.get("display_name") or profile.get("real_name") or "").strip()
        if name:
            names[user_id] = name
    return names


@dataclass(frozen=True)
class Preview:
    settings: DigestSettings
    schedule: MeetingSchedule
    meeting: Meeting | None
    message: dict[str, Any] | None


def preview(rt: Runtime, team: str, now: datetime | None = None) -> Preview:
    """The next meeting and its digest as it would be posted now (nothing is stored)."""
    now = now or utcnow()
    with transaction(rt.sessions) as session:
        ws, settings = load_settings(session, team, rt, now)
        schedule = settings.schedule(rt.settings.state)
        meeting = next_meeting(schedule, now)
        if meeting is None:
            return Preview(settings, schedule, None, None)
        start = covered_start(session, ws.id, settings.channel or "", schedule, meeting)
        content = collect(session, ws.id, schedule, meeting, min(start, now), now)
    return Preview(
        settings,
        schedule,
        meeting,
        render(content, settings, display_names(rt, content), rt.settings.templates_dir),
    )


# --- posting once ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PostResult:
    status: str  # posted, already, no_channel, no_meeting, failed
    meeting: Meeting | None = None
    channel: str | None = None
    ts: str | None = None
    detail: str = ""


def post(
    rt: Runtime,
    team: str,
    *,
    now: datetime | None = None,
    by: str = "scheduler",
    meeting: Meeting | None = None,
) -> PostResult:
    """Post the digest of `meeting` (default: the next one held) unless it is already posted."""
    now = now or utcnow()
    with transaction(rt.sessions) as session:
        ws, settings = load_settings(session, team, rt, now)
        schedule = settings.schedule(rt.settings.state)
        ws_id, channel = ws.id, settings.channel
    if channel is None:
        return PostResult("no_channel", detail="no digest channel is set")
    meeting = meeting or next_meeting(schedule, now)
    if meeting is None:
        return PostResult("no_meeting", channel=channel, detail="no meeting in the next year")
    with transaction(rt.sessions) as session:
        start = min(covered_start(session, ws_id, channel, schedule, meeting), now)
        digest_id = store.claim(
            session,
            workspace_id=ws_id,
            meeting_key=meeting.key,
            channel_id=channel,
            meeting_starts_at=meeting.starts_at,
            covered_from=start,
            covered_to=now,
            posted_by=by,
            now=now,
        )
        recovering = False
        if digest_id is None:
            row = store.find(session, ws_id, meeting.key, channel)
            retryable = row is not None and (
                row.status == store.FAILED
                or (row.status == store.CLAIMED and row.claimed_at < now - STALE_CLAIM)
            )
            if row is None or not retryable or not store.retake(session, row, now):
                return PostResult(
                    "already",
                    meeting,
                    channel,
                    row.ts if row else None,
                    detail=row.status if row else "",
                )
            digest_id, recovering = row.id, row.status == store.CLAIMED
            start = row.covered_from or start
        content = collect(session, ws_id, schedule, meeting, start, now)
    message = render(content, settings, display_names(rt, content), rt.settings.templates_dir)
    try:
        ts = _already_posted(rt, channel, digest_id) if recovering else None
        found = ts is not None
        if ts is None:
            post_digest_chart(rt, channel, ws_id, start, now, schedule.zone)  # image first
            ts = rt.client.chat_postMessage(
                channel=channel,
                metadata={
                    "event_type": METADATA_EVENT,
                    "event_payload": {"digest_id": digest_id, "meeting": meeting.key},
                },
                **message,
            )["ts"]
    except SlackApiError as exc:
        error = exc.response.get("error") or "unknown_error"
        with transaction(rt.sessions) as session:
            row = session.get(store.Digest, digest_id)
            assert row is not None  # claimed above, and nothing deletes a digest row
            row.status, row.reason = store.FAILED, error
        log.error("digest for meeting %s in %s failed: %s", meeting.key, channel, error)
        rt.metrics.digests.labels("failed").inc()
        return PostResult("failed", meeting, channel, detail=error)
    with transaction(rt.sessions) as session:
        row = session.get(store.Digest, digest_id)
        assert row is not None  # claimed above, and nothing deletes a digest row
        row.status, row.ts, row.posted_at, row.reason = store.POSTED, ts, utcnow(), None
        row.covered_to = now
        reviews_store.audit(
            session, ws_id, by, "digest.posted", meeting=meeting.key, channel=channel, ts=ts
        )
    if found:  # an interrupted run had posted it: recorded now, not posted again
        return PostResult("already", meeting, channel, ts, detail="posted")
    rt.metrics.digests.labels("posted").inc()
    return PostResult("posted", meeting, channel, ts)


def _already_posted(rt: Runtime, channel: str, digest_id: int) -> str | None:
    """Did an interrupted run post it before it could record so? Look for its metadata."""
    history = rt.client.conversations_history(channel=channel, limit=100, include_all_metadata=True)
    messages: list[dict[str, Any]] = history.get("messages", [])
    for message in messages:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if payload.get("digest_id") == digest_id:
            return message["ts"]
    return None


# --- the scheduled job -----------------------------------------------------------------------


@dataclass
class TickResult:
    posted: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.posted or self.missed)


def tick(rt: Runtime, now: datetime | None = None) -> TickResult:
    """Record digests missed while the bot was down; post the one due now (once)."""
    now = now or utcnow()
    result = TickResult()
    team = rt.team_id()
    with transaction(rt.sessions) as session:
        ws, settings = load_settings(session, team, rt, now)
        if settings.channel is None:
            return result
        schedule = settings.schedule(rt.settings.state)
        last = store.last_recorded(session, ws.id, settings.channel)
        since = max(settings.updated_at, last.meeting_starts_at) if last else settings.updated_at
        for meeting in missed_since(schedule, since, now):
            if store.claim(
                session,
                workspace_id=ws.id,
                meeting_key=meeting.key,
                channel_id=settings.channel,
                meeting_starts_at=meeting.starts_at,
                status=store.MISSED,
                now=now,
                reason="the bot was not running between posting time and the meeting",
            ):
                result.missed.append(meeting.key)
                log.warning(
                    "digest for the meeting of %s was missed (bot not running)", meeting.key
                )
        # A posted (or missed) meeting is settled; a failed or claimed one may need a retry.
        settled = last.meeting_key if last and last.status in (store.POSTED, store.MISSED) else None
    if result.missed:  # counted once recorded (committed)
        rt.metrics.digests.labels("missed").inc(len(result.missed))
    due = due_to_post(schedule, now, settled)
    if due is not None and post(rt, team, now=now, meeting=due).status == "posted":
        result.posted.append(due.key)
    return result


def scheduled(rt: Runtime) -> TickResult:
    result = tick(rt)
    if result:
        log.info("digest: posted %s, missed %s", result.posted, result.missed)
    return result

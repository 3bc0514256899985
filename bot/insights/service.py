"""Collecting the insights, uploading their charts, and the hooks App Home and the digest call.

The figures come from storage/insights.py (grouped SQL) and are shaped by workflows/insights.py;
this module knows the definitions (which decisions send work back, which fields are a budget),
the workspace's timezone and CES scale, and Slack's files upload v2 flow.

A chart in Slack is a file. An ephemeral answer cannot carry one, and a file uploaded without a
channel is the bot's alone (an image block pointing at it is refused), so the command's chart
goes to the asker's direct messages with the app, where only they see it, and the ephemeral
answer shows it from there. The digest's chart is uploaded to the digest channel, with alt text,
just before the digest.
"""

from __future__ import annotations

import logging
import threading
import time as clock
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.insights import charts, views
from bot.runtime import Runtime
from storage import insights as store
from storage import reviews as reviews_store
from storage.db import transaction
from storage.models import Workspace
from workflows.insights import (
    BudgetMonth,
    CesPoint,
    Engagement,
    Insights,
    ItemCounts,
    Lesson,
    Period,
    Repeat,
    add_months,
    median,
    months_between,
    parse_period,
    waited,
)
from workflows.loader import Registry
from workflows.model import NEXT
from workflows.reports import slug

log = logging.getLogger(__name__)

# Errors after which no file will work here (the answer then goes without its chart).
NO_FILES = frozenset(
    {
        "missing_scope",
        "not_allowed_token_type",
        "file_uploads_disabled",
        "file_uploads_except_images_disabled",
        "not_allowed",
        "restricted_action",
        "method_not_supported_for_channel_type",
        "not_in_channel",
        "channel_not_found",
        "is_archived",
    }
)
ALT_TEXT_LIMIT = 1000  # files.getUploadURLExternal's alt_txt
TREND_MONTHS = 6


# --- what the definitions and settings say ---------------------------------------------------


@dataclass(frozen=True)
class Definitions:
    """What the figures need from the workflow definitions."""

    names: Mapping[str, str]
    loops: tuple[tuple[str, str, str], ...]  # (workflow, decision, option) that sends work back
    loop_labels: Mapping[str, str]
    budgets: tuple[tuple[str, str, str, str, str], ...]
    workflow_tags: frozenset[str]


def definitions(registry: Registry) -> Definitions:
    loops, labels, budgets = [], {}, []
    for wf in registry.all():
        roles: dict[str, tuple[str, str]] = {}
        for stage in wf.stages:
            for f in stage.fields:
                if f.role in ("budget", "actual"):
                    roles.setdefault(f.role, (stage.key, f.key))
            for decision in stage.decisions:
                for option in decision.options:
                    if (
                        option.goto != NEXT
                        and option.goto in {s.key for s in wf.stages}
                        and wf.index(option.goto) <= wf.index(stage.key)
                    ):
                        loops.append((wf.key, decision.key, option.value))
                        labels[decision.key] = f"{stage.title}: {option.label}"
        if "budget" in roles and "actual" in roles:
            budgets.append((wf.key, *roles["budget"], *roles["actual"]))
    return Definitions(
        names={wf.key: wf.name for wf in registry.all()},
        loops=tuple(loops),
        loop_labels=labels,
        budgets=tuple(budgets),
        workflow_tags=frozenset(slug(wf.key.split("_")[0]) for wf in registry.all()),
    )


def zone_of(ws: Workspace, fallback: str) -> ZoneInfo:
    """The team's timezone: the meeting's (digest setting), else the deployment's."""
    name = ((ws.settings or {}).get("digest") or {}).get("tz") or fallback
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(fallback)


def ces_scale(ws: Workspace) -> tuple[int, bool]:
    """(default scale, higher is easier) from settings["tickets"] (workflows.tickets.CesRules)."""
    saved = (ws.settings or {}).get("tickets") or {}
    try:
        scale = int(saved.get("ces_scale", 7))
    except (TypeError, ValueError):
        scale = 7
    return (
        scale if 2 <= scale <= 10 else 7,
        saved.get("ces_direction", "higher_is_easier") != "lower_is_easier",
    )


# --- collecting ------------------------------------------------------------------------------


def period_for(session: Session, workspace_id: int, text: str, today: date) -> Period:
    """The period a person typed (PeriodError when unreadable); "all" starts at the first
    review."""
    first = store.first_review_at(session, workspace_id) if "all" in text.lower() else None
    return parse_period(text, today, earliest=first.date() if first else None)


def collect(
    session: Session, ws: Workspace, period: Period, zone: tzinfo, now: datetime, defs: Definitions
) -> Insights:
    """Every figure of the period, a handful of grouped queries."""
    start, end = period.bounds(zone)
    today = now.astimezone(zone).date()
    started_rows, completed_rows = store.reviews_by_month(session, ws.id, start, end, zone)
    started: dict[str, dict[str, int]] = {}
    completed: dict[str, dict[str, int]] = {}
    for rows, into in ((started_rows, started), (completed_rows, completed)):
        for key, month, n in rows:
            into.setdefault(key, {})[month] = n
    items = {
        r.month: ItemCounts(r.on_time, r.late, r.overdue, r.open)
        for r in store.items_by_due_month(
            session, ws.id, period.start, period.end, today, zone, now
        )
    }
    days = store.days_to_last_action(session, ws.id, start, end)
    scale, easier = ces_scale(ws)
    ces = tuple(
        CesPoint(r.month, r.category, r.customer_type, r.average, r.tickets)
        for r in store.ces_by_month(
            session, ws.id, start, end, zone, default_scale=scale, higher_is_easier=easier
        )
    )
    ignore = defs.workflow_tags | {slug(t) for t in store.theme_teams(session, ws.id)}
    themes, repeat_months = store.repeat_themes(session, ws.id, start, end, zone, ignore=ignore)
    loop_rows, engagements = store.sent_back(session, ws.id, start, end, defs.loops)
    by_engagement: dict[int, tuple[str, str | None, dict[str, int]]] = {}
    for row in loop_rows:
        by_engagement.setdefault(row.review_id, (row.title, row.link, {}))[2][row.decision_key] = (
            row.times
        )
    loops = sorted(
        (Engagement(i, t, link, counts) for i, (t, link, counts) in by_engagement.items()),
        key=lambda e: (-e.total, e.review_id),
    )
    budget = tuple(
        BudgetMonth(
            b.month,
            b.reviews,
            b.over_budget,
            b.budget_incl,
            b.budget_excl,
            b.actual_incl,
            b.actual_excl,
        )
        for b in store.budget_vs_actual(session, ws.id, start, end, zone, defs.budgets)
    )
    return Insights(
        period=period,
        months=tuple(period.months()),
        workflows=dict(defs.names),
        started=started,
        completed=completed,
        items=items,
        median_days_to_last_action=median(waited(d) for d in days),
        reviews_with_all_actions_done=len(days),
        ces=ces,
        stale_tickets=store.stale_tickets(session, ws.id, now),
        repeats=tuple(
            Repeat(
                t.theme,
                Lesson(
                    t.first_entry_id,
                    t.first_review_id,
                    t.first_title,
                    t.first_link,
                    t.first_published,
                ),
                t.lessons,
                t.repeats,
                t.last_seen,
            )
            for t in themes
        ),
        repeat_reviews=dict(repeat_months),
        engagements=engagements,
        loops=tuple(loops),
        budget=budget,
        loop_labels=dict(defs.loop_labels),
    )


def for_team(rt: Runtime, team_id: str, text: str, now: datetime) -> Insights:
    """The insights the command shows (PeriodError for a period it cannot read)."""
    with transaction(rt.sessions) as session:
        ws = reviews_store.workspace(session, team_id)
        zone = zone_of(ws, rt.settings.timezone)
        period = period_for(session, ws.id, text, now.astimezone(zone).date())
        return collect(session, ws, period, zone, now, definitions(rt.registry))


# --- uploading -------------------------------------------------------------------------------


def upload(
    rt: Runtime,
    channel: str,
    png: bytes,
    *,
    filename: str,
    title: str,
    alt: str,
    comment: str | None = None,
) -> str | None:
    """Files upload v2 with alt text; the file's id, or None where files are not allowed."""
    try:
        response = rt.client.files_upload_v2(
            channel=channel,
            file=png,
            filename=filename,
            title=title,
            alt_txt=alt[:ALT_TEXT_LIMIT],
            initial_comment=comment,
        )
    except SlackApiError as exc:
        if exc.response.get("error") not in NO_FILES:
            raise
        log.info("chart not uploaded to %s: %s", channel, exc.response.get("error"))
        return None
    files = response.get("files") or []
    return str(files[0]["id"]) if files else None


def send_chart_to(rt: Runtime, user_id: str, ins: Insights, alt: str) -> str | None:
    """The command's chart, in the asker's direct messages with the app (only they see it)."""
    channel = rt.client.conversations_open(users=user_id)["channel"]["id"]
    return upload(
        rt,
        channel,
        charts.reviews_png(ins),
        filename=f"insights-{ins.period.start:%Y-%m-%d}.png",
        title=f"Post-mortem insights: {ins.period.label}",
        alt=alt,
        comment="The chart for your `/postmortem insights`.",
    )


# --- the digest's chart ----------------------------------------------------------------------


@dataclass(frozen=True)
class DigestFigures:
    months: tuple[str, ...]
    by_month: tuple[ItemCounts, ...]  # items due in each of the last months
    since: ItemCounts  # done since the last meeting (on time, late) and overdue now

    def alt_text(self) -> str:
        return views.digest_alt_text(self.months, self.by_month, self.since)


def digest_figures(
    session: Session,
    workspace_id: int,
    start: datetime,
    end: datetime,
    *,
    zone: tzinfo = UTC,
    months: int = TREND_MONTHS,
) -> DigestFigures:
    """Action items since the last meeting and the trend by due month (the last `months`)."""
    today = end.astimezone(zone).date()
    first = add_months(today, -(months - 1))
    keys = months_between(first, today + timedelta(days=1))
    rows = {
        r.month: ItemCounts(r.on_time, r.late, r.overdue, r.open)
        for r in store.items_by_due_month(
            session, workspace_id, first, today + timedelta(days=1), today, zone, end
        )
    }
    on_time, late, overdue = store.items_since(session, workspace_id, start, end, today, zone)
    return DigestFigures(
        tuple(keys),
        tuple(rows.get(k, ItemCounts()) for k in keys),
        ItemCounts(on_time=on_time, late=late, overdue=overdue),
    )


def digest_chart(
    session: Session, workspace_id: int, start: datetime, end: datetime, *, zone: tzinfo = UTC
) -> bytes:
    """The digest's image: on time vs late vs overdue since the last meeting, and the trend."""
    figures = digest_figures(session, workspace_id, start, end, zone=zone)
    return _digest_png(figures)


def _digest_png(figures: DigestFigures) -> bytes:
    return charts.items_png(
        figures.months,
        figures.by_month,
        figures.since,
        title="Action items: kept on time, late, or overdue",
    )


def post_digest_chart(
    rt: Runtime, channel: str, workspace_id: int, start: datetime, end: datetime, zone: tzinfo
) -> str | None:
    """Upload the digest's chart to its channel just before the digest; the file id or None.

    The digest's text stays complete (the image is extra, with alt text for screen readers),
    so nothing here may stop the digest: any failure is logged and the digest goes out.
    """
    try:
        with transaction(rt.sessions) as session:
            figures = digest_figures(session, workspace_id, start, end, zone=zone)
        if not any(c.promised for c in (*figures.by_month, figures.since)):
            return None  # an empty chart says nothing the text does not
        local = end.astimezone(zone)
        return upload(
            rt,
            channel,
            _digest_png(figures),
            filename=f"action-items-{local:%Y-%m-%d}.png",
            title=f"Action items before the meeting of {local:%-d %b %Y}",
            alt=figures.alt_text(),
        )
    except Exception:  # noqa: BLE001 - the agenda matters more than its picture
        log.exception("the digest's chart was not posted to %s", channel)
        return None


# --- App Home --------------------------------------------------------------------------------

HOME_TTL = 300.0  # seconds: App Home opens often, the figures change slowly
# Per database (an engine lives as long as its runtime), per workspace row: (when, figures).
# The row's creation time is part of the key: a recreated database may reuse the same id.
_home_cache: weakref.WeakKeyDictionary[
    Engine, dict[tuple[int, datetime], tuple[float, Insights]]
] = weakref.WeakKeyDictionary()
_home_lock = threading.Lock()


def home_insights(rt: Runtime, session: Session, ws: Workspace, now: datetime) -> Insights:
    """The default period's insights for App Home, kept five minutes per workspace."""
    with _home_lock:
        cached = _home_cache.get(rt.engine, {}).get((ws.id, ws.created_at))
        if cached and clock.monotonic() - cached[0] < HOME_TTL:
            return cached[1]
    zone = zone_of(ws, rt.settings.timezone)
    period = parse_period("", now.astimezone(zone).date())
    ins = collect(session, ws, period, zone, now, definitions(rt.registry))
    with _home_lock:
        _home_cache.setdefault(rt.engine, {})[(ws.id, ws.created_at)] = (clock.monotonic(), ins)
    return ins


def home_blocks(
    rt: Runtime, session: Session, ws: Workspace, now: datetime
) -> list[dict[str, Any]]:
    """App Home's headline figures (bot/home calls this while it builds the tab)."""
    try:
        return views.home_section(home_insights(rt, session, ws, now))
    except Exception:  # noqa: BLE001 - the rest of App Home must still open
        log.exception("insights for App Home failed")
        return []

"""Block Kit for the insights: the command's answer, App Home's headline figures, alt text.

Pure functions of `workflows.insights.Insights`. Every title that came from a person is escaped;
themes are slugs, escaped all the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.slack.text import clip, escape, link
from workflows.insights import PERIOD_HELP, Insights, ItemCounts, month_label, percent

CHART_ACTION = "insights_chart"
REPEATS_SHOWN = 3


def _money(cents: int) -> str:
    return f"${Decimal(cents) / 100:,.2f}"


def _one_place(value: float) -> str:
    """3.85 -> "3.9", as a person rounds (a float's 3.8499999 would say 3.8)."""
    return str(Decimal(f"{value:.6f}").quantize(Decimal("0.1"), ROUND_HALF_UP))


def _days(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{_one_place(value)} days" if value < 10 else f"{round(value)} days"


def _lesson_link(title: str, url: str | None) -> str:
    title = clip(title, 80)
    return link(url, title) if url else f"_{escape(title)}_"


def headlines(ins: Insights) -> list[tuple[str, str]]:
    """(label, mrkdwn) pairs: the figures a person reads first."""
    items = ins.item_totals()
    avg, tickets = ins.ces_average()
    out = [
        ("Reviews", f"{ins.started_total()} started, {ins.completed_total()} completed"),
        (
            "Action items due",
            f"{percent(items.on_time, items.promised)} done on time · "
            f"{items.late} late · {items.overdue} overdue",
        ),
        (
            "Review done → last action done",
            f"median {_days(ins.median_days_to_last_action)}"
            + (
                f" ({ins.reviews_with_all_actions_done} reviews)"
                if ins.reviews_with_all_actions_done
                else ""
            ),
        ),
        (
            "Support",
            (
                f"CES {_one_place(avg)} of 7 over {tickets} tickets"
                if avg is not None
                else "no scored tickets"
            )
            + f" · {ins.stale_tickets} open over 14 days",
        ),
    ]
    repeating = sum(ins.repeat_reviews.values())
    out.append(
        (
            "Same theme again",
            f"{repeating} of {ins.started_total()} reviews repeat a theme with a lesson"
            if ins.started_total()
            else "no reviews started",
        )
    )
    if ins.engagements or ins.loops:
        out.append(
            ("Service delivery", f"{len(ins.loops)} of {ins.engagements} engagements sent back")
        )
    if ins.budget:
        b = ins.budget_totals()
        variance = (
            f" ({percent(b.actual_excl - b.budget_excl, b.budget_excl)} over)"
            if b.actual_excl > b.budget_excl and b.budget_excl
            else ""
        )
        out.append(
            (
                "Budget vs actual, excl. GST",
                f"{_money(b.budget_excl)} vs {_money(b.actual_excl)}{variance} · "
                f"{b.over_budget} of {b.reviews} over budget",
            )
        )
    return out


def _fields(pairs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    blocks = []
    for i in range(0, len(pairs), 2):  # two a row, so each reads as a label over its figure
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": clip(f"*{label}*\n{value}", 2000)}
                    for label, value in pairs[i : i + 2]
                ],
            }
        )
    return blocks


def repeat_lines(ins: Insights, shown: int = REPEATS_SHOWN) -> list[str]:
    lines = []
    for r in ins.repeats[:shown]:
        again = "review" if r.repeats == 1 else "reviews"
        lines.append(
            f"• `{escape(r.theme)}`: {r.repeats} {again} since the lesson "
            f"{_lesson_link(r.first_lesson.title, r.first_lesson.link)} "
            f"({r.first_lesson.published:%-d %b %Y})"
        )
    if len(ins.repeats) > shown:
        lines.append(f"…and {len(ins.repeats) - shown} more themes")
    return lines


def loop_lines(ins: Insights, shown: int = 3) -> list[str]:
    lines = []
    for e in ins.loops[:shown]:
        parts = ", ".join(
            f"{escape(ins.loop_labels.get(k, k))} ×{n}" for k, n in sorted(e.loops.items())
        )
        lines.append(f"• {_lesson_link(e.title, e.link)}: {parts}")
    return lines


def reviews_alt_text(ins: Insights) -> str:
    """The command's chart in words, for screen readers and notifications."""
    started = ins.started_by_month()
    completed = [sum(ins.completed[k].get(m, 0) for k in ins.completed) for m in ins.months]
    parts = [
        f"{month_label(m)}: {s} started, {ins.repeat_reviews.get(m, 0)} repeating a "
        f"theme, {c} completed"
        for m, s, c in zip(ins.months, started, completed, strict=True)
    ]
    return clip(
        f"Bar chart of reviews per month, {ins.period.label}. " + "; ".join(parts) + ".", 1000
    )


def digest_alt_text(
    months: Sequence[str], by_month: Sequence[ItemCounts], since: ItemCounts
) -> str:
    """The digest's chart in words."""
    trend = "; ".join(
        f"{month_label(m)}: {c.on_time} on time, {c.late} late, {c.overdue} overdue"
        for m, c in zip(months, by_month, strict=True)
    )
    return clip(
        f"Bar chart of action items. Since the last meeting: {since.on_time} done on "
        f"time, {since.late} done late, {since.overdue} open and overdue. By the month "
        f"they were due: {trend}.",
        1000,
    )


def insights_message(
    ins: Insights, *, file_id: str | None, alt: str, chart_note: str | None = None
) -> dict[str, Any]:
    """The ephemeral answer to `/postmortem insights`: figures, themes, and the chart."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(f"Insights: {ins.period.label}", 150)},
        }
    ]
    blocks += _fields(headlines(ins))
    themes = repeat_lines(ins)
    if themes:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": clip(
                        "*Themes that came back after a lesson on them*\n" + "\n".join(themes), 3000
                    ),
                },
            }
        )
    loops = loop_lines(ins)
    if loops:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": clip("*Engagements sent back most*\n" + "\n".join(loops), 3000),
                },
            }
        )
    if file_id:
        blocks.append(
            {
                "type": "image",
                "slack_file": {"id": file_id},
                "alt_text": alt,
                "title": {"type": "plain_text", "text": "Reviews per month"},
            }
        )
    notes = [chart_note] if chart_note else []
    notes.append(f"{PERIOD_HELP} `postmortem-bot insights` writes CSV or JSON.")
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(n, 2000)} for n in notes]}
    )
    items = ins.item_totals()
    text = (
        f"Insights, {ins.period.label}: {ins.started_total()} reviews started, "
        f"{ins.completed_total()} completed; action items {items.on_time} on time, "
        f"{items.late} late, {items.overdue} overdue."
    )
    return {"text": text, "blocks": blocks}


def home_section(ins: Insights) -> list[dict[str, Any]]:
    """App Home's headline figures, with a button for the chart."""
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*Insights, {escape(ins.period.label)}*"},
            "accessory": {
                "type": "button",
                "action_id": CHART_ACTION,
                "text": {"type": "plain_text", "text": "Send me the chart"},
                "value": "chart",
            },
        },
    ]
    blocks += _fields(headlines(ins)[:6])
    themes = repeat_lines(ins, shown=2)
    if themes:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": clip("Came back after a lesson: " + " ".join(themes), 2000),
                    }
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "More with `/postmortem insights 12m`."}],
        }
    )
    return blocks


def period_problem(message: str) -> dict[str, Any]:
    return {"text": message, "response_type": "ephemeral"}

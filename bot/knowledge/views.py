"""The lessons-learned report rendered from its templates: Slack mrkdwn, Markdown and HTML.

Templates are `report_<workflow>.<format>.j2`, looked up through `answers.template_loader()`, so
an organisation overrides one by dropping a file of the same name in POSTMORTEM_TEMPLATES_DIR. A
workflow without its own template uses the campaign one (it shows every generic section).
User text is escaped for each format: &, < and > for mrkdwn; HTML escaping for HTML; < and > in
Markdown, so a pasted tag cannot become live HTML wherever the file is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jinja2 import Environment, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from markupsafe import escape as html_escape

from bot.reviews.views.answers import template_loader
from bot.reviews.views.review_message import EXPORT_ACTION
from bot.slack.text import chunks, clip, day_text, escape, mention
from storage.types import utcnow
from workflows.reports import Fact, ReportData

FORMATS = ("mrkdwn", "md", "html")
FALLBACK_WORKFLOW = "campaign_postmortem"


def _name(context: Context, user_id: str) -> str:
    names: Mapping[str, str] = context.get("names", {})
    return names.get(user_id, user_id)


def _mrkdwn_finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return str(value)
    return escape(value) if isinstance(value, str) else value


def md_escape(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _md_finalize(value: Any) -> Any:
    if isinstance(value, Markup):
        return str(value)
    return md_escape(value) if isinstance(value, str) else value


def safe_url(url: str) -> str | None:
    """Only web links become links (no javascript: or data: URLs in an exported page)."""
    return url if urlparse(url).scheme in ("http", "https") else None


def _filters(fmt: str) -> dict[str, Any]:
    if fmt == "mrkdwn":

        def user(context: Context, user_id: str) -> str:
            return Markup(mention(user_id))  # noqa: S704 - a Slack user id

        def link(url: str) -> Markup:
            return Markup(f"<{escape(url)}>") if safe_url(url) else Markup(escape(url))  # noqa: S704
    elif fmt == "md":

        def user(context: Context, user_id: str) -> str:
            return "@" + _name(context, user_id)

        def link(url: str) -> Markup:
            return Markup(f"<{url}>") if safe_url(url) else Markup(md_escape(url))  # noqa: S704
    else:

        def user(context: Context, user_id: str) -> str:
            return _name(context, user_id)

        def link(url: str) -> Markup:
            shown = html_escape(url)
            return Markup(f'<a href="{shown}">{shown}</a>') if safe_url(url) else shown  # noqa: S704

    if fmt == "mrkdwn":

        def day(context: Context, iso: str) -> str:
            """Slack readers get "Fri 11 Dec" (the year when it is not this one)."""
            try:
                today = context.get("today") or utcnow().date()
                return day_text(date.fromisoformat(iso), today)
            except (TypeError, ValueError):
                return iso
    else:

        def day(context: Context, iso: str) -> str:
            return iso  # Markdown and HTML are exports: ISO dates, which machines read too

    def show(context: Context, fact: Fact) -> Any:
        if fact.kind == "user":
            return user(context, fact.value)
        if fact.kind == "url":
            return link(fact.value)
        if fact.kind == "date":
            return day(context, fact.value)
        return fact.value

    def paragraphs(text: str) -> Markup:
        parts = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
        return Markup(  # noqa: S704 - every part is escaped
            "\n".join(
                "<p>" + str(html_escape(p.strip())).replace("\n", "<br>\n") + "</p>" for p in parts
            )
        )

    return {
        "user": pass_context(user),
        "link": link,
        "show": pass_context(show),
        "paragraphs": paragraphs,
        "day": pass_context(day),
    }


@cache
def _environment(fmt: str, templates_dir: Path | None) -> Environment:
    # `templates_dir` (Settings.templates_dir) is part of the cache key.
    finalize = {"mrkdwn": _mrkdwn_finalize, "md": _md_finalize}.get(fmt)
    env = Environment(  # noqa: S701 - HTML autoescapes; mrkdwn and md escape in `finalize`
        loader=template_loader(templates_dir),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=select_autoescape(["html.j2"], default=False),
        finalize=finalize,
    )  # None (HTML) is Jinja's default: no finalize
    env.filters.update(_filters(fmt))
    return env


def environment(fmt: str, templates_dir: Path | None = None) -> Environment:
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}")
    return _environment(fmt, templates_dir)


def render(
    report: ReportData,
    fmt: str,
    *,
    names: Mapping[str, str] | None = None,
    template_suffix: str = "",
    templates_dir: Path | None = None,
    today: date | None = None,
) -> str:
    """The report in one format; `names` maps user ids to display names (Markdown and HTML);
    `today` (the reader's) decides whether a date in Slack shows its year."""
    env = environment(fmt, templates_dir)
    template = env.select_template(
        [f"report_{report.workflow_key}.{fmt}.j2", f"report_{FALLBACK_WORKFLOW}.{fmt}.j2"]
    )
    text = template.render(
        r=report, names={} if names is None else names, today=today or utcnow().date()
    )
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"


def report_message(
    title: str, mrkdwn: str, *, review_id: int, max_blocks: int = 45
) -> dict[str, Any]:
    """The report for the review's thread: a header, the sections, and the Export button."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "block_id": "report.title",
            "text": {
                "type": "plain_text",
                "emoji": True,
                "text": clip(f"Lessons learned: {title}", 150),
            },
        }
    ]
    for index, chunk in enumerate(chunks(mrkdwn.strip(), 3000)[: max_blocks - 2]):
        blocks.append(
            {
                "type": "section",
                "block_id": f"report.{index}",
                "text": {"type": "mrkdwn", "text": chunk},
            }
        )
    blocks.append(
        {
            "type": "actions",
            "block_id": "report.actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": EXPORT_ACTION,
                    "value": str(review_id),
                    "text": {"type": "plain_text", "text": "Export"},
                }
            ],
        }
    )
    return {"text": clip(f"Lessons learned: {title}", 3000), "blocks": blocks}


def search_results(
    query_text: str, hits: list[tuple[str, str, str | None, str]], *, problems: tuple[str, ...] = ()
) -> dict[str, Any]:
    """`/postmortem search` answer: (title, snippet, permalink, workflow name) per hit."""
    notes = "".join(f"\n:warning: {escape(p)}" for p in problems)
    if not hits:
        text = (
            f"Nothing found for “{escape(query_text)}”. Try fewer or broader words, or drop "
            f"a filter (`workflow:`, `tag:`, `after:`).{notes}"
        )
        return {
            "text": clip(text, 3000),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}],
        }
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": clip(f"*Lessons learned matching “{escape(query_text)}”*{notes}", 3000),
            },
        }
    ]
    for title, snippet, permalink, workflow in hits:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": lesson_line(title, snippet, permalink, workflow),
                },
            }
        )
    return {"text": f"Lessons learned matching “{clip(query_text, 200)}”", "blocks": blocks}


def lesson_line(title: str, snippet: str, permalink: str | None, workflow: str) -> str:
    shown = escape(clip(title, 150)).replace("|", "¦")
    head = f"<{permalink}|{shown}>" if permalink else f"*{shown}*"
    return clip(f"{head} · {escape(workflow)}\n>{escape(clip(snippet, 300))}", 3000)


def similar_message(hits: list[tuple[str, str, str | None, str]]) -> dict[str, Any]:
    """Up to three past lessons for a review that just started."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": (
                    ":bulb: *Lessons from similar past reviews*: worth a look before you start."
                ),
            },
        }
    ]
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": lesson_line(*hit)}}
        for hit in hits[:3]
    ]
    return {"text": "Lessons from similar past reviews", "blocks": blocks}

"""Stage answers as readable mrkdwn: the thread summary and the list views share this."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
)
from markupsafe import Markup

from bot.slack.text import chunks, clip, escape, mention
from workflows.au.budget import compare
from workflows.engine import OUTPUTS_KEY
from workflows.model import FieldDef, FieldType, Workflow


def _finalize(value: Any) -> Any:
    # Every expression is escaped unless it was built as Markup (mentions, formatted values).
    if isinstance(value, Markup):
        return str(value)
    return escape(str(value)) if isinstance(value, str) else value


def template_loader(custom: Path | None = None) -> BaseLoader:
    """The organisation's templates (POSTMORTEM_TEMPLATES_DIR) first, then the built-in ones.

    Every template the bot renders (summaries, reports, exports, digests) goes through this, so
    one folder overrides any of them by file name. `custom` is Settings.templates_dir.
    """
    builtin = PackageLoader("bot", "templates")
    return ChoiceLoader([FileSystemLoader(custom), builtin]) if custom else builtin


@cache
def templates(custom: Path | None = None) -> Environment:
    # HTML autoescaping would turn quotes into entities Slack shows literally; mrkdwn needs only
    # &, < and > escaped, which `_finalize` does for every expression.
    return Environment(loader=template_loader(custom), autoescape=False,  # noqa: S701
                       finalize=_finalize, undefined=StrictUndefined, trim_blocks=True,
                       lstrip_blocks=True, keep_trailing_newline=False)


def money(value: dict[str, str]) -> str:
    basis = "incl." if value.get("gst") == "inclusive" else "excl."
    return f"${Decimal(value['amount']):,.2f} {basis} GST"


def display(f: FieldDef, value: Any) -> Markup:
    """One answer as mrkdwn; user text escaped, mentions and links kept."""
    t = f.type
    if t == FieldType.USER:
        return Markup(mention(value))  # noqa: S704 - a Slack user id, not user text
    if t == FieldType.USERS:
        return Markup(", ".join(mention(u) for u in value))  # noqa: S704
    if t == FieldType.CHANNEL:
        return Markup(f"<#{value}>")  # noqa: S704
    if t == FieldType.MONEY:
        return Markup(escape(money(value)))  # noqa: S704
    if t == FieldType.YES_NO:
        return Markup("Yes" if value else "No")  # noqa: S704
    if t == FieldType.CHOICE:
        label = next((o.label for o in f.options if o.value == value), value)
        return Markup(escape(label))  # noqa: S704
    if t == FieldType.MULTI_CHOICE:
        labels = [o.label for o in f.options if o.value in value]
        return Markup(escape(", ".join(labels)))  # noqa: S704
    if t == FieldType.URL or (t == FieldType.TRACKER_TASK  # a link (checked) or an id
                              and str(value).startswith(("https://", "http://"))):
        return Markup(f"<{escape(value)}>")  # noqa: S704
    return Markup(escape(str(value)))  # noqa: S704


def stage_sections(workflow: Workflow, answers: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per answered stage: its name and (label, value) pairs, groups as rows."""
    sections = []
    for stage in workflow.stages:
        given = answers.get(stage.key)
        if not given:
            continue
        items: list[dict[str, Any]] = []
        for f in stage.fields:
            value = given.get(f.key)
            if value in (None, "", []):
                continue
            if f.type == FieldType.GROUP:
                rows = [" · ".join(str(display(sub, row[sub.key])) for sub in f.fields
                                   if row.get(sub.key) not in (None, ""))
                        for row in value]
                items.append({"label": f.label, "rows": [Markup(r) for r in rows]})  # noqa: S704
            else:
                items.append({"label": f.label, "value": display(f, value)})
        for d in stage.decisions:
            label = next((o.label for o in d.options if o.value == given.get(d.key)), None)
            if label:
                items.append({"label": d.question, "value": label})
        confirmed = [o.label for o in stage.outputs if o.key in given.get(OUTPUTS_KEY, [])]
        sections.append({"name": stage.name, "items": items, "confirmed": confirmed})
    return sections


def budget_section(workflow: Workflow, answers: dict[str, dict[str, Any]]) -> str | None:
    """Budget vs actual on both GST bases, when the workflow has fields in those roles."""
    found: dict[str, dict[str, str]] = {}
    for stage in workflow.stages:
        for f in stage.fields:
            if f.role in ("budget", "actual") and answers.get(stage.key, {}).get(f.key):
                found[f.role] = answers[stage.key][f.key]
    if len(found) < 2:
        return None
    c = compare(found["budget"], found["actual"])

    def cell(value: Decimal, signed: bool = False) -> str:
        text = f"{'+' if signed and value > 0 else ''}{'-' if value < 0 else ''}${abs(value):,.2f}"
        return f"{text:>14}"

    pct = f" ({c.variance_pct:+}%)" if c.variance_pct is not None else ""
    rows = [f"{'':<9}{'incl. GST':>14}{'excl. GST':>14}",
            f"{'Budget':<9}{cell(c.budget.incl)}{cell(c.budget.excl)}",
            f"{'Actual':<9}{cell(c.actual.incl)}{cell(c.actual.excl)}",
            f"{'Variance':<9}{cell(c.variance_incl, True)}{cell(c.variance_excl, True)}{pct}"]
    return "*Budget vs actual*\n```\n" + "\n".join(rows) + "\n```"


def summary_blocks(workflow: Workflow, title: str, answers: dict[str, dict[str, Any]],
                   max_blocks: int = 45, templates_dir: Path | None = None) -> dict[str, Any]:
    """The completed review's summary for its thread: sections within Slack's limits."""
    env = templates(templates_dir)
    blocks: list[dict[str, Any]] = [{"type": "header", "block_id": "summary.title",
                                     "text": {"type": "plain_text", "emoji": True,
                                              "text": clip(f"Summary: {title}", 150)}}]
    for index, section in enumerate(stage_sections(workflow, answers)):
        text = env.get_template("stage_summary.mrkdwn.j2").render(section=section)
        for part, chunk in enumerate(chunks(text, 3000)):
            if len(blocks) >= max_blocks:
                break
            blocks.append({"type": "section", "block_id": f"summary.{index}.{part}",
                           "text": {"type": "mrkdwn", "text": chunk}})
    budget = budget_section(workflow, answers)
    if budget and len(blocks) < max_blocks:
        blocks.append({"type": "section", "block_id": "summary.budget",
                       "text": {"type": "mrkdwn", "text": budget}})
    return {"text": clip(f"Summary: {title}", 3000), "blocks": blocks}


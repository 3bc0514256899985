"""Stage answers as readable mrkdwn: the thread summary and the list views share this."""

from __future__ import annotations

from datetime import date
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

from bot.slack.text import chunks, clip, day_text, escape, mention
from workflows.engine import OUTPUTS_KEY
from workflows.model import FieldDef, FieldType, Workflow
from workflows.reports import budget_table, decision_passes, shown_label


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
    return Environment(
        loader=template_loader(custom),
        autoescape=False,  # noqa: S701
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def money(value: dict[str, str]) -> str:
    basis = "incl." if value.get("gst") == "inclusive" else "excl."
    return f"${Decimal(value['amount']):,.2f} {basis} GST"


def display(f: FieldDef, value: Any, today: date | None = None) -> Markup:
    """One answer as mrkdwn; user text escaped, mentions and links kept; a date as "Fri 11 Dec"
    when `today` is given."""
    t = f.type
    if t == FieldType.DATE and today is not None:
        try:
            return Markup(day_text(date.fromisoformat(str(value)), today))  # noqa: S704
        except ValueError:
            return Markup(escape(str(value)))  # noqa: S704
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
    if t == FieldType.URL or (
        t == FieldType.TRACKER_TASK  # a link (checked) or an id
        and str(value).startswith(("https://", "http://"))
    ):
        return Markup(f"<{escape(value)}>")  # noqa: S704
    return Markup(escape(str(value)))  # noqa: S704


def stage_sections(
    workflow: Workflow,
    answers: dict[str, dict[str, Any]],
    passes: list[tuple[str, dict[str, Any]]] | None = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Per answered stage: its name and (label, value) pairs, groups as rows.

    A stage decided more than once (sent back, then decided again) lists every pass.
    """
    repeated = {
        p.key: p.passes for p in decision_passes(workflow, passes or []) if len(p.passes) > 1
    }
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
                rows = [
                    " · ".join(
                        str(display(sub, row[sub.key], today))
                        for sub in f.fields
                        if row.get(sub.key) not in (None, "")
                    )
                    for row in value
                ]
                items.append({"label": shown_label(f.label), "rows": [Markup(r) for r in rows]})  # noqa: S704
            else:
                items.append({"label": shown_label(f.label), "value": display(f, value, today)})
        for d in stage.decisions if stage.key not in repeated else ():
            label = next((o.label for o in d.options if o.value == given.get(d.key)), None)
            if label:
                items.append({"label": d.question, "value": label})
        if stage.key in repeated:
            items.append(
                {
                    "label": "Decisions",
                    "value": "; ".join(
                        f"pass {n}: {text}" for n, text in enumerate(repeated[stage.key], 1)
                    ),
                }
            )
        confirmed = [o.label for o in stage.outputs if o.key in given.get(OUTPUTS_KEY, [])]
        sections.append({"name": stage.name, "items": items, "confirmed": confirmed})
    return sections


def budget_section(workflow: Workflow, answers: dict[str, dict[str, Any]]) -> str | None:
    """Budget vs actual on both GST bases, when the workflow has fields in those roles."""
    rows = budget_table(workflow, answers)
    return "*Budget vs actual*\n```\n" + "\n".join(rows) + "\n```" if rows else None


def summary_blocks(
    workflow: Workflow,
    title: str,
    answers: dict[str, dict[str, Any]],
    max_blocks: int = 45,
    templates_dir: Path | None = None,
    passes: list[tuple[str, dict[str, Any]]] | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """The completed review's summary for its thread: sections within Slack's limits."""
    env = templates(templates_dir)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "block_id": "summary.title",
            "text": {"type": "plain_text", "emoji": True, "text": clip(f"Summary: {title}", 150)},
        }
    ]
    for index, section in enumerate(stage_sections(workflow, answers, passes, today)):
        text = env.get_template("stage_summary.mrkdwn.j2").render(section=section)
        for part, chunk in enumerate(chunks(text, 3000)):
            if len(blocks) >= max_blocks:
                break
            blocks.append(
                {
                    "type": "section",
                    "block_id": f"summary.{index}.{part}",
                    "text": {"type": "mrkdwn", "text": chunk},
                }
            )
    budget = budget_section(workflow, answers)
    if budget and len(blocks) < max_blocks:
        blocks.append(
            {
                "type": "section",
                "block_id": "summary.budget",
                "text": {"type": "mrkdwn", "text": budget},
            }
        )
    return {"text": clip(f"Summary: {title}", 3000), "blocks": blocks}

"""Ephemeral lists and help for slash commands, and the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.reviews.views.review_message import status_label
from bot.slack.text import clip, escape, link, mention
from workflows.loader import Registry

HELP = """*Post-mortems in Slack*
• `/postmortem start [workflow] [title]`: start a review (workflows: {workflows})
• `/postmortem list`: reviews in this channel and yours
• `/postmortem actions`: your open action items, soonest first
• `/postmortem search <words>`: past lessons (filters `workflow:`, `tag:`, `after:`)
• `/postmortem digest`: the next post-mortem meeting and a preview of its digest
• `/postmortem insights [6m|12m|2026|all]`: trends and a chart: are lessons working?
• `/postmortem features`: missing-feature requests found in post-mortems (admins)
• `/postmortem tracker`: the tracker action items are filed in (admins)
• `/postmortem safety`: the product safety incident register (ACL s131 deadlines)
• `/postmortem warranty goods|services`: the mandatory warranty-against-defects wording
• `/postmortem help`: this message"""


def workflow_words(registry: Registry) -> list[str]:
    """The short words `/postmortem start <word>` accepts (`campaign`, `support`, …)."""
    return [w.key.split("_")[0] for w in registry.all()]


def help_text(workflow_words: list[str]) -> str:
    return HELP.format(workflows=", ".join(f"`{w}`" for w in workflow_words))


def review_line(review: Any, workflow_name: str, stage_name: str | None) -> str:
    title = (
        link(review.permalink, review.title) if review.permalink else f"*{escape(review.title)}*"
    )
    where = f", next: {escape(stage_name)}" if stage_name else ""
    return (
        f"{title}\n{escape(workflow_name)} · {status_label(review.status)}{where} · "
        f"owner {mention(review.owner_id)}"
    )


def review_list(lines: list[str], *, empty: str, heading: str) -> dict[str, Any]:
    if not lines:
        return {
            "text": empty,
            "blocks": [SectionBlock(text=MarkdownTextObject(text=escape(empty))).to_dict()],
        }
    blocks = [SectionBlock(text=MarkdownTextObject(text=f"*{escape(heading)}*")).to_dict()]
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=clip(line, 3000))).to_dict()
        for line in lines[:45]
    ]
    if len(lines) > 45:
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"and {len(lines) - 45} more")]
            ).to_dict()
        )
    return {"text": heading, "blocks": blocks}

"""Ephemeral lists and help for slash commands, and the App Home tab."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.reviews.views.review_message import CONTINUE, status_label
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


def home_view(
    *,
    waiting: list[tuple[int, str, str]],
    reviews: list[str],
    items: list[tuple[str, date | None, str]],
) -> dict[str, Any]:
    """App Home: stages waiting on me (with Continue), my reviews, my action items."""
    blocks: list[Any] = [HeaderBlock(text="Your post-mortems")]
    blocks.append(SectionBlock(text=MarkdownTextObject(text="*Waiting on you*")))
    if waiting:
        for review_id, title, stage in waiting[:15]:
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(text=f"*{escape(clip(title, 200))}*\n{escape(stage)}"),
                    accessory=ButtonElement(
                        text="Continue", action_id=CONTINUE, value=str(review_id), style="primary"
                    ),
                )
            )
    else:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Nothing right now.")]))
    blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=MarkdownTextObject(text="*Your reviews*")))
    for line in reviews[:20] or ["You have no reviews yet. Start one with `/postmortem start`."]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(line, 3000))))
    blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=MarkdownTextObject(text="*Your action items*")))
    if items:
        text = "\n".join(
            f"• {escape(clip(title, 150))}: due "
            f"{due.strftime('%a %-d %b %Y') if due else 'no date'} "
            f"({escape(review)})"
            for title, due, review in items[:30]
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(text, 3000))))
    else:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="No open action items.")]))
    blocks.append(
        ActionsBlock(elements=[ButtonElement(text="Start a review", action_id="home_start")])
    )
    return View(type="home", blocks=blocks).to_dict()

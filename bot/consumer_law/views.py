"""The consumer guarantees assessment modal (ACL ss51-62, s3, s260/s268) and its result."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.text import clip, escape
from workflows.au.acl import Guarantee

CALLBACK = "acl_assess"
# Short labels for the s260 / s268 tests (the full questions are in workflows.au.acl).
MAJOR = {
    "goods": {
        "would_not_have_bought": "Would not have bought them, knowing (s260(a))",
        "significantly_different": "Significantly unlike description/sample (s260(b)(c))",
        "unfit_normal_purpose": "Substantially unfit for normal purpose (s260(d))",
        "unfit_disclosed_purpose": "Substantially unfit for a disclosed purpose (s260(d))",
        "unsafe": "Unsafe (s260(e))",
    },
    "services": {
        "would_not_have_acquired": "Would not have acquired them, knowing (s268(a))",
        "unfit_normal_purpose": "Substantially unfit for usual purpose (s268(b))",
        "unfit_disclosed_purpose": "Substantially unfit for a disclosed purpose (s268(c))",
        "desired_result_not_achieved": "Desired result made known not achieved (s268(d))",
        "unsafe_situation": "Created an unsafe situation (s268(e))",
    },
}
YES_NO = [Option(value="yes", label="Yes"), Option(value="no", label="No")]


def _radio(
    block_id: str, label: str, options: list[Option], initial: str | None = None
) -> InputBlock:
    chosen = next((o for o in options if o.value == initial), None)
    return InputBlock(
        block_id=block_id,
        label=label,
        element=RadioButtonsElement(action_id="v", options=options, initial_option=chosen),
    )


def assessment_modal(review_id: int, review_title: str) -> dict[str, Any]:
    guarantees = [
        Option(value=g.value, label=clip(f"{g.kind.capitalize()}: {g.label} ({g.section})", 75))
        for g in Guarantee
    ]
    major = [
        Option(value=f"{kind}:{key}", label=clip(f"{kind.capitalize()}: {label}", 75))
        for kind, questions in MAJOR.items()
        for key, label in questions.items()
    ]
    return View(
        type="modal",
        callback_id=CALLBACK,
        title="Consumer guarantees",
        submit="Assess",
        close="Cancel",
        private_metadata=str(review_id),
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*{escape(clip(review_title, 200))}*\nWhich Australian Consumer Law "
                        "guarantee is involved, does the buyer count as a consumer, and is the "
                        "failure major or minor? The result states the remedies owed."
                    )
                )
            ),
            _radio(
                "kind",
                "Goods or services?",
                [Option(value="goods", label="Goods"), Option(value="services", label="Services")],
            ),
            InputBlock(
                block_id="price",
                label="Price paid (AUD, incl. GST)",
                element=NumberInputElement(action_id="v", is_decimal_allowed=True, min_value="0"),
            ),
            InputBlock(
                block_id="purchased", label="Bought on", element=DatePickerElement(action_id="v")
            ),
            _radio(
                "personal",
                "Of a kind ordinarily bought for personal, domestic or household use?",
                YES_NO,
            ),
            _radio("vehicle", "A vehicle or trailer used mainly to transport goods?", YES_NO, "no"),
            _radio(
                "resale", "Bought to resell, or to use up in production or repairs?", YES_NO, "no"
            ),
            InputBlock(
                block_id="guarantees",
                label="Guarantees not met",
                element=StaticMultiSelectElement(
                    action_id="v", options=guarantees, placeholder="Choose the guarantees"
                ),
            ),
            InputBlock(
                block_id="major",
                label="Which of these apply?",
                optional=True,
                hint="Any one makes it a major failure.",
                element=CheckboxesElement(action_id="v", options=major),
            ),
        ],
    ).to_dict()


def result_message(review_title: str, lines: Iterable[str]) -> dict[str, Any]:
    """The assessment's summary lines (as recorded on the review), for its thread."""
    text = "*Consumer guarantees assessment*\n" + "\n".join(escape(line) for line in lines)
    return {
        "text": f"Consumer guarantees assessment: {escape(review_title)}",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}],
    }

"""The product safety register in Slack: report an incident, the open list, mark reported."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.slack.text import clip, escape

REPORT_CALLBACK, REPORTED_CALLBACK = "safety_report", "safety_reported"
OPEN_REPORT, MARK_REPORTED, START_REVIEW = "safety_open_report", "safety_mark", "safety_review"
OPEN_RECALL, RECALL_CALLBACK, DEADLINE_DONE = "safety_open_recall", "safety_recall", "recall_done"
OUTCOMES = (
    ("death", "Death"),
    ("serious_injury_or_illness", "Serious injury or illness (treated by a doctor or nurse)"),
    ("other", "Other (no serious injury)"),
)
EXEMPTIONS = (
    ("none", "None of these"),
    ("not_caused_by_product", "Clearly not caused by the product"),
    ("tga", "Therapeutic goods: reported to the TGA"),
    ("apvma", "Agricultural or veterinary chemical: APVMA"),
    ("food_borne_illness", "Food-borne illness: health authorities"),
    ("coroner", "A death reportable to the coroner"),
    ("road_vehicle", "Road vehicle accident on a public road"),
)


def _text(
    block_id: str,
    label: str,
    *,
    multiline: bool = False,
    optional: bool = False,
    max_length: int = 200,
    hint: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(action_id="v", multiline=multiline, max_length=max_length),
    )


def _radio(block_id: str, label: str, options: tuple[tuple[str, str], ...]) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        element=RadioButtonsElement(
            action_id="v", options=[Option(value=v, label=clip(t, 75)) for v, t in options]
        ),
    )


def report_modal(tz: str) -> dict[str, Any]:
    """`tz` (the reporter's) rides along so the submission needs no Slack call before its ack."""
    return View(
        type="modal",
        callback_id=REPORT_CALLBACK,
        title="Safety incident",
        submit="Record",
        close="Cancel",
        private_metadata=tz,
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        "A death, serious injury or serious illness that a product caused or may "
                        "have caused must be reported to the ACCC *within 2 days* of becoming "
                        "aware (ACL s131). Recording it here starts the clock and alerts the "
                        "product safety officers."
                    )
                )
            ),
            _text("product_name", "Product"),
            _text("model", "Model", optional=True),
            _text("batch", "Batch or serial numbers", optional=True, max_length=500),
            _text("supplier", "Supplier", optional=True),
            InputBlock(
                block_id="aware_date",
                label="Became aware on",
                element=DatePickerElement(action_id="v"),
            ),
            InputBlock(
                block_id="aware_time",
                label="At (your local time)",
                element=TimePickerElement(action_id="v"),
            ),
            _text("what_happened", "What happened", multiline=True, max_length=3000),
            _text("location", "Where", optional=True, max_length=300),
            _radio("outcome", "Outcome", OUTCOMES),
            _radio(
                "caused",
                "Did the product cause it, or may it have?",
                (("yes", "Yes, or it may have"), ("no", "No, clearly not")),
            ),
            InputBlock(
                block_id="exemption",
                label="Reportable under another law?",
                element=StaticSelectElement(
                    action_id="v",
                    initial_option=Option(value="none", label="None of these"),
                    options=[Option(value=v, label=clip(t, 75)) for v, t in EXEMPTIONS],
                ),
            ),
            _text(
                "actions",
                "Actions taken or planned",
                multiline=True,
                optional=True,
                max_length=3000,
            ),
        ],
    ).to_dict()


def reported_modal(incident_id: int, product: str, tz: str) -> dict[str, Any]:
    """`tz` (the user's) rides along: "not in the future" means in their calendar, not the
    server's, with no Slack call before the submission's ack."""
    return View(
        type="modal",
        callback_id=REPORTED_CALLBACK,
        title="Mark reported",
        submit="Save",
        close="Cancel",
        private_metadata=f"{incident_id} {tz}",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"*{escape(clip(product, 200))}*")),
            InputBlock(
                block_id="submitted_on",
                label="Submitted to the ACCC on",
                element=DatePickerElement(action_id="v"),
            ),
            _text("reference", "ACCC reference", max_length=100),
        ],
    ).to_dict()


def incident_line(incident: Any, tz: str) -> SectionBlock:
    due = incident.report_due_at.astimezone(ZoneInfo(tz)) if incident.report_due_at else None
    state = {
        "due": f"*Report due {due:%a %-d %b, %H:%M %Z}*" if due else "Report due",
        "submitted": f"Reported {incident.submitted_on} (ACCC ref "
        f"{escape(incident.accc_reference)})",
        "not_required": "No report required",
    }[incident.report_status]
    text = (
        f"*{escape(clip(incident.product_name, 200))}*"
        f"{' · ' + escape(clip(incident.model, 100)) if incident.model else ''}\n"
        f"{escape(clip(incident.what_happened, 300))}\n{state}"
    )
    return SectionBlock(
        block_id=f"incident.{incident.id}", text=MarkdownTextObject(text=clip(text, 3000))
    )


def recall_modal(tz: str) -> dict[str, Any]:
    """A voluntary recall (ACL s128) with what its notice must say (ACCC recall guidelines)."""
    return View(
        type="modal",
        callback_id=RECALL_CALLBACK,
        title="Record a recall",
        submit="Record",
        close="Cancel",
        private_metadata=tz,
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        "The ACCC must be told within *2 days* of taking recall action (ACL "
                        "s128); copies of overseas notices within 10 days; a progress report "
                        "one month after the recall is published. Each becomes a tracked "
                        "deadline with reminders."
                    )
                )
            ),
            _text("product", "Product"),
            _text(
                "identifiers", "Identifiers (model, batch, barcode)", optional=True, max_length=500
            ),
            _text("hazard", "The defect and the hazard", multiline=True, max_length=3000),
            _text(
                "supplied",
                "Supply dates, quantity and where supplied",
                multiline=True,
                optional=True,
                max_length=3000,
            ),
            _text("consumer_action", "What consumers should do", multiline=True, max_length=3000),
            _text("contact", "Contact details", max_length=300),
            InputBlock(
                block_id="action_date",
                label="Recall action taken on",
                element=DatePickerElement(action_id="v"),
            ),
            InputBlock(
                block_id="action_time",
                label="At (your local time)",
                element=TimePickerElement(action_id="v"),
            ),
            InputBlock(
                block_id="published",
                label="Recall published on",
                optional=True,
                element=DatePickerElement(action_id="v"),
            ),
        ],
    ).to_dict()


def _deadline_line(deadline: Any, tz: str) -> str:
    due = deadline.due_at.astimezone(ZoneInfo(tz))
    return f"*{due:%a %-d %b, %H:%M %Z}*: {escape(deadline.description)}"


def recall_summary(recall: Any, deadlines: Sequence[Any], tz: str) -> dict[str, Any]:
    lines = "\n".join(f"• {_deadline_line(d, tz)}" for d in deadlines)
    text = (
        f":warning: *Recall recorded: {escape(clip(recall.product, 200))}*\n"
        f"{escape(clip(recall.hazard, 500))}\n*Deadlines*\n{lines}"
    )
    return {
        "text": f"Recall recorded: {escape(clip(recall.product, 200))}",
        "blocks": [SectionBlock(text=MarkdownTextObject(text=clip(text, 3000))).to_dict()],
    }


def recall_alert(kind: str, deadline: Any, recall: Any, tz: str) -> dict[str, Any]:
    head = (
        ":alarm_clock: Recall deadline in 24 hours"
        if kind == "24h"
        else ":red_circle: Recall deadline has passed"
    )
    text = f"{head}: *{escape(clip(recall.product, 200))}*\n{_deadline_line(deadline, tz)}"
    return {
        "text": f"{head}: {escape(clip(recall.product, 200))}",
        "blocks": [
            SectionBlock(text=MarkdownTextObject(text=clip(text, 3000))).to_dict(),
            ActionsBlock(
                elements=[
                    ButtonElement(text="Mark done", action_id=DEADLINE_DONE, value=str(deadline.id))
                ]
            ).to_dict(),
        ],
    }


def register_message(
    incidents: list[Any], tz: str, deadlines: Sequence[tuple[Any, Any]] = ()
) -> dict[str, Any]:
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(text="*Product safety register*: open incidents")),
        ActionsBlock(
            elements=[
                ButtonElement(text="Report an incident", action_id=OPEN_REPORT, style="danger"),
                ButtonElement(text="Record a recall", action_id=OPEN_RECALL),
            ]
        ),
    ]
    for deadline, recall in list(deadlines)[:8]:
        blocks.append(
            SectionBlock(
                block_id=f"deadline.{deadline.id}",
                text=MarkdownTextObject(
                    text=clip(
                        f"Recall of *{escape(clip(recall.product, 150))}*: "
                        f"{_deadline_line(deadline, tz)}",
                        3000,
                    )
                ),
                accessory=ButtonElement(
                    text="Mark done", action_id=DEADLINE_DONE, value=str(deadline.id)
                ),
            )
        )
    if not incidents:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text="No incident is waiting for a report.")])
        )
    for incident in incidents[:14]:
        blocks.append(incident_line(incident, tz))
        blocks.append(
            ActionsBlock(
                block_id=f"incident_actions.{incident.id}",
                elements=[
                    ButtonElement(
                        text="Mark reported", action_id=MARK_REPORTED, value=str(incident.id)
                    ),
                    ButtonElement(
                        text="Start a post-mortem", action_id=START_REVIEW, value=str(incident.id)
                    ),
                ],
            )
        )
    return {"text": "Product safety register", "blocks": [b.to_dict() for b in blocks]}


ALERT_TEXT = {
    "reported": ":rotating_light: New product safety incident",
    "24h": ":alarm_clock: ACCC report due in 24 hours",
    "4h": ":warning: ACCC report due in 4 hours",
    "overdue": ":red_circle: ACCC report deadline has passed",
}


def alert_message(kind: str, incident: Any, tz: str, required_reason: str) -> dict[str, Any]:
    line = incident_line(incident, tz).to_dict()
    context = ContextBlock(elements=[MarkdownTextObject(text=escape(required_reason))])
    return {
        "text": f"{ALERT_TEXT[kind]}: {escape(clip(incident.product_name, 200))}",
        "blocks": [
            SectionBlock(text=MarkdownTextObject(text=ALERT_TEXT[kind])).to_dict(),
            line,
            context.to_dict(),
        ],
    }

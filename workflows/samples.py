"""Valid example answers for any stage: for tests, benchmarks and demo data.

Built from the definition, so a new workflow gets sample data without writing any.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from workflows.engine import OUTPUTS_KEY, applies, confirmable_outputs
from workflows.model import FieldDef, FieldType, Stage

SAMPLE_USER = "U0ALICE"
INVOICE_LINES = "invoice_lines"  # the role rules.invoice_from reads


def sample_value(f: FieldDef, index: int = 0) -> Any:
    t = f.type
    if t in (FieldType.TEXT, FieldType.LONG_TEXT):
        return f"{f.label} {index + 1}"[: f.max_length or 150]
    if t in (FieldType.NUMBER, FieldType.PERCENTAGE):
        low = f.min if f.min is not None else 0
        high = f.max if f.max is not None else (100 if t == FieldType.PERCENTAGE else 1000)
        return str(max(low, min(high, 5 + index)))
    if t == FieldType.MONEY:
        return {"amount": f"{1100 + 100 * index}.00", "gst": "inclusive"}
    if t == FieldType.DATE:
        return f"2026-12-{1 + index:02d}"
    if t == FieldType.URL:
        return f"https://example.com/{f.key}/{index + 1}"
    if t == FieldType.TRACKER_TASK:
        return f"https://tracker.example.com/browse/PM-{12 + index}"
    if t == FieldType.ABN:
        return "51 824 753 556"
    if t == FieldType.YES_NO:
        return True
    if t == FieldType.CHOICE:
        return f.options[0].value
    if t == FieldType.MULTI_CHOICE:
        return [f.options[0].value]
    if t == FieldType.USER:
        return SAMPLE_USER
    if t == FieldType.USERS:
        return [SAMPLE_USER]
    if t == FieldType.CHANNEL:
        return "C0REVIEWS"
    if t == FieldType.GROUP:
        count = max(f.min_items, 1)
        rows = [{sub.key: sample_value(sub, i) for sub in f.fields} for i in range(count)]
        if f.role == INVOICE_LINES:  # a usual, taxable line: a GST-free one can't include GST
            rows = [{**row, "gst_free": False} if "gst_free" in row else row for row in rows]
        return rows
    raise ValueError(t)


def sample_answers(stage: Stage, **overrides: Any) -> dict[str, Any]:
    """Every field filled, the first option of every decision, every output confirmed."""
    answers: dict[str, Any] = {f.key: sample_value(f) for f in stage.fields}
    answers.update({d.key: d.options[0].value for d in stage.decisions})
    answers[OUTPUTS_KEY] = [o.key for o in confirmable_outputs(stage)]
    answers.update(overrides)
    return answers


# --- example answers that read like a real review (the sandbox's "Fill with example answers") --

_COMMON: dict[str, Any] = {
    "share_at_meeting": True,
    "tags": "email, subject lines, mobile",
    "product": "KettlePro 1.7 L",
    "kb_article": "https://help.example.com/articles/refunds-and-returns",
}
_EXAMPLES: dict[str, dict[str, Any]] = {
    "campaign_postmortem": {
        "category": "email",
        "performance_data": "Sent to 48,200 subscribers. Open rate 31% (target 35%), click-through "
        "2.4%, 612 orders, $41,800 revenue. Figures from the email platform "
        "and the shop's order report.",
        "advertised": ["two_price", "refund_terms"],
        "budget": {"amount": "12000.00", "gst": "inclusive"},
        "actual_spend": {"amount": "11800.00", "gst": "inclusive"},
        "revenue": {"amount": "41800.00", "gst": "inclusive"},
        "survey_responses": "214",
        "performance_report": "https://reports.example.com/campaigns/black-friday",
        "feedback_survey": "https://forms.example.com/black-friday-feedback",
        "initial_themes": "Subject line cut off on mobile; the discount code worked only on the "
        "second try for some customers; strong response to free shipping.",
        "refund_policy_text": "Change of mind returns within 30 days. Faulty items: refund, "
        "repair or replacement as the Australian Consumer Law provides.",
        "agenda": "1. Figures  2. What went well  3. What did not  4. Why  5. Actions",
        "went_well": "Free shipping drove most orders; the landing page loaded fast and stock "
        "held up for the whole weekend.",
        "went_wrong": "The subject line was cut off on mobile, so the offer was not visible in "
        "the inbox; the discount code failed on the first try for about 5% of "
        "customers.",
        "discussion_notes": "The template was last tested on desktop only. The code failure came "
        "from a cache that refreshed every 15 minutes after launch.",
        "rca_method": "five_whys",
        "root_causes": "Why was the offer hidden? The subject line was 68 characters. Why? The "
        "template has no length check and tests run on desktop only.",
        "success_factors": "A single clear offer; stock confirmed with the warehouse a week "
        "before.",
        "summary": "The Black Friday email sold well, but a long subject line hid the offer on "
        "mobile and the discount code failed for some customers at launch.",
        "impact": "About 4 points of open rate below target; roughly 300 customers needed a "
        "second try or a support chat to use the code.",
        "lessons": "Preview every campaign email on a phone before it is scheduled, and keep "
        "subject lines under 40 characters.",
        "recommendations": "Add a subject-length check to the template; warm the discount cache "
        "before launch; test on mobile and desktop.",
    },
    "service_delivery": {
        "customer_name": "Acme Pty Ltd",
        "objectives": "Photograph and publish the spring catalogue (120 products) by 15 March; "
        "two review rounds with the customer.",
        "communication_plan": "Weekly call on Mondays; shared board for approvals; the account "
        "manager answers within one working day.",
        "plan_summary": "Week 1 shoot, week 2 editing, week 3 customer review, week 4 publish.",
        "resources": "Photographer 3 days, editor 5 days, copywriter 2 days.",
        "deliverables": "120 product photos, 24 lifestyle shots, catalogue copy and layout.",
        "progress_report": "Shoot and editing finished on schedule; copy is in review.",
        "issue_log": "Two products arrived late; shot in the second session.",
        "review_report": "All photos meet the style guide; 3 captions had the wrong size.",
        "quality_score": "92",
        "defects": "3",
        "acceptance_criteria": "Every product pictured, captions match the price list, "
        "approved by the marketing manager.",
        "customer_feedback": "Happy with the photos; asked for the cover image to be brighter.",
        "accepted_by": "Jordan Lee, Marketing Manager",
        "invoice_number": "INV-0042",
        "buyer_name": "Acme Pty Ltd",
        "went_well": "The shoot plan kept the team on schedule despite two late products.",
        "went_wrong": "Captions were checked against an old price list.",
        "lessons": "Check captions against the customer's current price list, not the one from "
        "kickoff.",
        "recommendations": "Ask the customer for the price list again in week 3.",
    },
    "support_postmortem": {
        "trigger": "low_ces",
        "customer_type": "end_user",
        "category": "returns",
        "ces_score": "3",
        "ticket_link": "https://help.example.com/tickets/4821",
        "what_happened": "A customer returned a faulty kettle and waited 21 days for the "
        "refund; they contacted us four times.",
        "customer_impact": "Four contacts and three weeks without their money; rated the "
        "ticket 3 out of 7.",
        "timeline": "2 Nov return received; 9 Nov inspected; 20 Nov refund approved; 23 Nov "
        "refund paid.",
        "root_causes": "Refunds over $100 need a second approval, and the approval queue is "
        "checked weekly, not daily.",
        "belongs_to": "support",
        "summary": "A faulty-item refund took 21 days because the approval queue was checked "
        "weekly.",
        "impact": "One customer waited three weeks and contacted us four times.",
        "root_cause": "The second approval for refunds over $100 waits for a weekly check.",
        "resolution": "Refund paid; the approval queue is now checked every morning.",
        "lessons": "Faulty-item refunds are owed without delay under the ACL; nothing should "
        "wait on a weekly routine.",
        "action_point_needed": True,
        "proposed_solution": "Alert the team lead when a refund waits more than 2 working days.",
        "missing_feature": False,
        "lead_feedback": "Good analysis; share the queue change with the billing team.",
        "review_comment": "Clear and complete. Closing.",
    },
}
_DECISIONS = {"systemic_issues": "no", "risk_mitigation": "no"}  # what most reviews answer
_ITEMS = (
    "Add a subject-length check to the email template",
    "Test every campaign email on a phone before scheduling",
)


def example_answers(
    stage: Stage,
    workflow_key: str,
    today: date,
    user: str = SAMPLE_USER,
    earlier: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Answers that read like a real review: facts, dates around `today`, the usual decisions.

    For the sandbox's "Fill with example answers", where "What went well 1" and "GST-free: Yes"
    teach a newcomer nothing. Fields that only apply to another answer are left out, and a date
    never comes before the date it must follow (`not_before`, in this stage or in `earlier`
    stages' answers), so the form is accepted as filled.
    """
    answers = sample_answers(stage)
    texts = {**_COMMON, **_EXAMPLES.get(workflow_key, {})}
    offsets = {
        "campaign_start": -28,
        "campaign_end": -14,
        "sync_date": -3,
        "kickoff_date": -40,
        "review_date": -5,
        "invoice_date": 0,
        "presented_on": 0,
    }
    for f in stage.fields:
        if f.key in texts:
            answers[f.key] = texts[f.key]
        elif f.type == FieldType.DATE:
            answers[f.key] = (today + timedelta(days=offsets.get(f.key, 0))).isoformat()
        elif f.type == FieldType.USER:
            answers[f.key] = user
        elif f.type == FieldType.USERS:
            answers[f.key] = [user]
        elif f.type == FieldType.GROUP:
            answers[f.key] = _example_rows(f, today, user)
    for f in stage.fields:
        if f.type == FieldType.DATE and f.not_before and answers.get(f.key):
            stage_key, _, field_key = f.not_before.rpartition(".")
            source = (earlier or {}).get(stage_key, {}) if stage_key else answers
            floor = source.get(field_key)
            if isinstance(floor, str) and floor > answers[f.key]:  # ISO dates sort as text
                answers[f.key] = floor
    for d in stage.decisions:
        if _DECISIONS.get(d.key) in {o.value for o in d.options}:
            answers[d.key] = _DECISIONS[d.key]
    for f in stage.fields:  # a field for another answer ("What needs revising") stays empty
        if not applies(stage, f, answers):
            answers.pop(f.key, None)
    return answers


def _example_rows(f: FieldDef, today: date, user: str) -> list[dict[str, Any]]:
    due = today + timedelta(days=14)
    if f.role == "invoice_lines":
        return [
            {
                "description": "Product photography, half day",
                "quantity": "2",
                "unit_price": {"amount": "450.00", "gst": "exclusive"},
                "gst_free": False,
            },
            {
                "description": "Catalogue copywriting",
                "quantity": "1",
                "unit_price": {"amount": "600.00", "gst": "exclusive"},
                "gst_free": False,
            },
        ]
    if f.key == "risks":
        return [
            {
                "risk": "Products arrive late for the shoot",
                "likelihood": "medium",
                "impact": "high",
                "mitigation": "Book a second shoot session",
            }
        ]
    if f.key == "milestones":
        return [
            {
                "milestone": "Photos approved by the customer",
                "due_date": (today - timedelta(days=20)).isoformat(),
                "owner": user,
            }
        ]
    if f.role == "action_items":
        return [
            {"title": title, "owner": user, "due_date": due.isoformat()}
            for title in _ITEMS[: max(f.min_items, 1)]
        ]
    return [{sub.key: sample_value(sub, i) for sub in f.fields} for i in range(max(f.min_items, 1))]

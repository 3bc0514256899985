"""Valid example answers for any stage: for tests, benchmarks and demo data.

Built from the definition, so a new workflow gets sample data without writing any.
"""

from __future__ import annotations

from typing import Any

from workflows.engine import OUTPUTS_KEY, confirmable_outputs
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

"""A review's complete record as Markdown, HTML or JSON: for the CLI and the Export button.

Complete means every stage's answers (every revision in JSON, the current one in the documents,
with the number of edits), the decisions, follow-ups, action items with their status, and the
audit trail of who changed what. The lessons-learned report leads when the review has one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge.service import report_data
from bot.knowledge.views import environment, render
from bot.reviews.service import workflow_of
from storage import reviews as store
from storage import surveys as survey_store
from storage.models import Decision, Review, StageSubmission
from workflows.engine import OUTPUTS_KEY
from workflows.model import FieldType, Workflow
from workflows.reports import PRIVATE_FIELDS, Fact, plain
from workflows.surveys import Response, grouped

EXPORT_FORMATS = ("markdown", "html", "json")
EXTENSIONS = {"markdown": "md", "html": "html", "json": "json"}


class ExportError(LookupError):
    pass


def _submissions(session: Session, review_id: int) -> list[StageSubmission]:
    return list(
        session.scalars(
            select(StageSubmission)
            .where(StageSubmission.review_id == review_id)
            .order_by(StageSubmission.id)
        )
    )


def _facts(
    workflow: Workflow, stage_key: str, answers: dict[str, Any], include_private: bool
) -> tuple[list[Fact], list[dict[str, Any]]]:
    """A stage's answers as labelled facts, and its groups as rows of facts."""
    stage = workflow.stage(stage_key)
    facts: list[Fact] = []
    groups: list[dict[str, Any]] = []
    for f in stage.fields:
        value = answers.get(f.key)
        if value in (None, "", []) or (f.key in PRIVATE_FIELDS and not include_private):
            continue
        if f.type == FieldType.GROUP:
            groups.append(
                {
                    "label": f.label,
                    "rows": [
                        [
                            plain(sub, row[sub.key])
                            for sub in f.fields
                            if row.get(sub.key) not in (None, "")
                        ]
                        for row in value
                    ],
                }
            )
        else:
            facts.append(plain(f, value))
    for d in stage.decisions:
        label = next((o.label for o in d.options if o.value == answers.get(d.key)), None)
        if label:
            facts.append(Fact(d.question, label))
    confirmed = [o.label for o in stage.outputs if o.key in answers.get(OUTPUTS_KEY, [])]
    if confirmed:
        facts.append(Fact("Outputs confirmed", ", ".join(confirmed)))
    return facts, groups


def record(session: Session, review: Review, *, include_private: bool = True) -> dict[str, Any]:
    """The review as plain data (the JSON export, and the context of the document templates)."""
    workflow = workflow_of(review)
    submissions = _submissions(session, review.id)
    latest: dict[str, StageSubmission] = {s.stage_key: s for s in submissions}  # the last wins
    stages = []
    for stage in workflow.stages:
        sub = latest.get(stage.key)
        if sub is None:
            continue
        facts, groups = _facts(workflow, stage.key, sub.answers, include_private)
        revisions = [s for s in submissions if s.stage_key == stage.key]
        stages.append(
            {
                "key": stage.key,
                "name": stage.name,
                "revision": sub.revision,
                "submitted_by": sub.submitted_by,
                "submitted_at": sub.submitted_at.isoformat(),
                "facts": facts,
                "groups": groups,
                "revisions": [
                    {
                        "revision": s.revision,
                        "submitted_by": s.submitted_by,
                        "submitted_at": s.submitted_at.isoformat(),
                        "answers": {
                            k: v
                            for k, v in s.answers.items()
                            if include_private or k not in PRIVATE_FIELDS
                        },
                    }
                    for s in revisions
                ],
            }
        )
    decisions = []
    for d in session.scalars(
        select(Decision).where(Decision.review_id == review.id).order_by(Decision.id)
    ):
        question, label = d.decision_key, d.option
        for stage in workflow.stages:
            for dd in stage.decisions:
                if dd.key == d.decision_key:
                    question = dd.question
                    label = next((o.label for o in dd.options if o.value == d.option), d.option)
        decisions.append(
            {
                "question": question,
                "option": d.option,
                "label": label,
                "decided_by": d.decided_by,
                "decided_at": d.decided_at.isoformat(),
            }
        )
    return {
        "review": {
            "id": review.id,
            "title": review.title,
            "workflow": workflow.key,
            "workflow_name": workflow.name,
            "status": review.status,
            "owner": review.owner_id,
            "started_by": review.started_by,
            "channel": review.channel_id,
            "permalink": review.permalink,
            "created_at": review.created_at.isoformat(),
            "completed_at": review.completed_at.isoformat() if review.completed_at else None,
        },
        "stages": stages,
        "decisions": decisions,
        "follow_ups": [
            {
                "kind": f.kind,
                "title": f.title,
                "detail": f.detail,
                "status": f.status,
                "created_at": f.created_at.isoformat(),
            }
            for f in store.follow_ups(session, review.id)
        ],
        "action_items": [
            {
                "id": i.id,
                "title": i.title,
                "owner": i.owner_id,
                "due_date": i.due_date.isoformat() if i.due_date else None,
                "status": i.status,
                "tracking_link": i.tracking_link,
                "status_note": i.status_note,
                "completed_at": i.completed_at.isoformat() if i.completed_at else None,
            }
            for i in review.action_items
        ],
        "audit": [
            {"at": a.at.isoformat(), "actor": a.actor, "action": a.action, "detail": a.detail}
            for a in store.audit_trail(session, review.id)
        ],
        "surveys": _surveys(session, review, workflow),
    }


def _surveys(session: Session, review: Review, workflow: Workflow) -> list[dict[str, Any]]:
    """Each stage's feedback survey, question by question. An anonymous answer has `by` None:
    its row holds no name, so neither does anything made from it."""
    out = []
    for stage in workflow.stages:
        if stage.survey is None:
            continue
        survey = survey_store.find(session, review.id, stage.key)
        if survey is None:
            continue
        responses = [
            Response(answers, by)
            for answers, by in survey_store.stage_responses(session, review.id, stage.key)
        ]
        out.append(
            {
                "stage": stage.name,
                "sent_at": survey.sent_at.isoformat(),
                "closes_at": survey.closes_at.isoformat(),
                "asked": len(survey_store.delivered_to(session, survey.id, survey_store.ASKED)),
                "answered": len(responses),
                "anonymous": sum(1 for r in responses if r.user_id is None),
                "questions": grouped(stage, responses),
            }
        )
    return out


def _default(value: Any) -> Any:
    if isinstance(value, Fact):
        return {"label": value.label, "value": value.value, "kind": value.kind}
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def export_review(
    session: Session,
    review_id: int,
    fmt: str,
    *,
    include_private: bool = True,
    names: Mapping[str, str] | None = None,
    templates_dir: Path | None = None,
) -> str:
    """The review in `fmt` (markdown, html, json); raises ExportError for an unknown review."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")
    review = store.get_review(session, review_id)
    if review is None:
        raise ExportError(f"no review with id {review_id}")
    data = record(session, review, include_private=include_private)
    report = report_data(session, review)
    if fmt == "json":
        if report is not None:
            data["report"] = render(report, "md", names=names, templates_dir=templates_dir)
        return json.dumps(data, indent=2, ensure_ascii=False, default=_default) + "\n"
    kind = "md" if fmt == "markdown" else "html"
    # Already escaped for its format by its own template.
    rendered = (
        render(report, kind, names=names, templates_dir=templates_dir)
        if report is not None
        else None
    )
    report_text = Markup(rendered) if rendered is not None else None  # noqa: S704
    template = environment(kind, templates_dir).get_template(f"export.{kind}.j2")
    text = template.render(data=data, report=report_text, names={} if names is None else names)
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"


def filename(review: Review, fmt: str) -> str:
    stem = "".join(c if c.isalnum() else "-" for c in review.title.lower()).strip("-")
    stem = "-".join(part for part in stem.split("-") if part)[:60] or "review"
    return f"review-{review.id}-{stem}.{EXTENSIONS[fmt]}"

"""The lessons-learned report as data: which answers go in which section, tags, search queries.

Pure: the bot renders this with its templates (Slack mrkdwn, Markdown, HTML) and storage keeps the
searchable text. Section contents are picked by field key across the workflow's stages, so a new
workflow gets a report by reusing the usual keys (summary, impact, lessons, root_causes...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from workflows.au.budget import compare
from workflows.model import FieldDef, FieldType, Stage, Workflow

# Answers the seeds keep from the team ("a comment visible only to admins"): never in a report
# or in an export posted to a channel.
PRIVATE_FIELDS = frozenset({"admin_comment"})

# Report section -> field keys that feed it, in order (several can apply, e.g. support reviews
# have an analysis and a report stage).
SECTIONS: dict[str, tuple[str, ...]] = {
    "summary": ("summary", "what_happened", "objectives"),
    "impact": ("impact", "customer_impact"),
    "went_well": ("went_well", "success_factors"),
    "went_wrong": ("went_wrong",),
    "root_causes": ("root_causes", "root_cause", "systemic_issue"),
    "resolution": ("resolution", "proposed_solution", "no_action_summary"),
    "lessons": ("lessons",),
    "recommendations": ("recommendations",),
}
FIRST_ONLY = frozenset({"summary", "impact"})  # one answer says it; the others would repeat it
# Support post-mortems (seed 001): the labels of the report's facts, in this order.
SUPPORT_LABELS = (
    "trigger",
    "customer_type",
    "category",
    "product",
    "ticket_link",
    "ces_score",
    "ticket_owner",
    "belongs_to",
    "contacted",
    "team_aware",
    "related_task",
    "action_point_needed",
    "missing_feature",
    "kb_article",
)
TIMELINE_KEYS = (
    "campaign_start",
    "campaign_end",
    "sync_date",
    "kickoff_date",
    "review_date",
    "invoice_date",
    "presented_on",
)
_STOP = (
    "a an and are as at be by for from has in is it of on or our the this to was we were "
    "with review post mortem postmortem"
)
STOPWORDS = frozenset(_STOP.split())


@dataclass(frozen=True)
class Fact:
    """One labelled value; `kind` tells the template how to show it (text, url, user, date:
    an ISO date)."""

    label: str
    value: str
    kind: str = "text"


@dataclass(frozen=True)
class Passes:
    """A stage's decisions, once per time it was submitted: "pass 1: Revision required — ..."."""

    stage: str  # the stage's name
    passes: tuple[str, ...]
    key: str = ""  # the stage's key


@dataclass(frozen=True)
class SurveyTally:
    """How many answered the review's feedback survey, of those asked; anonymous answers are
    counted here and named nowhere."""

    answered: int
    asked: int
    anonymous: int


@dataclass(frozen=True)
class ReportData:
    title: str
    workflow_key: str
    workflow_name: str
    sections: dict[str, str]
    rca_method: str | None = None
    timeline_text: str | None = None
    timeline: tuple[Fact, ...] = ()
    labels: tuple[Fact, ...] = ()
    action_items: tuple[dict[str, Any], ...] = ()
    tags: tuple[str, ...] = ()
    share_at_meeting: bool = False
    category: str | None = None
    product: str | None = None
    team: str | None = None
    decisions: tuple[Passes, ...] = ()
    budget: tuple[str, ...] = ()  # budget vs actual, monospaced rows (see `budget_table`)
    # Who confirmed the improvements were implemented (a Slack user id), once every item is done.
    improvements_confirmed_by: str | None = None
    # Who took part (Slack user ids, the review's participants), listed by name in the report.
    participants: tuple[str, ...] = ()
    # The feedback survey's count (None when none was sent), shown under "Who took part".
    survey: SurveyTally | None = None

    def section(self, key: str) -> str:
        return self.sections.get(key, "")


ESCALATED = "escalated"  # the section "Escalated for organisational change"


def escalated_fields(workflow: Workflow, answers: dict[str, dict[str, Any]]) -> set[str]:
    """Comment fields of decisions answered with an escalation ("Yes: escalate for
    organisational change"): the report shows them under their own heading, not mixed into the
    root causes, so a reader sees what was escalated."""
    keys = set()
    for stage in workflow.stages:
        given = answers.get(stage.key) or {}
        for d in stage.decisions:
            chosen = next((o for o in d.options if o.value == given.get(d.key)), None)
            if (
                d.comment_field
                and chosen
                and chosen.follow_up
                and (chosen.follow_up.kind == "escalation")
            ):
                keys.add(d.comment_field)
    return keys


def report_stage(workflow: Workflow) -> Stage | None:
    """The stage whose submission builds the report (flagged `report: true`)."""
    return next((s for s in workflow.stages if s.report), None)


FORM_HINT = re.compile(r"\s*\((?:comma-separated|optional)\)", re.IGNORECASE)


def shown_label(label: str) -> str:
    """A field's label as posted: "Tags (comma-separated)" is how to fill the form, not what the
    answer is, so such hints stay in the form."""
    return FORM_HINT.sub("", label).strip() or label


def plain(f: FieldDef, value: Any) -> Fact:
    """An answer as a fact; choices become their labels, users and links keep their kind."""
    label = shown_label(f.label)
    t = f.type
    if t == FieldType.USER:
        return Fact(label, str(value), "user")
    if t == FieldType.URL or (
        t == FieldType.TRACKER_TASK and str(value).startswith(("https://", "http://"))
    ):
        return Fact(label, str(value), "url")
    if t == FieldType.YES_NO:
        return Fact(label, "Yes" if value else "No")
    if t == FieldType.CHOICE:
        return Fact(label, next((o.label for o in f.options if o.value == value), str(value)))
    if t == FieldType.MULTI_CHOICE:
        return Fact(label, ", ".join(o.label for o in f.options if o.value in value))
    if t == FieldType.USERS:
        return Fact(label, " ".join(value), "users")
    if t == FieldType.MONEY:
        basis = "incl." if value.get("gst") == "inclusive" else "excl."
        return Fact(label, f"${float(value['amount']):,.2f} {basis} GST")
    if t == FieldType.DATE:
        return Fact(label, str(value), "date")  # ISO; each format shows it its own way
    return Fact(label, str(value))


def _fields(
    workflow: Workflow, answers: dict[str, dict[str, Any]]
) -> Iterator[tuple[Stage, FieldDef, Any]]:
    for stage in workflow.stages:
        given = answers.get(stage.key) or {}
        for f in stage.fields:
            value = given.get(f.key)
            if value not in (None, "", []) and f.key not in PRIVATE_FIELDS:
                yield stage, f, value


YES_NO_LABELS = frozenset({"yes", "no"})


def _pass_text(stage: Stage, answers: dict[str, Any], shown: frozenset[str]) -> str:
    parts = []
    for d in stage.decisions:
        chosen = next((o for o in d.options if o.value == answers.get(d.key)), None)
        if chosen is None:
            continue
        # A bare "Yes" means nothing without its question; "Revision required" says it all.
        text = (
            f"{d.question} {chosen.label}"
            if chosen.label.lower() in YES_NO_LABELS
            else chosen.label
        )
        comment = (
            answers.get(d.comment_field)
            if d.comment_field and d.comment_field not in shown
            else None
        )
        if isinstance(comment, str) and comment.strip():
            text += " — " + _clip(" ".join(comment.split()), 300)
        parts.append(text)
    return " · ".join(parts)


def _clip(text: str, limit: int) -> str:
    """On a word boundary, with an ellipsis (the report keeps a comment to a line or two)."""
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def decision_passes(
    workflow: Workflow,
    passes: list[tuple[str, dict[str, Any]]],
    shown: frozenset[str] = frozenset(),
) -> tuple[Passes, ...]:
    """Every stage's decisions, pass by pass, from (stage key, answers) oldest first.

    A stage sent back and decided again keeps each pass: the first "Revision required" and its
    comment are the review's history, not noise. Comments of fields in `shown` (already in the
    report's sections) are left out rather than printed twice.
    """
    by_stage: dict[str, list[dict[str, Any]]] = {}
    for key, answers in passes:
        by_stage.setdefault(key, []).append(answers)
    out = []
    for stage in workflow.stages:
        if not stage.decisions:
            continue
        texts = tuple(
            t for t in (_pass_text(stage, a, shown) for a in by_stage.get(stage.key, [])) if t
        )
        if texts:
            out.append(Passes(stage.name, texts, stage.key))
    return tuple(out)


def budget_table(workflow: Workflow, answers: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    """Budget vs actual on both GST bases as monospaced rows, when the workflow has fields in
    those roles; () otherwise. The figures that matter most in a campaign's report."""
    found: dict[str, dict[str, str]] = {}
    for stage in workflow.stages:
        for f in stage.fields:
            if f.role in ("budget", "actual") and answers.get(stage.key, {}).get(f.key):
                found[f.role] = answers[stage.key][f.key]
    if len(found) < 2:
        return ()
    c = compare(found["budget"], found["actual"])

    def cell(value: Decimal, signed: bool = False) -> str:
        text = f"{'+' if signed and value > 0 else ''}{'-' if value < 0 else ''}${abs(value):,.2f}"
        return f"{text:>14}"

    pct = f" ({c.variance_pct:+}%)" if c.variance_pct is not None else ""
    return (
        f"{'':<9}{'incl. GST':>14}{'excl. GST':>14}",
        f"{'Budget':<9}{cell(c.budget.incl)}{cell(c.budget.excl)}",
        f"{'Actual':<9}{cell(c.actual.incl)}{cell(c.actual.excl)}",
        f"{'Variance':<9}{cell(c.variance_incl, True)}{cell(c.variance_excl, True)}{pct}",
    )


def parse_tags(text: str | None) -> list[str]:
    """ "Black Friday, email ,email" -> ["black-friday", "email"]: lower-case, unique, in order."""
    seen: list[str] = []
    for raw in re.split(r"[,;#\n]", text or ""):
        tag = slug(raw)
        if tag and tag not in seen:
            seen.append(tag)
    return seen[:20]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def build(
    workflow: Workflow,
    title: str,
    answers: dict[str, dict[str, Any]],
    action_items: list[dict[str, Any]] | None = None,
    *,
    improvements_confirmed_by: str | None = None,
    passes: list[tuple[str, dict[str, Any]]] | None = None,
    participants: tuple[str, ...] = (),
    survey: SurveyTally | None = None,
) -> ReportData:
    """Everything the report shows, from the review's current answers and action items.

    `passes` is every submission that moved the review, (stage key, answers) oldest first; by
    default one pass per answered stage (its current answers).
    """
    sections: dict[str, list[str]] = {k: [] for k in (*SECTIONS, ESCALATED)}
    escalated = escalated_fields(workflow, answers)
    by_key: dict[str, tuple[FieldDef, Any]] = {}
    for _, f, value in _fields(workflow, answers):
        by_key.setdefault(f.key, (f, value))
        if f.key in escalated and f.type in (FieldType.TEXT, FieldType.LONG_TEXT):
            sections[ESCALATED].append(str(value).strip())
            continue
        for section, keys in SECTIONS.items():
            if f.key in keys and f.type in (FieldType.TEXT, FieldType.LONG_TEXT):
                sections[section].append(str(value).strip())
    rca = by_key.get("rca_method")
    timeline = tuple(plain(*by_key[k]) for k in TIMELINE_KEYS if k in by_key)
    for _, f, value in _fields(workflow, answers):
        if f.key == "milestones":
            timeline += tuple(
                Fact(row.get("milestone", ""), row.get("due_date", ""), "date") for row in value
            )
    labels: tuple[Fact, ...] = ()
    if workflow.key == "support_postmortem":
        labels = tuple(plain(*by_key[k]) for k in SUPPORT_LABELS if k in by_key)
    free = by_key.get("tags")
    category = by_key.get("category")
    product = by_key.get("product")
    team = by_key.get("belongs_to")
    share = by_key.get("share_at_meeting")
    tags = [slug(workflow.key.split("_")[0])]
    for extra in (
        category[1] if category else None,
        product[1] if product else None,
        team[1] if team else None,
    ):
        if extra:
            tags.append(slug(str(extra)))
    tags += parse_tags(free[1] if free else None)
    text_timeline = by_key.get("timeline")
    return ReportData(
        title=title,
        workflow_key=workflow.key,
        workflow_name=workflow.name,
        sections={
            k: "\n\n".join(v[:1] if k in FIRST_ONLY else v) for k, v in sections.items() if v
        },
        rca_method=plain(*rca).value if rca else None,
        timeline_text=str(text_timeline[1]) if text_timeline else None,
        timeline=timeline,
        labels=labels,
        action_items=tuple(action_items or ()),
        tags=tuple(dict.fromkeys(t for t in tags if t)),
        share_at_meeting=bool(share[1]) if share else False,
        category=plain(*category).value if category else None,
        product=str(product[1]) if product else None,
        team=plain(*team).value if team else None,
        improvements_confirmed_by=improvements_confirmed_by,
        participants=tuple(participants),
        survey=survey,
        budget=budget_table(workflow, answers),
        decisions=decision_passes(
            workflow,
            passes
            if passes is not None
            else [(s.key, answers[s.key]) for s in workflow.stages if s.key in answers],
            frozenset(k for keys in SECTIONS.values() for k in keys),
        ),
    )


@dataclass(frozen=True)
class Query:
    """`/postmortem search refunds workflow:support tag:returns after:2026-01-01`."""

    words: tuple[str, ...] = ()
    workflow: str | None = None
    tags: tuple[str, ...] = ()
    after: date | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.words or self.workflow or self.tags or self.after)


def parse_query(text: str) -> Query:
    """Words and `name:value` filters; an unknown filter or a bad date is a problem to show."""
    words: list[str] = []
    tags: list[str] = []
    workflow = after = None
    problems: list[str] = []
    for token in text.split():
        name, sep, value = token.partition(":")
        name = name.lower()
        if sep and value and name in ("workflow", "tag", "after"):
            if name == "workflow":
                workflow = value.lower()
            elif name == "tag":
                tags.append(slug(value))
            else:
                try:
                    after = date.fromisoformat(value)
                except ValueError:
                    problems.append(f"after:{value} is not a date like 2026-01-31")
            continue
        words += [w for w in re.findall(r"\w+", token.lower()) if w]
    return Query(tuple(words), workflow, tuple(t for t in tags if t), after, tuple(problems))


def similar_words(*texts: str | None, limit: int = 12) -> tuple[str, ...]:
    """Distinctive words of a title and category, for the "similar lessons" search."""
    words: list[str] = []
    for text in texts:
        for w in re.findall(r"\w+", (text or "").lower()):
            if len(w) > 2 and w not in STOPWORDS and w not in words:
                words.append(w)
    return tuple(words[:limit])

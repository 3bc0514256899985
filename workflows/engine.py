"""The pure workflow engine: clean a stage's answers, find what is missing, decide where to go.

Answers are JSON-native so storage can keep them as they are: text as str, numbers as decimal
strings, money as `{"amount": "12.50", "gst": "inclusive"}`, dates as ISO strings, yes/no as bool,
groups as lists of dicts, decisions as the chosen option's value, confirmed outputs under
`OUTPUTS_KEY`. Nothing here knows about Slack or SQL.

A form may give one GST basis for all of a stage's money fields (outside groups) under
`GST_KEY`; each stored amount still carries its own basis, so reports read answers as before.
A field with `required_when` is asked only when its condition holds: otherwise it is not part
of the stage, and whatever it held is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse

from workflows import rules
from workflows.au import abn
from workflows.links import link_problem
from workflows.model import (
    END,
    NEXT,
    Condition,
    FieldDef,
    FieldType,
    FollowUp,
    Output,
    Role,
    Stage,
    Workflow,
)
from workflows.tasks import task_reference_problem

OUTPUTS_KEY = "_outputs"
GST_KEY = "_gst"  # the stage's one GST basis for its money fields, as a form enters it
GST_BASES = ("inclusive", "exclusive")
MISSING_BASIS = "Say whether the amounts include GST or not."

Answers = dict[str, Any]
Errors = dict[str, str]


def _blank(value: Any) -> bool:
    """Nothing entered. Slack reports an untouched money field as `{amount: None, gst: None}`;
    a GST basis chosen without an amount is still no amount."""
    if isinstance(value, Mapping):
        return (
            _blank(value["amount"]) if "amount" in value else all(_blank(v) for v in value.values())
        )
    return value is None or value == "" or value == []


def _decimal(text: Any) -> Decimal | None:
    try:
        number = Decimal(str(text).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _check_range(f: FieldDef, number: Decimal) -> str | None:
    if f.min is not None and number < f.min:
        return f"Must be at least {f.min}."
    if f.max is not None and number > f.max:
        return f"Must be at most {f.max}."
    return None


def clean_value(f: FieldDef, raw: Any) -> tuple[Any, str | None]:
    """Normalise one answer to its stored form, or explain (to the user) why it is wrong."""
    t = f.type
    if t in (FieldType.TEXT, FieldType.LONG_TEXT):
        text = str(raw).strip()
        limit = f.max_length or (3000 if t == FieldType.LONG_TEXT else 150)
        if len(text) > limit:
            return text, f"Keep this under {limit} characters (it has {len(text)})."
        return text, None
    if t in (FieldType.NUMBER, FieldType.PERCENTAGE):
        number = _decimal(str(raw).rstrip("%"))
        if number is None:
            return raw, "Enter a number, e.g. 42 or 3.5."
        if t == FieldType.PERCENTAGE and f.min is None and not Decimal(0) <= number <= 100:
            return raw, "Enter a percentage between 0 and 100."
        return str(number), _check_range(f, number)
    if t == FieldType.MONEY:
        amount_raw = raw.get("amount") if isinstance(raw, Mapping) else raw
        basis = raw.get("gst") if isinstance(raw, Mapping) else None
        amount = _decimal(amount_raw)
        if amount is None:
            return raw, "Enter an amount in dollars, e.g. 1250.00."
        if amount != amount.quantize(Decimal("0.01")):
            return raw, "Enter dollars and cents: at most two decimal places."
        if amount < 0 and (f.min is None or f.min >= 0):
            return raw, "The amount can't be negative."
        if basis not in GST_BASES:
            return raw, "Say whether this amount includes GST or not."
        value = {"amount": str(amount.quantize(Decimal("0.01"))), "gst": basis}
        return value, _check_range(f, amount)
    if t == FieldType.DATE:
        try:
            return date.fromisoformat(str(raw)).isoformat(), None
        except ValueError:
            return raw, "Pick a date."
    if t == FieldType.URL:
        text = str(raw).strip()
        parts = urlparse(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return text, "Enter a full link starting with https://"
        if problem := link_problem(text):
            return text, f"This link {problem}."
        return text, None
    if t == FieldType.TRACKER_TASK:
        text = str(raw).strip()
        return text, task_reference_problem(text)
    if t == FieldType.ABN:
        problem = abn.validation_error(str(raw))
        return (abn.format(str(raw)) if problem is None else raw), problem
    if t == FieldType.YES_NO:
        if isinstance(raw, bool):
            return raw, None
        if str(raw).lower() in ("yes", "true"):
            return True, None
        if str(raw).lower() in ("no", "false"):
            return False, None
        return raw, "Choose yes or no."
    if t == FieldType.CHOICE:
        allowed = {o.value for o in f.options}
        return raw, None if raw in allowed else "Choose one of the options."
    if t == FieldType.MULTI_CHOICE:
        values = list(raw) if isinstance(raw, list | tuple) else [raw]
        allowed = {o.value for o in f.options}
        return values, None if set(values) <= allowed else "Choose from the options."
    if t in (FieldType.USER, FieldType.CHANNEL):
        return str(raw), None
    if t == FieldType.USERS:
        return list(raw) if isinstance(raw, list | tuple) else [raw], None
    raise ValueError(f"clean_value cannot handle {t}")


def condition_holds(condition: Condition, answers: Mapping[str, Any]) -> bool:
    """The answer equals the condition's value; for a multiple choice, the value is chosen."""
    value = answers.get(condition.field)
    if isinstance(value, list | tuple):
        return condition.equals in value
    return value == condition.equals


def is_required(f: FieldDef, answers: Mapping[str, Any]) -> bool:
    if f.required_when is not None:
        return condition_holds(f.required_when, answers)
    return f.required


def _as_answered(stage: Stage, key: str, values: Mapping[str, Any]) -> Any:
    """A field's value as `clean` would store it (a form's "yes" is True), None when it is
    blank or invalid: what a condition on it compares with."""
    value = values.get(key)
    try:
        f = stage.field(key)
    except KeyError:
        return value  # a decision: the chosen option's value
    if _blank(value):
        return None
    cleaned, problem = clean_value(f, value)
    return None if problem else cleaned


def condition_met(
    stage: Stage,
    condition: Condition,
    values: Mapping[str, Any],
    _seen: frozenset[str] = frozenset(),
) -> bool:
    """`condition_holds` for raw form values as well as clean answers; a condition on a field
    that is not asked itself never holds."""
    if condition.field in _seen:
        return False  # a loop of conditions: none of them can be answered
    try:
        controller = stage.field(condition.field)
    except KeyError:
        controller = None
    if controller is not None and not applies(stage, controller, values, _seen | {condition.field}):
        return False
    return condition_holds(
        condition, {condition.field: _as_answered(stage, condition.field, values)}
    )


def applies(
    stage: Stage, f: FieldDef, values: Mapping[str, Any], _seen: frozenset[str] = frozenset()
) -> bool:
    """Whether the stage asks for `f` given the other answers (raw or clean).

    A field with `required_when` is needed only for one answer, so the form shows it only
    then: a shorter form for the usual case, and no stale answer for a question that no
    longer applies.
    """
    return f.required_when is None or condition_met(stage, f.required_when, values, _seen)


def controllers(stage: Stage) -> set[str]:
    """Fields and decisions whose answer changes what the form asks or requires."""
    keys = {f.required_when.field for f in stage.fields if f.required_when is not None}
    return keys | {c.when.field for c in stage.checks if len(c.any_of) == 1}


def required_now(stage: Stage, f: FieldDef, values: Mapping[str, Any]) -> bool:
    """Whether `clean` will refuse the field left blank, given the other answers as they are:
    what a form may have Slack enforce, and so show without "(optional)"."""
    if not applies(stage, f, values):
        return False
    if f.required_when is not None or f.required:
        return True
    return any(
        check.any_of == (f.key,) and condition_met(stage, check.when, values)
        for check in stage.checks
    )


def rows_needed_now(stage: Stage, f: FieldDef, values: Mapping[str, Any]) -> int:
    """How many items a group must have given the other answers: the rows a form shows
    whatever else is entered, each with its fields required."""
    if not applies(stage, f, values):
        return 0
    return max(f.min_items, 1 if required_now(stage, f, values) else 0)


def rows_needed(f: FieldDef, answers: Mapping[str, Any]) -> int:
    """How many items a group must have, given the other answers."""
    return max(f.min_items, 1 if is_required(f, answers) else 0)


def when_required(stage: Stage, f: FieldDef) -> str | None:
    """When an optional-looking field is needed after all (a check on another answer asks for
    it), in the form's own words."""
    conditions = [c.when for c in stage.checks if c.any_of == (f.key,)]
    if not conditions or len({c.field for c in conditions}) > 1:
        return None
    key = conditions[0].field
    decision = next((d for d in stage.decisions if d.key == key), None)
    if decision is not None:
        question = decision.question
        labels = {o.value: o.label for o in decision.options}
    else:
        source = stage.field(key)
        question = source.label
        labels = {o.value: o.label for o in source.options}
    answers = [
        ("Yes" if c.equals else "No")
        if isinstance(c.equals, bool)
        else labels.get(str(c.equals), str(c.equals))
        for c in conditions
    ]
    quoted = " or ".join(f"“{a}”" for a in answers)
    return f"Needed if you answer {quoted} to “{question}”."


def required_in_row(sub: FieldDef) -> bool:
    """A group's sub-field that every item filled in must have (an action item's owner)."""
    return sub.required


def _clean_group(
    f: FieldDef, raw: Any, errors: Errors, shown_at: list[int] | None = None
) -> list[dict[str, Any]]:
    """The group's filled rows; `shown_at` receives each kept row's index in the form."""
    items = raw if isinstance(raw, list) else []
    cleaned: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        item = item if isinstance(item, Mapping) else {}
        if all(_blank(item.get(sub.key)) for sub in f.fields):
            continue  # an empty row the user added and left blank
        if shown_at is not None:
            shown_at.append(index)
        row: dict[str, Any] = {}
        for sub in f.fields:
            value = item.get(sub.key)
            path = f"{f.key}.{index}.{sub.key}"
            if _blank(value):
                if required_in_row(sub):
                    errors[path] = f"{sub.label} is required for this item."
                continue
            row[sub.key], problem = clean_value(sub, value)
            if problem:
                errors[path] = problem
        cleaned.append(row)
    return cleaned


@dataclass(frozen=True)
class Earlier:
    """The review's answers to other stages, which a stage's checks may read
    (`not_before: kickoff.kickoff_date`)."""

    workflow: Workflow
    answers: Mapping[str, Mapping[str, Any]]

    def answer(self, ref: str) -> tuple[FieldDef, Any] | None:
        stage_key, field_key = ref.split(".")
        try:
            source = self.workflow.stage(stage_key).field(field_key)
        except KeyError:
            return None
        return source, (self.answers.get(stage_key) or {}).get(field_key)


def _as_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _date_order(
    stage: Stage,
    f: FieldDef,
    value: Any,
    row: Mapping[str, Any],
    answers: Mapping[str, Any],
    earlier: Earlier | None,
) -> str | None:
    """Why a date can't stand: it comes before the date its definition says it follows."""
    if not f.not_before:
        return None
    bound = (
        (earlier.answer(f.not_before) if earlier else None)
        if "." in f.not_before
        else (stage.date_bound(f, row, answers))
    )
    if bound is None:
        return None
    source, start = bound[0], _as_date(bound[1])
    end = _as_date(value)
    if start is None or end is None or end >= start:
        return None
    return f"This can't be before “{source.label}” ({start.strftime('%a %-d %b %Y')})."


def _check_dates(
    stage: Stage,
    answers: Answers,
    errors: Errors,
    earlier: Earlier | None,
    shown_at: Mapping[str, list[int]],
) -> None:
    for f in stage.fields:
        if f.type != FieldType.GROUP:
            problem = _date_order(stage, f, answers.get(f.key), {}, answers, earlier)
            if problem:
                errors.setdefault(f.key, problem)
            continue
        for index, row in enumerate(answers.get(f.key) or []):
            for sub in f.fields:
                problem = _date_order(stage, sub, row.get(sub.key), row, answers, earlier)
                if problem:
                    errors.setdefault(f"{f.key}.{shown_at[f.key][index]}.{sub.key}", problem)


def confirmable_outputs(stage: Stage) -> list[Output]:
    """Outputs the form asks the user to tick (the rest are fields or confirmed later)."""
    return [o for o in stage.outputs if o.field is None and o.when == "stage"]


def error_key(stage: Stage, key: str) -> str:
    """Where an error about a field shows: a group's errors sit on its first item's first input."""
    f = stage.field(key)
    return f"{key}.0.{f.fields[0].key}" if f.type == FieldType.GROUP else key


def clean(
    stage: Stage,
    raw: Mapping[str, Any],
    context: rules.RuleContext | None = None,
    earlier: Earlier | None = None,
) -> tuple[Answers, Errors]:
    """Validate a submission: normalised answers, and errors keyed by field (or `group.i.sub`).

    `earlier` holds the review's other answers, for checks that read them; without it those
    checks are left to the final submit.
    """
    answers: Answers = {}
    errors: Errors = {}
    shown_at: dict[str, list[int]] = {}  # cleaned row -> row in the form (blank rows dropped)
    raw = with_stage_basis(stage, raw)
    asked = [f for f in stage.fields if applies(stage, f, raw)]
    unsettled: set[str] = set()  # an amount given without a basis: not missing, not clean
    # A group not asked has no items (readers of the answers count on every group's list).
    answers.update(
        {f.key: [] for f in stage.fields if f.type == FieldType.GROUP and f not in asked}
    )
    for f in asked:
        if f.type == FieldType.GROUP:
            rows = _clean_group(f, raw.get(f.key), errors, shown_at.setdefault(f.key, []))
            answers[f.key] = rows
            continue
        value = raw.get(f.key)
        if _blank(value):
            continue
        if (
            f.type == FieldType.MONEY
            and isinstance(value, Mapping)
            and (value.get("gst") not in GST_BASES)
        ):
            errors[GST_KEY] = MISSING_BASIS  # one basis for the stage, asked once
            unsettled.add(f.key)
            continue
        answers[f.key], problem = clean_value(f, value)
        if problem:
            errors[f.key] = problem
    for d in stage.decisions:
        choice = raw.get(d.key)
        if choice in {o.value for o in d.options}:
            answers[d.key] = choice
        else:
            errors[d.key] = "Choose an answer."
    for f in asked:  # requirements second: required_when reads the cleaned answers
        if f.key in errors or f.key in unsettled:
            continue
        if f.type == FieldType.GROUP:
            count = len(answers[f.key])
            needed = rows_needed(f, answers)
            if count < needed:
                errors[error_key(stage, f.key)] = (
                    f"Add at least {needed} {f.label.lower()}."
                    if needed > 1
                    else f"Add at least one: {f.label.lower()}."
                )
            elif count > f.max_items:
                errors[f.key] = f"At most {f.max_items} items."
        elif f.key not in answers and is_required(f, answers):
            errors[f.key] = (
                "This is required."
                if f.required_when is None
                else ("This is required for the answer you gave above.")
            )
    _check_dates(stage, answers, errors, earlier, shown_at)
    confirmed = raw.get(OUTPUTS_KEY) or []
    known = {o.key for o in confirmable_outputs(stage)}
    answers[OUTPUTS_KEY] = [k for k in confirmed if k in known]
    missing = [
        o.label
        for o in confirmable_outputs(stage)
        if o.required and o.key not in answers[OUTPUTS_KEY]
    ]
    if missing:
        errors[OUTPUTS_KEY] = "Confirm before finishing this stage: " + "; ".join(missing) + "."
    for check in stage.checks:
        if condition_holds(check.when, answers) and all(
            _blank(answers.get(k)) for k in check.any_of
        ):
            # Next to a field the form shows: a group without rows has no input to carry it.
            shown = [
                k for k in check.any_of if stage.field(k).type != FieldType.GROUP or raw.get(k)
            ]
            errors.setdefault(error_key(stage, (shown or list(check.any_of))[0]), check.message)
    if not errors and stage.rules:  # domain rules need clean fields to work on
        rule_errors, _ = rules.run(stage.rules, answers, context)
        errors.update({_rule_error_key(stage, k, shown_at): m for k, m in rule_errors.items()})
    return answers, errors


def with_stage_basis(stage: Stage, raw: Mapping[str, Any]) -> dict[str, Any]:
    """`raw` with the stage's one GST basis (`GST_KEY`), when given, on each of its amounts
    outside groups: budget and actual spend can't be entered on different bases."""
    out = dict(raw)
    basis = raw.get(GST_KEY)
    if basis not in GST_BASES:
        return out
    for f in stage.fields:
        value = raw.get(f.key)
        if f.type == FieldType.MONEY and not _blank(value):
            amount = value.get("amount") if isinstance(value, Mapping) else value
            out[f.key] = {"amount": amount, "gst": basis}
    return out


def stage_basis(stage: Stage, values: Mapping[str, Any]) -> str | None:
    """The GST basis a stage's amounts are on: the form's choice, else the one basis its
    stored amounts share (None when they differ, as answers entered before one basis per
    stage may)."""
    if values.get(GST_KEY) in GST_BASES:
        return str(values[GST_KEY])
    bases = {
        v.get("gst")
        for f in stage.fields
        if f.type == FieldType.MONEY
        and isinstance(v := values.get(f.key), Mapping)
        and v.get("gst") in GST_BASES
    }
    return bases.pop() if len(bases) == 1 else None


def _rule_error_key(stage: Stage, key: str, shown_at: Mapping[str, list[int]]) -> str:
    """Where a domain rule's error shows. A rule sees the cleaned rows (blank rows dropped), so
    `group.i.sub` is moved to the row the person typed it in; other dotted keys go to the
    group's first input."""
    parts = key.split(".")
    if len(parts) == 3 and parts[1].isdigit() and parts[0] in shown_at:
        rows = shown_at[parts[0]]
        index = int(parts[1])
        if index < len(rows) and any(sub.key == parts[2] for sub in stage.field(parts[0]).fields):
            return f"{parts[0]}.{rows[index]}.{parts[2]}"
    return error_key(stage, parts[0]) if "." in key else key


@dataclass(frozen=True)
class Transition:
    """Where a submitted stage leads."""

    next_stage: str | None
    complete: bool
    status: str
    decisions: dict[str, str] = field(default_factory=dict)
    follow_ups: tuple[tuple[str, FollowUp], ...] = ()
    looped_back: bool = False
    findings: tuple[rules.Finding, ...] = ()


def transition(
    workflow: Workflow,
    stage_key: str,
    answers: Mapping[str, Any],
    context: rules.RuleContext | None = None,
) -> Transition:
    """Apply a stage's decisions: the first option that leaves the normal order wins."""
    stage = workflow.stage(stage_key)
    findings = tuple(rules.run(stage.rules, answers, context)[1])
    goto = NEXT
    status: str | None = stage.sets_status
    follow_ups: list[tuple[str, FollowUp]] = []
    decisions: dict[str, str] = {}
    for d in stage.decisions:
        chosen = next(o for o in d.options if o.value == answers[d.key])
        decisions[d.key] = chosen.value
        if chosen.follow_up:
            follow_ups.append((d.key, chosen.follow_up))
        if chosen.goto != NEXT and goto == NEXT:
            goto = chosen.goto
        if chosen.sets_status:
            status = chosen.sets_status
    if goto == NEXT:
        index = workflow.index(stage_key) + 1
        goto = workflow.stages[index].key if index < len(workflow.stages) else END
    looped = goto != END and workflow.index(goto) <= workflow.index(stage_key)
    if goto == END:
        return Transition(
            None, True, workflow.statuses[-1], decisions, tuple(follow_ups), findings=findings
        )
    return Transition(
        goto, False, status or "in_progress", decisions, tuple(follow_ups), looped, findings
    )


def may_act(stage: Stage, *, is_admin: bool, is_owner: bool, assigned: bool | None = None) -> bool:
    """Role restrictions are enforced by the server; the UI only mirrors them.

    `assigned`: None when the stage is handed to nobody, True when to this user, False when to
    someone else. An assigned stage is for its assignee, the review's owner and admins; an
    admin's stage stays the admins' whoever it is assigned to.
    """
    if stage.role == Role.ADMIN:
        return is_admin
    if is_owner or is_admin or assigned is True:
        return True
    return stage.role == Role.ANYONE and assigned is None


def role_refusal(stage: Stage, *, assigned: bool | None = None) -> str:
    if stage.role == Role.ADMIN:
        return f"Only a workspace admin can complete “{stage.name}”."
    if assigned is not None:
        return (
            f"“{stage.name}” is assigned to someone else: only they, the review's owner or an "
            "admin can complete it."
        )
    return f"Only the review's owner or an admin can complete “{stage.name}”."


@dataclass(frozen=True)
class StageProgress:
    key: str
    name: str
    state: str  # "done" | "current" | "todo"


def progress(workflow: Workflow, current: str | None, done: set[str]) -> list[StageProgress]:
    """Stage-by-stage state for the status message; `current` None means the review is complete."""
    out = []
    for s in workflow.stages:
        if s.key == current:
            state = "current"
        elif current is None or s.key in done:
            state = "done"
        else:
            state = "todo"
        out.append(StageProgress(s.key, s.name, state))
    return out


@dataclass(frozen=True)
class SentBack:
    """Why the review is at an earlier stage again: the decision that sent it back."""

    from_stage: str  # the deciding stage's name
    to_stage: str  # the name of the stage it came back to
    decision: str  # the chosen option's label, e.g. "Revision required"
    comment: str  # the decision's comment field, "" when none was given
    comment_label: str = ""  # that field's label, e.g. "What needs revising"


def sent_back(
    workflow: Workflow, from_key: str | None, to_key: str | None, answers: Mapping[str, Any]
) -> SentBack | None:
    """The last submission (of `from_key`, moving to `to_key`) sent the review back, and why.

    None when it moved forward. People reopening a stage they already finished need to see who
    asked for what; without this the progress line just shows the stage again.
    """
    if from_key is None or to_key is None:
        return None
    try:
        if workflow.index(to_key) > workflow.index(from_key):
            return None
        stage = workflow.stage(from_key)
    except (KeyError, ValueError):
        return None  # a stage the pinned definition no longer has
    for d in stage.decisions:
        chosen = next((o for o in d.options if o.value == answers.get(d.key)), None)
        if chosen is not None and chosen.goto == to_key:
            comment = str(answers.get(d.comment_field) or "") if d.comment_field else ""
            label = stage.field(d.comment_field).label if d.comment_field else ""
            return SentBack(
                stage.name, workflow.stage(to_key).name, chosen.label, comment.strip(), label
            )
    return SentBack(stage.name, workflow.stage(to_key).name, "", "")


def next_pass(stage: Stage, answers: Mapping[str, Any]) -> dict[str, Any]:
    """A stage's earlier answers as the start of its next pass: decisions and their comments
    cleared.

    The facts typed last time are worth keeping, but last time's "Revision required" (and what
    needed revising) must not be submitted again by someone who only fixed the deliverables.
    """
    cleared = {d.key for d in stage.decisions} | {
        d.comment_field for d in stage.decisions if d.comment_field
    }
    return {k: v for k, v in answers.items() if k not in cleared}

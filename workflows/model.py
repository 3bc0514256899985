"""Typed workflow definitions.

Definitions are data (YAML under `workflows/definitions/`); these pydantic models are their schema,
so a broken file is refused with the field path of the problem rather than failing mid-review.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
# An answer of an earlier stage: `kickoff.customer_name`.
StageField = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}\.[a-z][a-z0-9_]{0,39}$")]

END = "end"
NEXT = "next"
TITLE_MAX = 24  # Slack's limit for a modal's title


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    MONEY = "money"
    PERCENTAGE = "percentage"
    DATE = "date"
    USER = "user"
    USERS = "users"
    CHANNEL = "channel"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"
    URL = "url"
    ABN = "abn"
    TRACKER_TASK = "tracker_task"  # a task in the team's tracker: its link or id
    GROUP = "group"


class Role(StrEnum):
    ANYONE = "anyone"
    OWNER = "owner"
    ADMIN = "admin"


class Located(ValueError):
    """A problem at a path inside the definition, below where the validator runs.

    Pydantic places a model validator's error on the model itself; `loc` lets the loader point
    at the offending line (`stages.5.fields.4.prefill_from`) rather than the file's first.
    """

    def __init__(self, loc: tuple[str | int, ...], message: str):
        super().__init__(message)
        self.loc = loc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    value: Key
    label: Annotated[str, Field(min_length=1, max_length=75)]


class Condition(_Strict):
    """A field's answer equals a value: `{field: action_point_needed, equals: true}`; for a
    multiple choice, the value is among those chosen."""

    field: Key
    equals: bool | str | int


class FieldDef(_Strict):
    key: Key
    label: Annotated[str, Field(min_length=1, max_length=100)]
    type: FieldType
    hint: Annotated[str | None, Field(max_length=150)] = None
    placeholder: Annotated[str | None, Field(max_length=150)] = None
    required: bool = True
    required_when: Condition | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: Annotated[int | None, Field(ge=1, le=3000)] = None
    options: tuple[Option, ...] = ()
    # Repeatable groups (action items, risks, invoice lines).
    fields: tuple[FieldDef, ...] = ()
    min_items: Annotated[int, Field(ge=0)] = 0
    max_items: Annotated[int, Field(ge=1, le=10)] = 10
    # What the rest of the product reads this field as (action items, lessons, GST lines...).
    role: str | None = None
    # First-time value: an earlier stage's answer (`kickoff.customer_name`), so a person is not
    # asked to type again what the review already knows.
    prefill_from: StageField | None = None
    # A date that can't come before another: a field of this stage (or of the same item, in a
    # group), or of an earlier stage (`kickoff.kickoff_date`). The same day is fine.
    not_before: Key | StageField | None = None

    @model_validator(mode="after")
    def _check_shape(self) -> FieldDef:
        choice = self.type in (FieldType.CHOICE, FieldType.MULTI_CHOICE)
        if choice and not self.options:
            raise ValueError(f"field {self.key!r} of type {self.type} needs options")
        if not choice and self.options:
            raise ValueError(f"field {self.key!r} of type {self.type} cannot have options")
        if self.type == FieldType.GROUP:
            if not self.fields:
                raise ValueError(f"group {self.key!r} needs fields")
            if any(f.type == FieldType.GROUP for f in self.fields):
                raise ValueError(f"group {self.key!r} cannot contain another group")
            if self.min_items > self.max_items:
                raise ValueError(f"group {self.key!r}: min_items is above max_items")
        elif self.fields:
            raise ValueError(f"field {self.key!r} is not a group and cannot have fields")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"field {self.key!r}: min is above max")
        if self.not_before and self.type != FieldType.DATE:
            raise Located(("not_before",), f"field {self.key!r}: not_before is for date fields")
        if self.not_before == self.key:
            raise Located(("not_before",), f"field {self.key!r} can't be not_before itself")
        _unique([f.key for f in self.fields], f"group {self.key!r} field")
        _unique([o.value for o in self.options], f"field {self.key!r} option")
        return self


class Output(_Strict):
    """What a stage must produce: a checklist item to confirm, or a field that holds it."""

    key: Key
    label: Annotated[str, Field(min_length=1, max_length=75)]
    field: Key | None = None
    required: bool = True
    # "follow_up": recorded later by the bot (e.g. once every action item is done), not in the form.
    when: Literal["stage", "follow_up"] = "stage"


class FollowUp(_Strict):
    """A record a decision creates, e.g. an escalation for a systemic issue."""

    kind: Literal["escalation", "risk_mitigation", "delay", "revision", "action_item"]
    title: Annotated[str, Field(min_length=1, max_length=150)]


class DecisionOption(_Strict):
    value: Key
    label: Annotated[str, Field(min_length=1, max_length=75)]
    goto: str = NEXT
    follow_up: FollowUp | None = None
    sets_status: str | None = None


class Decision(_Strict):
    key: Key
    question: Annotated[str, Field(min_length=1, max_length=150)]
    options: tuple[DecisionOption, ...] = Field(min_length=2, max_length=10)
    comment_field: Key | None = None

    @model_validator(mode="after")
    def _unique_options(self) -> Decision:
        _unique([o.value for o in self.options], f"decision {self.key!r} option")
        return self


class Check(_Strict):
    """A cross-field rule: when a condition holds, at least one of the fields must be answered."""

    when: Condition
    any_of: tuple[Key, ...] = Field(min_length=1)
    message: Annotated[str, Field(min_length=1, max_length=300)]


class Assignee(_Strict):
    """Who a stage is handed to when it opens, by role: a person named in an earlier stage's
    `user` field (`{from_field: kickoff.quality_reviewer}`). They get a "Start" DM and may
    complete the stage besides the review's owner and admins."""

    from_field: StageField


SURVEY_TYPES = frozenset(
    {
        FieldType.TEXT,
        FieldType.LONG_TEXT,
        FieldType.NUMBER,
        FieldType.CHOICE,
        FieldType.MULTI_CHOICE,
        FieldType.YES_NO,
    }
)


class Survey(_Strict):
    """A feedback survey a stage sends to the review's participants (workflows/surveys.py).

    Each participant answers in a DM modal until the deadline; the stage's form then opens with
    the answers compiled: `count_field` holds how many answered, `themes_field` the themes that
    recur across the answers, for the owner to edit.
    """

    intro: Annotated[str | None, Field(max_length=300)] = None
    questions: tuple[FieldDef, ...] = Field(min_length=1, max_length=20)
    anonymous_allowed: bool = False
    deadline_working_days: Annotated[int, Field(ge=1, le=20)] = 3
    send: Literal["on_stage_open", "manual"] = "manual"
    count_field: Key | None = None
    themes_field: Key | None = None

    @model_validator(mode="after")
    def _check_questions(self) -> Survey:
        _unique([q.key for q in self.questions], "survey question")
        for position, q in enumerate(self.questions):
            where: tuple[str | int, ...] = ("questions", position)
            if q.type not in SURVEY_TYPES:
                allowed = ", ".join(sorted(SURVEY_TYPES))
                raise Located(
                    (*where, "type"), f"a survey question can't be {q.type}: use {allowed}"
                )
            if q.required_when or q.prefill_from or q.not_before or q.role:
                raise Located(
                    where,
                    f"question {q.key!r}: required_when, prefill_from, not_before "
                    "and role are for stage fields",
                )
        return self


STANDARD_COLUMNS = {
    "went_well": "Went well",
    "did_not_go_well": "Did not go well",
    "ideas": "Ideas",
}
"""The retrospective's usual columns: naming one by its key is enough."""


class AsyncInput(_Strict):
    """Items the team adds before the stage opens (a retrospective board, asynchronously).

    `columns` are where items go: a standard key (`went_well`, `did_not_go_well`, `ideas`) or
    `{value, label}` for a column of the workflow's own; `prefill` names the stage's long text
    field that opens with the items, grouped by column and sorted by votes, for the person who
    fills the stage to edit.
    """

    columns: tuple[Option, ...] = Field(
        default=tuple(Option(value=k, label=v) for k, v in STANDARD_COLUMNS.items()),
        min_length=1,
        max_length=10,
    )
    prefill: Key

    @field_validator("columns", mode="before")
    @classmethod
    def _standard_columns(cls, value: Any) -> Any:
        """A bare key stands for a standard column; any other key needs its label."""
        if not isinstance(value, list | tuple):
            return value
        columns: list[Any] = []
        for column in value:
            if isinstance(column, str):
                if column not in STANDARD_COLUMNS:
                    known = ", ".join(STANDARD_COLUMNS)
                    raise ValueError(
                        f"column {column!r} is not a standard one ({known}): "
                        f"write {{value: {column}, label: ...}}"
                    )
                column = {"value": column, "label": STANDARD_COLUMNS[column]}
            columns.append(column)
        return columns

    @model_validator(mode="after")
    def _unique_columns(self) -> AsyncInput:
        _unique([c.value for c in self.columns], "async_input column")
        return self

    def label(self, column: str) -> str:
        return next((c.label for c in self.columns if c.value == column), column)


class Stage(_Strict):
    key: Key
    name: Annotated[str, Field(min_length=1, max_length=60)]
    short_name: Annotated[str | None, Field(max_length=TITLE_MAX)] = None
    purpose: Annotated[str, Field(min_length=1, max_length=300)]
    guidance: Annotated[str | None, Field(max_length=1500)] = None
    inputs: tuple[str, ...] = ()
    fields: tuple[FieldDef, ...] = ()
    outputs: tuple[Output, ...] = ()
    decisions: tuple[Decision, ...] = ()
    checks: tuple[Check, ...] = ()
    role: Role = Role.ANYONE
    sets_status: str | None = None
    # Domain rules run after the fields are clean (workflows/rules.py: tax_invoice, ...).
    rules: tuple[Literal["tax_invoice", "campaign_compliance"], ...] = ()
    # The lessons-learned stage: submitting it builds the report and the knowledge base entry.
    report: bool = False
    # Handed to a person by role when it opens (see Assignee); None: the owner does it, or
    # whoever the owner assigns it to in Slack.
    assignee: Assignee | None = None
    # A feedback survey of the review's participants, compiled into this stage's form.
    survey: Survey | None = None
    # The team adds items before the stage opens (bot/team_sync); they pre-fill one field.
    async_input: AsyncInput | None = None

    @property
    def title(self) -> str:
        """The stage's name as a modal title (Slack allows 24 characters)."""
        return self.short_name or self.name

    def short_name_problem(self) -> str | None:
        """Why `short_name` would not read as this stage's name, or None.

        A modal titled "Team Sync" opened from "Continue: Post-Mortem Team Sync" looks like
        another step, so a short name is only for names too long for a title, and keeps the
        name's own words in order from its first. Checked when a file is loaded, not on the
        definitions reviews have pinned, so a review started before the rule keeps working.
        """
        if self.short_name is None:
            return None
        if len(self.name) <= TITLE_MAX:
            return (
                f"the name {self.name!r} fits in a modal title ({TITLE_MAX} characters): "
                "leave short_name out"
            )
        name, short = _title_words(self.name), _title_words(self.short_name)
        rest = iter(name)
        if not short or short[0] != name[0] or not all(word in rest for word in short):
            return (
                f"short_name {self.short_name!r} must be words of the name {self.name!r}, "
                "in order, starting with its first"
            )
        return None

    def field(self, key: str) -> FieldDef:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @model_validator(mode="after")
    def _references(self) -> Stage:
        keys = [f.key for f in self.fields]
        _unique(keys + [d.key for d in self.decisions], f"stage {self.key!r} field or decision")
        _unique([o.key for o in self.outputs], f"stage {self.key!r} output")
        names = set(keys)
        answerable = names | {d.key for d in self.decisions}
        for out in self.outputs:
            if out.field and out.field not in names:
                raise ValueError(f"output {out.key!r} names unknown field {out.field!r}")
        conditions = {f.key: f.required_when.field for f in self.fields if f.required_when}
        for key, controller in conditions.items():
            if controller not in answerable:
                raise ValueError(f"field {key!r}: required_when names unknown field")
            seen = {key}
            while controller in conditions and controller not in seen:
                seen.add(controller)
                controller = conditions[controller]
            if controller in seen:  # asked only when a field is answered that waits for it
                raise ValueError(f"field {key!r}: required_when goes round in a loop")
        for d in self.decisions:
            if d.comment_field and d.comment_field not in names:
                raise ValueError(f"decision {d.key!r}: comment_field {d.comment_field!r} unknown")
        for position, f in enumerate(self.fields):
            self._check_not_before(f, None, ("fields", position, "not_before"))
            for sub_position, sub in enumerate(f.fields):
                self._check_not_before(
                    sub, f, ("fields", position, "fields", sub_position, "not_before")
                )
        if self.survey is not None:
            self._check_survey(self.survey)
        if self.async_input is not None:
            target = next((f for f in self.fields if f.key == self.async_input.prefill), None)
            if target is None:
                raise Located(
                    ("async_input", "prefill"),
                    f"{self.async_input.prefill!r} is not a field of this stage",
                )
            if target.type != FieldType.LONG_TEXT:
                raise Located(
                    ("async_input", "prefill"),
                    f"{target.key!r} is a {target.type} field; the items need a long_text field",
                )
        for c in self.checks:
            if c.when.field not in answerable:
                raise ValueError(f"check names unknown field {c.when.field!r}")
            for ref in c.any_of:
                if ref not in names:
                    raise ValueError(f"check names unknown field {ref!r}")
        return self

    def _check_survey(self, survey: Survey) -> None:
        """The fields a survey fills hold what it puts there: a count, and themes as text."""
        wanted = {
            "count_field": (FieldType.NUMBER,),
            "themes_field": (FieldType.TEXT, FieldType.LONG_TEXT),
        }
        for name, types in wanted.items():
            key = getattr(survey, name)
            if key is None:
                continue
            target = next((f for f in self.fields if f.key == key), None)
            where = ("survey", name)
            if target is None:
                raise Located(where, f"{key!r} is not a field of this stage")
            if target.type not in types:
                raise Located(
                    where, f"{key!r} is a {target.type} field; {name} needs a {types[0]} field"
                )

    def _check_not_before(
        self, f: FieldDef, group: FieldDef | None, loc: tuple[str | int, ...]
    ) -> None:
        """A same-stage `not_before` names a date field of the item or of the stage."""
        if not f.not_before or "." in f.not_before:
            return  # another stage's field: the workflow checks it
        siblings = {s.key: s for s in group.fields} if group else {}
        target = siblings.get(f.not_before) or next(
            (g for g in self.fields if g.key == f.not_before), None
        )
        if target is None:
            raise Located(loc, f"{f.not_before!r} is not a field of this stage")
        if target.type != FieldType.DATE:
            raise Located(loc, f"{f.not_before!r} is a {target.type} field, not a date")

    def date_bound(
        self, f: FieldDef, row: Mapping[str, Any], answers: Mapping[str, Any]
    ) -> tuple[FieldDef, Any] | None:
        """The same-stage field `f.not_before` names and its answer (the item's own first)."""
        if not f.not_before or "." in f.not_before:
            return None
        for group in self.fields:
            if any(sub is f for sub in group.fields):
                sibling = next((s for s in group.fields if s.key == f.not_before), None)
                if sibling is not None:
                    return sibling, row.get(sibling.key)
        return self.field(f.not_before), answers.get(f.not_before)


class Workflow(_Strict):
    key: Key
    name: Annotated[str, Field(min_length=1, max_length=75)]
    description: Annotated[str, Field(min_length=1, max_length=500)]
    version: Annotated[int, Field(ge=1)] = 1
    statuses: tuple[Key, ...] = ("open", "in_progress", "complete")
    # The review is about goods or services sold to consumers: its message offers the consumer
    # guarantees assessment (ACL). Not for, say, an email campaign.
    consumer_guarantees: bool = False
    stages: tuple[Stage, ...] = Field(min_length=1)

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _unique(list(value), "status")
        for needed in ("open", "in_progress"):
            if needed not in value:
                raise ValueError(f"statuses must include {needed!r}")
        return value

    @model_validator(mode="after")
    def _graph(self) -> Workflow:
        keys = [s.key for s in self.stages]
        _unique(keys, "stage")
        targets = {*keys, NEXT, END}
        for stage in self.stages:
            if stage.sets_status and stage.sets_status not in self.statuses:
                raise ValueError(f"stage {stage.key!r} sets unknown status {stage.sets_status!r}")
            for d in stage.decisions:
                for o in d.options:
                    if o.goto not in targets:
                        raise ValueError(
                            f"decision {d.key!r} option {o.value!r} goes to unknown stage "
                            f"{o.goto!r}"
                        )
                    if o.sets_status and o.sets_status not in self.statuses:
                        raise ValueError(f"option {o.value!r} sets unknown status")
        for index, stage in enumerate(self.stages):
            if stage.assignee is not None:
                self._check_assignee(index, stage)
            for position, f in enumerate(stage.fields):
                if f.prefill_from:
                    self._check_prefill(index, f, ("stages", index, "fields", position))
                subs = [(f, ("stages", index, "fields", position))] + [
                    (sub, ("stages", index, "fields", position, "fields", n))
                    for n, sub in enumerate(f.fields)
                ]
                for date_field, where in subs:
                    if date_field.not_before and "." in date_field.not_before:
                        bound = self.answer_of(index, date_field.not_before, (*where, "not_before"))
                        if bound.type != FieldType.DATE:
                            raise Located(
                                (*where, "not_before"),
                                f"{date_field.not_before} is a {bound.type} field, not a date",
                            )
                for sub_position, sub in enumerate(f.fields):
                    if sub.prefill_from:
                        raise Located(
                            (
                                "stages",
                                index,
                                "fields",
                                position,
                                "fields",
                                sub_position,
                                "prefill_from",
                            ),
                            "prefill_from is for fields outside groups",
                        )
        return self

    def _check_prefill(self, index: int, f: FieldDef, loc: tuple[str | int, ...]) -> None:
        """`prefill_from` names a field of an earlier stage holding the same kind of answer."""
        where = (*loc, "prefill_from")
        source = self.answer_of(index, str(f.prefill_from), where)
        if source.type != f.type or f.type == FieldType.GROUP:
            raise Located(
                where, f"{f.prefill_from} is a {source.type} field; {f.key!r} is a {f.type} field"
            )

    def _check_assignee(self, index: int, stage: Stage) -> None:
        """`assignee.from_field` names a one-person field of an earlier stage; an admin's stage
        is not handed to anyone (it stays the admins')."""
        assert stage.assignee is not None
        where: tuple[str | int, ...] = ("stages", index, "assignee", "from_field")
        if stage.role == Role.ADMIN:
            raise Located(
                ("stages", index, "assignee"), "an admin's stage cannot be assigned by role"
            )
        source = self.answer_of(index, stage.assignee.from_field, where)
        if source.type != FieldType.USER:
            raise Located(
                where,
                f"{stage.assignee.from_field} is a {source.type} field; an assignee comes from "
                "a user field (one person)",
            )

    def answer_of(self, index: int, ref: str, loc: tuple[str | int, ...]) -> FieldDef:
        """The field `stage.field` of a stage before stage number `index`."""
        stage_key, field_key = ref.split(".")
        earlier = {s.key: s for s in self.stages[:index]}
        if stage_key not in earlier:
            raise Located(loc, f"{ref}: no stage {stage_key!r} comes before this one")
        try:
            return earlier[stage_key].field(field_key)
        except KeyError:
            raise Located(loc, f"{ref}: stage {stage_key!r} has no field {field_key!r}") from None

    def stage(self, key: str) -> Stage:
        for s in self.stages:
            if s.key == key:
                return s
        raise KeyError(f"workflow {self.key!r} has no stage {key!r}")

    def index(self, key: str) -> int:
        return [s.key for s in self.stages].index(key)

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> Workflow:
        """A copy (with `update`), whose digest is worked out again from its own content."""
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("digest", None)
        return copy

    @cached_property
    def digest(self) -> str:
        """Content hash: a review pins the exact definition it started with. Kept once worked
        out (the model is frozen): every review start asks for it, inside its transaction."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _title_words(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text.lower())


def _unique(values: list[Any], what: str) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}")
        seen.add(v)

"""A workflow stage as a Slack modal, and the modal's state back as raw answers.

Pure functions from (stage, values) to Block Kit, so every stage of every workflow can be checked
against Slack's limits in tests without Slack. Block ids encode where a value belongs:
`f.<field>`, `g.<group>.<row>.<field>`, `d.<decision>`, `o` (outputs), `gst` for the one GST
basis of the stage's amounts, with `.gst` for the basis of an amount inside a group's row and
`~<n>` after a row's block ids once a row of its group was removed (Slack keeps what was typed
in a block whose id stays, so a row moving up takes new ids).

The form follows the answers as they are given: an answer other fields depend on is an input
with `dispatch_action`, and its listener draws the form again, so a field that applies only to
another answer is shown only once it applies, and then as required. The same values always draw
the same form, so what Slack enforces and what the engine requires agree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    DatePickerElement,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UrlInputElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.text import clip, escape
from workflows.engine import (
    GST_KEY,
    OUTPUTS_KEY,
    applies,
    confirmable_outputs,
    controllers,
    required_in_row,
    required_now,
    rows_needed_now,
    stage_basis,
    when_required,
    with_stage_basis,
)
from workflows.model import Decision, FieldDef, FieldType, Stage, Workflow
from workflows.surveys import SURVEY_KEY

CALLBACK_ID = "stage"
ADD_ROW = "add_row"
REMOVE_ROW = "remove_row"
VALUE = "v"
PAGE_BLOCKS = 45  # a page's target: short enough to read (a whole group may go past it)
MAX_BLOCKS = 100  # Slack's limit for a modal
GST_OPTIONS = (("inclusive", "Includes GST"), ("exclusive", "Excludes GST"))
GST_BLOCK = "gst"  # the stage's one basis for all its amounts outside groups
BASIS_OPTIONS = (("inclusive", "Include GST"), ("exclusive", "Exclude GST"))
BASIS_NOTE = {"inclusive": "incl. GST", "exclusive": "excl. GST"}
YES_NO = (("yes", "Yes"), ("no", "No"))
# An answer the form depends on: its input dispatches a block_actions (route with app.action).
ANSWER_CHANGED: dict[str, str | re.Pattern[str]] = {
    "action_id": VALUE,
    "block_id": re.compile(r"^(?:[fd]\.[a-z][a-z0-9_]*|gst)$"),
}


@dataclass
class ModalMeta:
    """What the modal is for, carried in private_metadata (Slack allows 3,000 characters)."""

    review_id: int
    stage: str
    page: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    edit: bool = False  # editing a submitted stage: a new revision, the review stays where it is
    step: tuple[int, int] | None = None  # (stage number, stages in the workflow), for the header
    removed: dict[str, int] = field(default_factory=dict)  # rows removed per group, for ids
    # How many pages the form had when drawn (0: not known): its button said Next or Submit by
    # it, and what decides the pages redraws the form (`dispatch_action`), so a submission
    # need not draw every page again to know which it was.
    pages: int = 0

    def dumps(self) -> str:
        data: dict[str, Any] = {
            "r": self.review_id,
            "s": self.stage,
            "p": self.page,
            "n": self.rows,
        }
        if self.edit:
            data["e"] = 1
        if self.step:
            data["t"] = list(self.step)
        if self.removed:
            data["x"] = self.removed
        if self.pages:
            data["g"] = self.pages
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> ModalMeta:
        data = json.loads(text)
        step = data.get("t")
        return cls(
            int(data["r"]),
            str(data["s"]),
            int(data.get("p", 0)),
            {str(k): int(v) for k, v in data.get("n", {}).items()},
            bool(data.get("e")),
            (int(step[0]), int(step[1])) if step else None,
            {str(k): int(v) for k, v in data.get("x", {}).items()},
            int(data.get("g", 0)),
        )

    def row_block(self, group: str, index: int, sub: str) -> str:
        """The block id of a row's field: new ids for the group's rows after each removal."""
        removed = self.removed.get(group, 0)
        return f"g.{group}.{index}.{sub}" + (f"~{removed}" if removed else "")

    @classmethod
    def of(
        cls, review_id: int, workflow: Workflow, stage_key: str, *, edit: bool = False
    ) -> ModalMeta:
        """A stage's first page, knowing where the stage sits in its workflow."""
        return cls(
            review_id,
            stage_key,
            edit=edit,
            step=(workflow.index(stage_key) + 1, len(workflow.stages)),
        )


def _option(value: str, label: str) -> Option:
    return Option(value=value, label=clip(label, 75))


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _element(f: FieldDef, value: Any) -> Any:
    """The Block Kit element for one field, filled with `value` (a draft or earlier answer)."""
    t = f.type
    if t in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.ABN, FieldType.TRACKER_TASK):
        limit = f.max_length or (3000 if t == FieldType.LONG_TEXT else 150)
        return PlainTextInputElement(
            action_id=VALUE,
            multiline=t == FieldType.LONG_TEXT,
            max_length=min(limit, 3000),
            initial_value=_text(value),
            placeholder=f.placeholder,
        )
    if t in (FieldType.NUMBER, FieldType.PERCENTAGE):
        low = f.min if f.min is not None else (0 if t == FieldType.PERCENTAGE else None)
        high = f.max if f.max is not None else (100 if t == FieldType.PERCENTAGE else None)
        return NumberInputElement(
            action_id=VALUE,
            is_decimal_allowed=True,
            initial_value=_text(value),
            min_value=None if low is None else str(low),
            max_value=None if high is None else str(high),
        )
    if t == FieldType.MONEY:
        amount = value.get("amount") if isinstance(value, dict) else value
        return NumberInputElement(
            action_id=VALUE,
            is_decimal_allowed=True,
            initial_value=_text(amount),
            placeholder="Amount in AUD, e.g. 1250.00",
        )
    if t == FieldType.URL:
        return UrlInputElement(
            action_id=VALUE, initial_value=_text(value), placeholder=f.placeholder or "https://"
        )
    if t == FieldType.DATE:
        initial = value if isinstance(value, str) and _is_date(value) else None
        return DatePickerElement(action_id=VALUE, initial_date=initial)
    if t == FieldType.USER:
        return UserSelectElement(
            action_id=VALUE, initial_user=_text(value), placeholder="Choose someone"
        )
    if t == FieldType.USERS:
        return UserMultiSelectElement(
            action_id=VALUE, initial_users=list(value or []) or None, placeholder="Choose people"
        )
    if t == FieldType.CHANNEL:
        return ConversationSelectElement(
            action_id=VALUE,
            initial_conversation=_text(value),
            filter=ConversationFilter(include=["public", "private"]),
        )
    if t == FieldType.CHOICE:
        options = [_option(o.value, o.label) for o in f.options]
        chosen = next((o for o in options if o.value == value), None)
        return StaticSelectElement(
            action_id=VALUE, options=options, initial_option=chosen, placeholder="Choose one"
        )
    if t == FieldType.MULTI_CHOICE:
        options = [_option(o.value, o.label) for o in f.options]
        ticked = [o for o in options if o.value in (value or [])] or None
        if len(options) <= 10:
            return CheckboxesElement(action_id=VALUE, options=options, initial_options=ticked)
        return StaticMultiSelectElement(
            action_id=VALUE, options=options, initial_options=ticked, placeholder="Choose"
        )
    if t == FieldType.YES_NO:
        options = [_option(v, label) for v, label in YES_NO]
        wanted = {True: "yes", False: "no"}.get(value, value)
        return RadioButtonsElement(
            action_id=VALUE,
            options=options,
            initial_option=next((o for o in options if o.value == wanted), None),
        )
    raise ValueError(f"no element for {t}")


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _gst_select(value: Any) -> StaticSelectElement:
    options = [_option(v, label) for v, label in GST_OPTIONS]
    basis = value.get("gst") if isinstance(value, dict) else None
    return StaticSelectElement(
        action_id=VALUE,
        options=options,
        placeholder="GST?",
        initial_option=next((o for o in options if o.value == basis), None),
    )


def _inputs(
    f: FieldDef,
    block_id: str,
    value: Any,
    optional: bool,
    label: str,
    note: str | None = None,
    *,
    dispatch: bool = False,
    in_row: bool = False,
) -> list[Block]:
    """The field's input(s). `optional` is what Slack enforces and shows as "(optional)" after
    the label, so the label itself never says it; `note` says when an optional-looking field is
    needed after all. An amount in a group's row has its own GST basis under it; other amounts
    take the stage's (`_basis_block`)."""
    joined = " ".join(h for h in (note, f.hint) if h)
    hint = clip(joined, 2000) if joined else None
    block = InputBlock(
        block_id=block_id,
        label=clip(label, 2000),
        element=_element(f, value),
        optional=optional,
        hint=hint,
    )
    if dispatch:
        block.dispatch_action = True
    blocks: list[Block] = [block]
    if f.type == FieldType.MONEY and in_row:
        blocks.append(
            InputBlock(
                block_id=_gst_block(block_id),
                label=f"{clip(label, 1990)}: GST",
                element=_gst_select(value),
                optional=optional,
            )
        )
    return blocks


def _gst_block(block_id: str) -> str:
    """The block of an amount's own GST basis, next to the amount's (`~n` stays last)."""
    base, sep, removed = block_id.partition("~")
    return f"{base}.gst{sep}{removed}"


def _money_fields(stage: Stage, values: dict[str, Any]) -> list[FieldDef]:
    return [f for f in stage.fields if f.type == FieldType.MONEY and applies(stage, f, values)]


def _basis_block(stage: Stage, values: dict[str, Any]) -> InputBlock:
    """One GST basis for all the stage's amounts, above the first: a budget and an actual
    spend entered on different bases can't be compared, so they can't be entered so."""
    money = _money_fields(stage, values)
    basis = stage_basis(stage, values)
    options = [_option(v, label) for v, label in BASIS_OPTIONS]
    names = _and([f.label for f in money])
    hint = f"One basis for {names}, so they are compared like for like." if len(money) > 1 else None
    if basis is None and any(
        isinstance(values.get(f.key), dict) and values[f.key].get("gst") for f in money
    ):
        hint = "These amounts were entered on different bases: choose one and check each amount."
    return InputBlock(
        block_id=GST_BLOCK,
        label="The amounts below" if len(money) > 1 else "The amount below",
        dispatch_action=True,
        hint=clip(hint, 2000) if hint else None,
        optional=not any(required_now(stage, f, values) for f in money),
        element=StaticSelectElement(
            action_id=VALUE,
            options=options,
            placeholder="GST?",
            initial_option=next((o for o in options if o.value == basis), None),
        ),
    )


def _blocks_per_row(f: FieldDef) -> int:
    return 1 + sum(2 if sub.type == FieldType.MONEY else 1 for sub in f.fields)


def rows_shown(stage: Stage, f: FieldDef, values: dict[str, Any], meta: ModalMeta) -> int:
    """Rows of a group on screen: those the answers need, those entered and those added with
    "Add another"; none for a group that may be empty until a row is added. Capped so one group
    never pushes a page past Slack's 100 blocks."""
    fits = (MAX_BLOCKS - 10) // _blocks_per_row(f)
    have = len(values.get(f.key) or [])
    needed = rows_needed_now(stage, f, values)
    return min(f.max_items, fits, max(meta.rows.get(f.key, 0), have, needed))


def _and(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def _field_blocks(
    stage: Stage, f: FieldDef, values: dict[str, Any], meta: ModalMeta
) -> list[Block]:
    # What Slack enforces comes from the engine's requiredness given the answers on screen
    # (workflows.engine), so a field shown without "(optional)" is one the engine requires,
    # and the other way round; a field that does not apply is not shown at all.
    if not applies(stage, f, values):
        return []
    if f.type != FieldType.GROUP:
        optional = not required_now(stage, f, values)
        label = f.label
        basis = stage_basis(stage, values) if f.type == FieldType.MONEY else None
        if basis:
            label = f"{clip(f.label, 1985)} ({BASIS_NOTE[basis]})"
        return _inputs(
            f,
            f"f.{f.key}",
            values.get(f.key),
            optional,
            label,
            when_required(stage, f) if optional else None,
            dispatch=f.key in controllers(stage),
        )
    rows = list(values.get(f.key) or [])
    needed = rows_needed_now(stage, f, values)
    count = rows_shown(stage, f, values, meta)
    note = when_required(stage, f)
    heading = f"*{escape(f.label)}*" + (f"\n{escape(note)}" if note else "")
    blocks: list[Block] = [
        SectionBlock(block_id=f"h.{f.key}", text=MarkdownTextObject(text=heading))
    ]
    for index in range(count):
        row = rows[index] if index < len(rows) and isinstance(rows[index], dict) else {}
        # Every row on screen is an item: its fields are as required as the item's own (no
        # "fill it in or leave it blank", which Slack can't enforce). A row the group can do
        # without has a Remove button instead; there are none until "Add" is pressed.
        counter = f"{escape(f.label)}: {index + 1} of {count}"
        if index >= needed:
            blocks.append(
                SectionBlock(
                    block_id=f"c.{f.key}.{index}",
                    text=MarkdownTextObject(text=counter),
                    accessory=ButtonElement(
                        text="Remove", action_id=REMOVE_ROW, value=f"{f.key}.{index}"
                    ),
                )
            )
        elif count > 1:
            blocks.append(
                ContextBlock(
                    block_id=f"c.{f.key}.{index}", elements=[MarkdownTextObject(text=counter)]
                )
            )
        for sub in f.fields:
            blocks += _inputs(
                sub,
                meta.row_block(f.key, index, sub.key),
                row.get(sub.key),
                not required_in_row(sub),
                sub.label,
                in_row=True,
            )
    if count < min(f.max_items, (MAX_BLOCKS - 10) // _blocks_per_row(f)):
        blocks.append(
            ActionsBlock(
                block_id=f"add.{f.key}",
                elements=[
                    ButtonElement(
                        text="Add another" if count else "Add one", action_id=ADD_ROW, value=f.key
                    )
                ],
            )
        )
    return blocks


def _decision_blocks(stage: Stage, d: Decision, values: dict[str, Any]) -> list[Block]:
    options = [_option(o.value, o.label) for o in d.options]
    chosen = next((o for o in options if o.value == values.get(d.key)), None)
    block = InputBlock(
        block_id=f"d.{d.key}",
        label=clip(d.question, 2000),
        element=RadioButtonsElement(action_id=VALUE, options=options, initial_option=chosen),
    )
    if d.key in controllers(stage):
        block.dispatch_action = True
    return [block]


def _output_blocks(stage: Stage, values: dict[str, Any]) -> list[Block]:
    outputs = confirmable_outputs(stage)
    if not outputs:
        return []
    options = [_option(o.key, o.label) for o in outputs]
    confirmed = set(values.get(OUTPUTS_KEY) or [])
    return [
        InputBlock(
            block_id="o",
            label="This stage has produced",
            optional=not any(o.required for o in outputs),
            element=CheckboxesElement(
                action_id=VALUE,
                options=options,
                initial_options=[o for o in options if o.value in confirmed] or None,
            ),
        )
    ]


def _in_order(stage: Stage) -> list[FieldDef | Decision]:
    """Fields, then decisions, with each field that depends on an answer right after it: what
    appears when an answer is given appears where the person is looking."""
    dependents: dict[str, list[FieldDef]] = {}
    for f in stage.fields:
        if f.required_when is not None:
            dependents.setdefault(f.required_when.field, []).append(f)
    ordered: list[FieldDef | Decision] = []

    def place(item: FieldDef | Decision) -> None:
        ordered.append(item)
        for dependent in dependents.get(item.key, []):
            place(dependent)

    for item in [f for f in stage.fields if f.required_when is None] + list(stage.decisions):
        place(item)
    return ordered


SURVEY_ELEMENT_CHARS = 2900  # one context element's text (Slack allows 3,000)
SURVEY_ELEMENTS = 10  # Slack's limit per context block
SURVEY_BLOCKS_PER_QUESTION = 8  # so one question's answers fit on a page with room to spare


def _survey_chunks(values: dict[str, Any]) -> list[list[Block]]:
    """The survey's answers compiled into the form (workflows/surveys.compile_into), question by
    question, read-only: several answers to a context element, ten elements to a block, so a
    large team's answers take a few blocks and page like any long stage. A named answer says
    who; an anonymous one says "anonymous" and nothing else."""
    compiled = values.get(SURVEY_KEY)
    if not isinstance(compiled, list) or not compiled:
        return []
    count = max((len(q.get("answers") or []) for q in compiled), default=0)
    chunks: list[list[Block]] = [
        [
            SectionBlock(
                block_id="sv",
                text=MarkdownTextObject(
                    text=f"*Feedback survey: {count} answer(s)*, as given (read-only)"
                ),
            )
        ]
    ]
    for number, question in enumerate(compiled):
        lines = [
            f"• {escape(str(a.get('text') or ''))} — "
            + (f"<@{a['by']}>" if a.get("by") else "_anonymous_")
            for a in question.get("answers") or []
        ] or ["_No answers._"]
        texts: list[str] = []
        for line in lines:
            line = clip(line, SURVEY_ELEMENT_CHARS)
            if texts and len(texts[-1]) + len(line) + 1 <= SURVEY_ELEMENT_CHARS:
                texts[-1] += "\n" + line
            else:
                texts.append(line)
        blocks: list[Block] = [
            SectionBlock(
                block_id=f"sv.{number}",
                text=MarkdownTextObject(
                    text=f"*{escape(clip(str(question.get('question')), 2900))}*"
                ),
            )
        ]
        limit = SURVEY_ELEMENTS * SURVEY_BLOCKS_PER_QUESTION
        if len(texts) > limit:  # a question never outgrows a page; the export has them all
            rest = sum(t.count("\n") + 1 for t in texts[limit - 1 :])
            texts = texts[: limit - 1] + [f"…and {rest} more: the review's Export has them all."]
        for part in range(0, len(texts), SURVEY_ELEMENTS):
            blocks.append(
                ContextBlock(
                    block_id=f"sv.{number}.{part // SURVEY_ELEMENTS}",
                    elements=[
                        MarkdownTextObject(text=t) for t in texts[part : part + SURVEY_ELEMENTS]
                    ],
                )
            )
        chunks.append(blocks)
    chunks[-1].append(DividerBlock(block_id="sv.end"))
    return chunks


def pages(stage: Stage, values: dict[str, Any], meta: ModalMeta) -> list[list[Block]]:
    """The stage's input blocks split into pages of at most PAGE_BLOCKS, fields kept whole and
    with the fields that depend on them; a compiled survey's answers come first."""
    depends_on = {f.key: f.required_when.field for f in stage.fields if f.required_when}
    chunks: list[list[Block]] = _survey_chunks(values)
    basis_shown = False
    for item in _in_order(stage):
        if isinstance(item, Decision):
            blocks = _decision_blocks(stage, item, values)
        else:
            blocks = _field_blocks(stage, item, values, meta)
            if blocks and item.type == FieldType.MONEY and not basis_shown:
                blocks.insert(0, _basis_block(stage, values))
                basis_shown = True
        if item.key in depends_on and chunks:
            chunks[-1].extend(blocks)  # on the same page as the answer it depends on
        else:
            chunks.append(blocks)
    chunks.append(_output_blocks(stage, values))
    result: list[list[Block]] = [[]]
    for blocks in chunks:
        if result[-1] and len(result[-1]) + len(blocks) > PAGE_BLOCKS:
            result.append([])
        result[-1].extend(blocks)
    return result


def page_of(stage: Stage, values: dict[str, Any], meta: ModalMeta, block_id: str) -> int:
    for number, blocks in enumerate(pages(stage, values, meta)):
        if any(b.block_id == block_id for b in blocks):
            return number
    return 0


def stage_view(
    stage: Stage,
    *,
    title: str,
    meta: ModalMeta,
    values: dict[str, Any],
    notice: str | None = None,
    returned: str | None = None,
) -> dict[str, Any]:
    """The modal for one page of a stage; `notice` explains an error found on another page.

    `returned` (mrkdwn, already escaped) says why a finished stage is open again: it goes at
    the top, where the person redoing the stage looks first.
    """
    all_pages = pages(stage, values, meta)
    meta.page = min(meta.page, len(all_pages) - 1)
    meta.pages = len(all_pages)
    last = meta.page == len(all_pages) - 1
    intro: list[Block] = [
        SectionBlock(
            block_id="purpose",
            text=MarkdownTextObject(text=f"*{escape(clip(title, 150))}*\n{escape(stage.purpose)}"),
        )
    ]
    if returned:
        intro.append(
            SectionBlock(block_id="sent_back", text=MarkdownTextObject(text=clip(returned, 3000)))
        )
    notes = []
    if meta.step:
        notes.append(
            f"Stage {meta.step[0]} of {meta.step[1]}"
            + (f" · page {meta.page + 1} of {len(all_pages)}" if len(all_pages) > 1 else "")
        )
    elif len(all_pages) > 1:
        notes.append(f"Page {meta.page + 1} of {len(all_pages)}")
    if stage.inputs:
        notes.append("Bring: " + " · ".join(escape(i) for i in stage.inputs))
    if stage.guidance:
        notes.append(escape(stage.guidance))
    notes.append("Closing this form keeps a draft.")
    intro.append(
        ContextBlock(
            block_id="notes", elements=[MarkdownTextObject(text=clip(n, 3000)) for n in notes]
        )
    )
    if notice:
        intro.append(
            SectionBlock(
                block_id="notice", text=MarkdownTextObject(text=f":warning: {escape(notice)}")
            )
        )
    intro.append(DividerBlock(block_id="div"))
    view = View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=clip(stage.title, 24),
        submit=("Save changes" if meta.edit else "Submit") if last else "Next",
        close="Close",
        notify_on_close=True,
        private_metadata=meta.dumps(),
        blocks=intro + all_pages[meta.page],
    )
    return view.to_dict()


def block_for_error(stage: Stage, key: str, meta: ModalMeta | None = None) -> str:
    """The block an engine error key belongs to (`meta`: the modal's, for rows' ids)."""
    if key == OUTPUTS_KEY:
        return "o"
    if key == GST_KEY:
        return GST_BLOCK
    if any(d.key == key for d in stage.decisions):
        return f"d.{key}"
    if "." in key:
        group, index, sub = key.split(".", 2)
        return (meta or ModalMeta(0, stage.key)).row_block(group, int(index), sub)
    return f"f.{key}"


def _state_value(element: dict[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons", "external_select"):
        selected = element.get("selected_option")
        return selected["value"] if selected else None
    if kind in ("checkboxes", "multi_static_select"):
        return [o["value"] for o in element.get("selected_options") or []]
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "multi_users_select":
        return element.get("selected_users") or []
    if kind == "conversations_select":
        return element.get("selected_conversation")
    if kind == "channels_select":
        return element.get("selected_channel")
    return element.get("value")


def raw_from_state(
    stage: Stage, state_values: dict[str, dict[str, Any]], into: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Slack's `view.state.values` as raw answers, merged over `into` (earlier pages, a draft)."""
    raw: dict[str, Any] = json.loads(json.dumps(into or {}))
    for block_id, actions in state_values.items():
        if VALUE not in actions:
            continue
        value = _state_value(actions[VALUE])
        block_id = block_id.split("~")[0]  # a row's ids after a removal: same place
        if block_id == GST_BLOCK:
            raw[GST_KEY] = value
            continue
        parts = block_id.split(".")
        is_gst = parts[-1] == "gst"
        if is_gst:
            parts = parts[:-1]
        if parts[0] == "f" and len(parts) == 2:
            _put(
                stage.field(parts[1]) if _has(stage, parts[1]) else None,
                raw,
                parts[1],
                value,
                is_gst,
            )
        elif parts[0] == "g" and len(parts) == 4 and _has(stage, parts[1]):
            rows = raw.setdefault(parts[1], [])
            index = int(parts[2])
            while len(rows) <= index:
                rows.append({})
            group = stage.field(parts[1])
            sub = next((s for s in group.fields if s.key == parts[3]), None)
            _put(sub, rows[index], parts[3], value, is_gst)
        elif parts[0] == "d" and len(parts) == 2:
            raw[parts[1]] = value
        elif parts == ["o"]:
            raw[OUTPUTS_KEY] = value or []
    return with_stage_basis(stage, raw)


def _has(stage: Stage, key: str) -> bool:
    return any(f.key == key for f in stage.fields)


def _put(f: FieldDef | None, target: dict[str, Any], key: str, value: Any, is_gst: bool) -> None:
    if f is None:
        return
    if f.type == FieldType.MONEY:
        current = target.get(key)
        money = current if isinstance(current, dict) else {}
        money["gst" if is_gst else "amount"] = value
        target[key] = money
    else:
        target[key] = value


def fields_on_page(stage: Stage, values: dict[str, Any], meta: ModalMeta) -> set[str]:
    """Error keys that belong on the current page (field, group, decision and output keys)."""
    ids = {b.block_id for b in pages(stage, values, meta)[meta.page]}
    keys = set()
    for block_id in ids:
        parts = (block_id or "").split(".")
        if parts[0] in ("f", "d", "g", "h"):
            keys.add(parts[1])
        elif parts[0] == "o":
            keys.add(OUTPUTS_KEY)
        elif block_id == GST_BLOCK:
            keys.add(GST_KEY)
    return keys


def entered_values(
    stage: Stage, raw: dict[str, Any], meta: ModalMeta | None = None
) -> dict[str, dict[str, Any]]:
    """Raw answers as a person enters them in this modal: `{block_id: {action_id: value}}`.

    The inverse of `raw_from_state`, for the sandbox's "fill with an example" and for tests.
    Fields that don't apply to the other answers are left out: the form does not show them.
    `meta` is the open modal's (rows' block ids change once a row was removed).
    """
    meta = meta or ModalMeta(0, stage.key)
    out: dict[str, dict[str, Any]] = {}

    def put(block: str, f: FieldDef, value: Any, in_row: bool = False) -> None:
        if value in (None, "", []):
            return
        if f.type == FieldType.MONEY:
            out[block] = {VALUE: value.get("amount")}
            if in_row:
                out[_gst_block(block)] = {VALUE: value.get("gst")}
        elif f.type == FieldType.YES_NO:
            out[block] = {VALUE: "yes" if value in (True, "yes") else "no"}
        else:
            out[block] = {VALUE: value}

    for f in stage.fields:
        if not applies(stage, f, raw):
            continue
        if f.type == FieldType.GROUP:
            for index, row in enumerate(raw.get(f.key) or []):
                for sub in f.fields:
                    put(meta.row_block(f.key, index, sub.key), sub, row.get(sub.key), in_row=True)
        else:
            put(f"f.{f.key}", f, raw.get(f.key))
    if _money_fields(stage, raw) and (basis := stage_basis(stage, raw)):
        out[GST_BLOCK] = {VALUE: basis}
    for d in stage.decisions:
        if raw.get(d.key):
            out[f"d.{d.key}"] = {VALUE: raw[d.key]}
    if raw.get(OUTPUTS_KEY):
        out["o"] = {VALUE: raw[OUTPUTS_KEY]}
    return out

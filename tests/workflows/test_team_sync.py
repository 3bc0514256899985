"""Async team sync, the pure rules: the order the facilitator reads, clipping, who may add or
vote, and the YAML that declares it (refused with file and line when wrong)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.loader import DefinitionError, Registry, load_file
from workflows.model import AsyncInput
from workflows.team_sync import (
    Item,
    add_refusal,
    column_problem,
    compiled,
    open_for_input,
    ordered,
    text_problem,
    vote_refusal,
)

REGISTRY = Registry.load()
CAMPAIGN = REGISTRY["campaign_postmortem"]
SPEC = CAMPAIGN.stage("team_sync").async_input
assert SPEC is not None

ITEMS = [
    Item(1, "ideas", "Try SMS reminders", 0),
    Item(2, "went_well", "Launch email copy", 3),
    Item(3, "did_not_go_well", "Landing page was slow", 1),
    Item(4, "went_well", "Fast approvals", 5),
    Item(5, "went_well", "Clear brief", 3),
]


def test_items_are_grouped_by_column_in_the_definitions_order_most_votes_first() -> None:
    groups = ordered(ITEMS, SPEC)
    assert [(label, [i.id for i in found]) for label, found in groups] == [
        ("Went well", [4, 2, 5]),  # 5, 3, 3 votes; the tie keeps the older first
        ("Did not go well", [3]),
        ("Ideas", [1]),
    ]


def test_the_form_opens_with_the_items_as_bullets_and_their_votes() -> None:
    assert compiled(ITEMS, SPEC) == (
        "Went well:\n"
        "• Fast approvals (5 votes)\n"
        "• Launch email copy (3 votes)\n"
        "• Clear brief (3 votes)\n"
        "\n"
        "Did not go well:\n"
        "• Landing page was slow (1 vote)\n"
        "\n"
        "Ideas:\n"
        "• Try SMS reminders"
    )


def test_a_column_without_items_is_left_out_and_an_item_keeps_to_one_line() -> None:
    text = compiled([Item(1, "ideas", "Two\nlines   here", 2)], SPEC)
    assert text == "Ideas:\n• Two lines here (2 votes)"


def test_what_does_not_fit_in_the_input_is_counted_not_cut_mid_item() -> None:
    many = [Item(n, "went_well", f"Item number {n} " + "x" * 80, 100 - n) for n in range(1, 81)]
    text = compiled(many, SPEC)
    assert len(text) <= 3000
    shown = text.count("• ")
    assert shown < 80
    assert text.endswith(f"… and {80 - shown} more")
    assert "Item number 1 " in text and f"Item number {shown} " in text  # most votes kept
    assert f"Item number {shown + 1} " not in text
    assert len(compiled(many, SPEC, limit=500)) <= 500


def test_items_are_taken_until_the_async_stage_is_submitted() -> None:
    assert open_for_input(CAMPAIGN, "data_gathering", set()) == CAMPAIGN.stage("team_sync")
    assert open_for_input(CAMPAIGN, "team_sync", {"data_gathering"}) == CAMPAIGN.stage("team_sync")
    assert open_for_input(CAMPAIGN, "lessons_learned", {"data_gathering", "team_sync"}) is None
    assert open_for_input(CAMPAIGN, None, {"data_gathering", "team_sync"}) is None


def test_who_may_add_and_vote() -> None:
    stage = CAMPAIGN.stage("team_sync")
    assert add_refusal(stage=stage, is_participant=True, is_owner=False, is_admin=False) is None
    assert add_refusal(stage=stage, is_participant=False, is_owner=True, is_admin=False) is None
    assert add_refusal(stage=stage, is_participant=False, is_owner=False, is_admin=True) is None
    outsider = add_refusal(stage=stage, is_participant=False, is_owner=False, is_admin=False)
    assert outsider and "participants" in outsider
    late = add_refusal(stage=None, is_participant=True, is_owner=False, is_admin=False)
    assert late and "done" in late
    assert vote_refusal(stage_open=True, on_review=True, is_owner=False, is_admin=False) is None
    assert vote_refusal(stage_open=True, on_review=False, is_owner=False, is_admin=False)
    assert "closed" in str(
        vote_refusal(stage_open=False, on_review=True, is_owner=False, is_admin=False)
    )


def test_an_item_needs_words_and_a_column() -> None:
    assert text_problem("  ") == "Write the item."
    assert "under 500" in str(text_problem("x" * 501))
    assert text_problem("Good launch") is None
    assert column_problem("ideas", SPEC) is None
    assert column_problem(None, SPEC) == "Choose where it goes."


def test_the_three_builtin_workflows_declare_async_input() -> None:
    declared = {
        (w.key, s.key, s.async_input.prefill)
        for w in REGISTRY.all()
        for s in w.stages
        if s.async_input
    }
    assert declared == {
        ("campaign_postmortem", "team_sync", "discussion_notes"),
        ("support_postmortem", "analysis", "team_input"),
        ("service_delivery", "quality_review", "review_report"),
    }
    assert [c.label for c in SPEC.columns] == ["Went well", "Did not go well", "Ideas"]


RETRO = """\
key: retro
name: Sprint retro
description: A short retrospective.
stages:
  - key: notes
    name: Notes
    purpose: Write down what happened.
    async_input:
      columns: [went_well, {value: kudos, label: Kudos}]
      prefill: notes
    fields:
      - key: notes
        label: Notes
        type: long_text
      - key: when
        label: When
        type: date
"""


def test_a_new_workflow_gets_async_input_from_its_yaml_alone(tmp_path: Path) -> None:
    path = tmp_path / "retro.yaml"
    path.write_text(RETRO)
    spec = load_file(path).stage("notes").async_input
    assert spec == AsyncInput.model_validate(
        {
            "columns": [
                {"value": "went_well", "label": "Went well"},
                {"value": "kudos", "label": "Kudos"},
            ],
            "prefill": "notes",
        }
    )


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (
            ("prefill: notes", "prefill: summary"),
            10,
            "stages.0.async_input.prefill: 'summary' is not a field of this stage",
        ),
        (
            ("prefill: notes", "prefill: when"),
            10,
            "'when' is a date field; the items need a long_text field",
        ),
        (
            ("went_well, {", "lessons, {"),
            9,
            "column 'lessons' is not a standard one",
        ),
        (
            ("{value: kudos, label: Kudos}", "went_well"),
            9,
            "duplicate async_input column 'went_well'",
        ),
        (("      prefill: notes\n", ""), 9, "stages.0.async_input.prefill: Field required"),
    ],
    ids=["unknown-field", "not-long-text", "unknown-column", "duplicate-column", "no-prefill"],
)
def test_a_wrong_async_input_names_the_line(
    tmp_path: Path, edit: tuple[str, str], line: int, message: str
) -> None:
    path = tmp_path / "retro.yaml"
    path.write_text(RETRO.replace(*edit))
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    problem = caught.value.problems[0]
    assert message in problem.message
    assert str(problem).startswith(f"{path}:{line}: ")

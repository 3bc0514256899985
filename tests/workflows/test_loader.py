"""Definitions are data: an organisation's YAML file works, a broken one names file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.loader import BUILTIN_DIR, DefinitionError, Registry, load_file

MINIMAL = """\
key: retro
name: Sprint retro
description: A short retrospective.
stages:
  - key: notes
    name: Notes
    purpose: Write down what happened.
    fields:
      - key: notes
        label: Notes
        type: long_text
"""


def test_an_organisation_adds_a_workflow_with_one_file(tmp_path: Path) -> None:
    (tmp_path / "retro.yaml").write_text(MINIMAL)
    registry = Registry.load(tmp_path)
    assert registry["retro"].stages[0].fields[0].label == "Notes"
    assert "campaign_postmortem" in registry


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (("type: long_text", "type: longtext"), 11, "stages.0.fields.0.type: Input should be"),
        (("    purpose: Write down what happened.\n", ""), 5, "stages.0.purpose: Field required"),
        (
            ("key: notes\n    name", "key: Notes\n    name"),
            5,
            "stages.0.key: String should match pattern",
        ),
        (("  - key: notes\n    name", "  - key: notes\n  name"), 6, "invalid YAML"),
    ],
    ids=["bad-type", "missing-purpose", "bad-key", "bad-indent"],
)
def test_a_broken_file_names_the_line(
    tmp_path: Path, edit: tuple[str, str], line: int, message: str
) -> None:
    path = tmp_path / "retro.yaml"
    path.write_text(MINIMAL.replace(*edit))
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    problem = caught.value.problems[0]
    assert (problem.path, problem.line) == (path, line)
    assert message in problem.message
    assert str(problem).startswith(f"{path}:{line}: ")


def test_a_decision_pointing_nowhere_is_refused(tmp_path: Path) -> None:
    text = (
        (BUILTIN_DIR / "service_delivery.yaml")
        .read_text()
        .replace("goto: planning", "goto: plannning")
    )
    path = tmp_path / "service_delivery.yaml"
    path.write_text(text)
    with pytest.raises(DefinitionError, match="goes to unknown stage 'plannning'"):
        load_file(path)


def test_file_name_must_match_key(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(MINIMAL)
    with pytest.raises(DefinitionError, match=r"other.yaml:1: key 'retro' must match"):
        load_file(path)


def test_find_matches_user_words() -> None:
    registry = Registry.load()
    assert registry.find("campaign").key == "campaign_postmortem"
    assert registry.find("Support").key == "support_postmortem"
    assert registry.find("service_delivery").key == "service_delivery"
    assert registry.find("nothing") is None


def test_a_copy_with_changes_has_its_own_digest() -> None:
    """The digest is kept once worked out; a changed copy must not inherit it."""
    workflow = Registry.load()["campaign_postmortem"]
    assert workflow.model_copy().digest == workflow.digest
    assert workflow.model_copy(update={"name": "Another"}).digest != workflow.digest


def test_digest_changes_with_the_definition(tmp_path: Path) -> None:
    (tmp_path / "retro.yaml").write_text(MINIMAL)
    before = Registry.load(tmp_path)["retro"].digest
    (tmp_path / "retro.yaml").write_text(MINIMAL.replace("Notes\n", "Notes!\n"))
    assert Registry.load(tmp_path)["retro"].digest != before


TWO_STAGES = (
    MINIMAL
    + """\
      - key: customer
        label: Customer
        type: text
  - key: close
    name: Close
    purpose: Bill the customer.
    fields:
      - key: buyer
        label: Buyer
        type: text
        prefill_from: notes.customer
"""
)


def test_prefill_from_an_earlier_stage_loads(tmp_path: Path) -> None:
    path = tmp_path / "retro.yaml"
    path.write_text(TWO_STAGES)
    assert load_file(path).stage("close").field("buyer").prefill_from == "notes.customer"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("notes.custmer", "notes.custmer: stage 'notes' has no field 'custmer'"),
        ("close.buyer", "close.buyer: no stage 'close' comes before this one"),
        ("notes.notes", "notes.notes is a long_text field; 'buyer' is a text field"),
        ("customer", "String should match pattern"),
    ],
)
def test_a_bad_prefill_from_names_its_line(tmp_path: Path, ref: str, message: str) -> None:
    path = tmp_path / "retro.yaml"
    path.write_text(TWO_STAGES.replace("prefill_from: notes.customer", f"prefill_from: {ref}"))
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    [problem] = caught.value.problems
    assert problem.line == 22  # the prefill_from line
    assert problem.message.startswith("stages.1.fields.0.prefill_from: ")
    assert message in problem.message


DATES = (
    MINIMAL
    + """\
      - key: started
        label: Started
        type: date
      - key: ended
        label: Ended
        type: date
        not_before: started
"""
)


@pytest.mark.parametrize(
    ("ref", "line", "message"),
    [
        ("startd", 18, "stages.0.fields.2.not_before: 'startd' is not a field of this stage"),
        ("notes", 18, "stages.0.fields.2.not_before: 'notes' is a long_text field, not a date"),
        ("ended", 18, "stages.0.fields.2.not_before: field 'ended' can't be not_before itself"),
        ("later.day", 18, "later.day: no stage 'later' comes before this one"),
    ],
)
def test_a_bad_not_before_names_its_line(tmp_path: Path, ref: str, line: int, message: str) -> None:
    path = tmp_path / "retro.yaml"
    path.write_text(DATES)
    assert load_file(path).stage("notes").field("ended").not_before == "started"
    path.write_text(DATES.replace("not_before: started", f"not_before: {ref}"))
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    problem = caught.value.problems[0]
    assert problem.line == line  # the not_before line
    assert message in problem.message

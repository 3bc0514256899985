"""A stage handed to a person by role: `assignee: {from_field: stage.field}`, checked on load."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.loader import DefinitionError, Registry, load_file

HANDED_OVER = """\
key: retro
name: Retro
description: A review whose check is done by the reviewer named first.
stages:
  - key: notes
    name: Notes
    purpose: Write it down.
    fields:
      - {key: reviewer, label: Reviewer, type: user, required: false}
      - {key: team, label: Team, type: users}
      - {key: notes, label: Notes, type: long_text}
  - key: check
    name: Check
    purpose: The reviewer checks it.
    assignee: {from_field: notes.reviewer}
    fields:
      - {key: verdict, label: Verdict, type: text}
"""


def test_a_stage_handed_to_the_person_named_earlier_loads(tmp_path: Path) -> None:
    path = tmp_path / "retro.yaml"
    path.write_text(HANDED_OVER)
    stage = load_file(path).stage("check")
    assert stage.assignee is not None and stage.assignee.from_field == "notes.reviewer"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "assignee: {from_field: notes.team}",
            15,
            "stages.1.assignee.from_field: notes.team is a users field; an assignee comes from a "
            "user field (one person)",
        ),
        (
            "assignee: {from_field: check.verdict}",
            15,
            "no stage 'check' comes before this one",
        ),
        ("assignee: {from_fields: notes.reviewer}", 15, "Extra inputs are not permitted"),
        (
            "role: admin\n    assignee: {from_field: notes.reviewer}",
            16,
            "stages.1.assignee: an admin's stage cannot be assigned by role",
        ),
    ],
)
def test_a_bad_assignee_names_its_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "retro.yaml"
    path.write_text(HANDED_OVER.replace("assignee: {from_field: notes.reviewer}", text))
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    problem = next(p for p in caught.value.problems if message in p.message)
    assert problem.line == line, str(problem)


def test_the_shipped_workflows_hand_stages_to_the_people_named_for_them() -> None:
    registry = Registry.load()
    service = registry["service_delivery"]
    support = registry["support_postmortem"]

    def role(workflow, stage: str) -> str | None:
        assignee = workflow.stage(stage).assignee
        return assignee.from_field if assignee else None

    assert role(service, "quality_review") == "kickoff.quality_reviewer"
    assert role(service, "customer_acceptance") == "kickoff.account_manager"
    assert role(support, "one_on_one") == "metadata.team_lead"

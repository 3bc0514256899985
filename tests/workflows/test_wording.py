"""One voice in the shipped definitions: Australian English, the stage's own name, no jargon."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workflows.loader import BUILTIN_DIR, DefinitionError, Registry, load_file

REGISTRY = Registry.load()
# What people read: names, purposes, labels, hints, questions... (not keys or references).
TEXT_KEYS = {
    "name",
    "short_name",
    "description",
    "purpose",
    "guidance",
    "inputs",
    "label",
    "hint",
    "placeholder",
    "question",
    "title",
    "message",
}
US_SPELLINGS = re.compile(
    r"\b(organiz\w*|analyz\w*|prioritiz\w*|summariz\w*|standardiz\w*|recogniz\w*|"
    r"color\w*|behavior\w*|favor\w*|honor\w*|center\w*|catalog|fulfillment|canceled|"
    r"labeled|modeling|defense|enroll)\b",
    re.IGNORECASE,
)
JARGON = re.compile(r"\b(metadata|predefined|fill the)\b", re.IGNORECASE)


def texts(node: Any, key: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from texts(v, k)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from texts(item, key)
    elif isinstance(node, str) and key in TEXT_KEYS:
        yield node


@pytest.mark.parametrize("workflow", REGISTRY.all(), ids=lambda w: w.key)
def test_definitions_use_australian_english_without_form_jargon(workflow) -> None:
    found = [t for t in texts(workflow.model_dump()) if US_SPELLINGS.search(t) or JARGON.search(t)]
    assert found == []


def test_service_delivery_speaks_of_the_engagement_not_a_campaign() -> None:
    text = (BUILTIN_DIR / "service_delivery.yaml").read_text(encoding="utf-8")
    assert [line for line in text.splitlines() if "campaign" in line.lower()] == []


@pytest.mark.parametrize("workflow", REGISTRY.all(), ids=lambda w: w.key)
def test_modal_titles_are_the_stage_names(workflow) -> None:
    for stage in workflow.stages:
        assert len(stage.title) <= 24
        assert stage.title == stage.name or stage.short_name_problem() is None


@pytest.mark.parametrize(
    ("short", "message"),
    [
        (
            "Team Sync",
            "must be words of the name 'Post-Mortem Team Sync Meeting Notes', in "
            "order, starting with its first",
        ),
        ("Post-Mortem Sync Team", "must be words of the name"),
    ],
)
def test_a_short_name_that_is_not_the_name_is_refused_at_its_line(
    tmp_path: Path, short: str, message: str
) -> None:
    path = tmp_path / "retro.yaml"
    path.write_text(
        "key: retro\nname: Retro\ndescription: A retro.\nstages:\n"
        "  - key: sync\n    name: Post-Mortem Team Sync Meeting Notes\n"
        f"    short_name: {short}\n    purpose: Talk.\n"
    )
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    [problem] = caught.value.problems
    assert problem.line == 7 and message in problem.message


def test_a_short_name_for_a_name_that_fits_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "retro.yaml"
    path.write_text(
        "key: retro\nname: Retro\ndescription: A retro.\nstages:\n"
        "  - key: sync\n    name: Post-Mortem Team Sync\n"
        "    short_name: Team Sync\n    purpose: Talk.\n"
    )
    with pytest.raises(
        DefinitionError,
        match=r"retro.yaml:7: stages.0.short_name: the name "
        r"'Post-Mortem Team Sync' fits in a modal title",
    ):
        load_file(path)

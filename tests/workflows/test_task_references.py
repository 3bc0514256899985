"""`tracker_task` fields: a pasted task link or id is accepted, anything else is explained."""

from __future__ import annotations

import pytest

from workflows.engine import clean_value
from workflows.loader import Registry
from workflows.model import FieldDef, FieldType
from workflows.tasks import parse_task_reference, task_reference_problem

FIELD = FieldDef(key="related_task", label="Related task", type=FieldType.TRACKER_TASK)


@pytest.mark.parametrize(
    ("text", "kind", "task_id"),
    [
        ("https://app.clickup.com/t/86a1b2c3d", "clickup", "86a1b2c3d"),
        ("https://app.clickup.com/t/9001/SUP-12", "clickup", "SUP-12"),
        ("86a1b2c3d", "clickup", "86a1b2c3d"),
        ("#86a1b2c3d", "clickup", "86a1b2c3d"),
        ("https://acme.atlassian.net/browse/PM-7", "jira", "PM-7"),
        ("https://jira.acme.internal/browse/PM-7?focusedCommentId=1", "jira", "PM-7"),
        ("PM-7", "key", "PM-7"),
        ("https://linear.app/acme/issue/ENG-7/fix-the-promo-check", "linear", "ENG-7"),
        ("ENG-7", "key", "ENG-7"),
        ("https://github.com/acme/support/issues/12", "github", "12"),
        ("https://ghe.acme.com/acme/support/issues/12#issuecomment-1", "github", "12"),
        ("#12", "github", "12"),
        ("acme/support#12", "github", "12"),
        ("  PM-7  ", "key", "PM-7"),
    ],
)
def test_task_links_and_ids_of_each_tracker_are_recognised(
    text: str, kind: str, task_id: str
) -> None:
    found = parse_task_reference(text)
    assert found is not None and (found.kind, found.id) == (kind, task_id)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "the ClickUp task",
        "12",
        "https://example.com/tasks/12",
        "ftp://acme/browse/PM-7",
        "https://app.clickup.com/t/86a><!channel>",
        "https://linear.app/acme/project/x",
        "javascript:alert(1)",
        "PM-",
        "x" * 301,
    ],
)
def test_anything_else_is_refused_with_a_hint(text: str) -> None:
    assert parse_task_reference(text) is None
    problem = task_reference_problem(text)
    assert problem is not None and ("PM-12" in problem or "under 300" in problem)


def test_the_engine_cleans_a_tracker_task_answer() -> None:
    assert clean_value(FIELD, "  PM-7 ") == ("PM-7", None)
    value, problem = clean_value(FIELD, "see the ticket")
    assert (
        problem == "That does not look like a task. Paste the task's link, or its id: "
        "PM-12, #12, 86a1b2c3d."
    )


def test_the_support_workflow_asks_for_the_related_task_as_a_tracker_task() -> None:
    workflow = Registry.load()["support_postmortem"]
    fields = [f for s in workflow.stages for f in s.fields if f.key == "related_task"]
    assert [f.type for f in fields] == [FieldType.TRACKER_TASK, FieldType.TRACKER_TASK]

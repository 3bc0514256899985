"""The engine walks each seed workflow through every decision option, loops included."""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Any

import pytest

from workflows.engine import (
    GST_KEY,
    OUTPUTS_KEY,
    SentBack,
    applies,
    clean,
    may_act,
    next_pass,
    progress,
    required_now,
    sent_back,
    stage_basis,
    transition,
    when_required,
)
from workflows.loader import Registry
from workflows.model import Stage, Workflow
from workflows.samples import sample_answers

REGISTRY = Registry.load()


def walk(
    workflow: Workflow,
    choices: dict[str, list[str]],
    extra: dict[str, dict[str, Any]] | None = None,
) -> tuple[list[str], list[str], str]:
    """Submit stages until the end, taking decision options from `choices` in order of visits.

    Returns the stages visited, the follow-up kinds created and the final status.
    """
    queues = defaultdict(deque, {k: deque(v) for k, v in choices.items()})
    stage_key: str | None = workflow.stages[0].key
    visited: list[str] = []
    follow_ups: list[str] = []
    status = "open"
    while stage_key is not None:
        assert len(visited) < 30, f"runaway loop: {visited}"
        stage = workflow.stage(stage_key)
        overrides = {d.key: queues[d.key].popleft() for d in stage.decisions if queues[d.key]}
        raw = sample_answers(stage, **overrides, **(extra or {}).get(stage_key, {}))
        answers, errors = clean(stage, raw)
        assert errors == {}, (stage_key, errors)
        result = transition(workflow, stage_key, answers)
        visited.append(stage_key)
        follow_ups += [fu.kind for _, fu in result.follow_ups]
        status = result.status
        stage_key = result.next_stage
    assert not any(queues.values()), f"unused choices: {dict(queues)}"
    return visited, follow_ups, status


CAMPAIGN = ["data_gathering", "team_sync", "lessons_learned", "action_items"]
SUPPORT = ["metadata", "analysis", "report", "action_items", "one_on_one", "admin_review"]
SERVICE = ["kickoff", "planning", "execution", "quality_review", "customer_acceptance", "closure"]


def test_the_three_seed_workflows_are_shipped() -> None:
    assert {w.key for w in REGISTRY.all()} == {
        "campaign_postmortem",
        "support_postmortem",
        "service_delivery",
    }
    assert [s.key for s in REGISTRY["campaign_postmortem"].stages] == CAMPAIGN
    assert [s.key for s in REGISTRY["support_postmortem"].stages] == SUPPORT
    assert [s.key for s in REGISTRY["service_delivery"].stages] == SERVICE


def test_stage_purposes_are_the_seeds_own_words() -> None:
    campaign = REGISTRY["campaign_postmortem"]
    assert campaign.stage("data_gathering").purpose == (
        "Collect campaign metrics, documentation, and initial feedback from all team members."
    )
    assert REGISTRY["service_delivery"].stage("quality_review").purpose == (
        "Review all deliverables against quality standards and customer requirements before "
        "submission."
    )


@pytest.mark.parametrize(("systemic", "follow_ups"), [("yes", ["escalation"]), ("no", [])])
def test_campaign_systemic_issue_decision(systemic: str, follow_ups: list[str]) -> None:
    visited, made, status = walk(REGISTRY["campaign_postmortem"], {"systemic_issues": [systemic]})
    assert visited == CAMPAIGN
    assert made == follow_ups
    assert status == "complete"


def test_support_closes_after_admin_review() -> None:
    visited, _, status = walk(REGISTRY["support_postmortem"], {"review_outcome": ["close"]})
    assert visited == SUPPORT
    assert status == "closed"


def test_support_changes_requested_loops_back_to_the_report() -> None:
    visited, _, status = walk(
        REGISTRY["support_postmortem"], {"review_outcome": ["changes_requested", "close"]}
    )
    assert visited == SUPPORT + ["report", "action_items", "one_on_one", "admin_review"]
    assert status == "closed"


def test_support_statuses_follow_the_seed() -> None:
    wf = REGISTRY["support_postmortem"]
    one_on_one = transition(wf, "one_on_one", {})
    assert (one_on_one.next_stage, one_on_one.status) == ("admin_review", "in_review")
    back = transition(wf, "admin_review", {"review_outcome": "changes_requested"})
    assert (back.next_stage, back.status, back.looped_back) == ("report", "in_progress", True)


@pytest.mark.parametrize(
    ("choices", "expected", "follow_ups"),
    [
        (
            {
                "on_track": ["yes"],
                "risk_mitigation": ["no"],
                "quality_outcome": ["approved"],
                "accepted": ["yes"],
            },
            SERVICE,
            [],
        ),
        (
            {
                "on_track": ["no", "yes"],
                "risk_mitigation": ["no", "no"],
                "quality_outcome": ["approved"],
                "accepted": ["yes"],
            },
            [
                "kickoff",
                "planning",
                "execution",
                "planning",
                "execution",
                "quality_review",
                "customer_acceptance",
                "closure",
            ],
            ["delay"],
        ),
        (
            {
                "on_track": ["yes"],
                "risk_mitigation": ["yes"],
                "quality_outcome": ["approved"],
                "accepted": ["yes"],
            },
            SERVICE,
            ["risk_mitigation"],
        ),
        (
            {
                "on_track": ["yes", "yes"],
                "risk_mitigation": ["no", "no"],
                "quality_outcome": ["revision_required", "approved"],
                "accepted": ["yes"],
            },
            [
                "kickoff",
                "planning",
                "execution",
                "quality_review",
                "execution",
                "quality_review",
                "customer_acceptance",
                "closure",
            ],
            ["revision"],
        ),
        (
            {
                "on_track": ["yes", "yes"],
                "risk_mitigation": ["no", "no"],
                "quality_outcome": ["approved", "approved"],
                "accepted": ["no", "yes"],
            },
            [
                "kickoff",
                "planning",
                "execution",
                "quality_review",
                "customer_acceptance",
                "execution",
                "quality_review",
                "customer_acceptance",
                "closure",
            ],
            ["revision"],
        ),
    ],
    ids=["happy", "delay-replans", "risk-mitigation", "quality-revision", "customer-rejects"],
)
def test_service_delivery_branches(
    choices: dict[str, list[str]], expected: list[str], follow_ups: list[str]
) -> None:
    visited, made, status = walk(REGISTRY["service_delivery"], choices)
    assert visited == expected
    assert made == follow_ups
    assert status == "complete"


def test_missing_required_fields_are_named() -> None:
    stage = REGISTRY["campaign_postmortem"].stage("data_gathering")
    raw = sample_answers(stage)
    del raw["performance_data"]
    raw["budget"] = {"amount": "-5", "gst": "inclusive"}
    raw["survey_responses"] = "lots"
    _, errors = clean(stage, raw)
    assert errors == {
        "performance_data": "This is required.",
        "budget": "The amount can't be negative.",
        "survey_responses": "Enter a number, e.g. 42 or 3.5.",
    }


def test_money_needs_an_explicit_gst_basis() -> None:
    stage = REGISTRY["campaign_postmortem"].stage("data_gathering")
    answers, errors = clean(stage, sample_answers(stage, actual_spend={"amount": "1,250.5"}))
    assert errors == {GST_KEY: "Say whether the amounts include GST or not."}  # asked once
    answers, errors = clean(
        stage, sample_answers(stage, actual_spend={"amount": "$1,250.5", "gst": "exclusive"})
    )
    assert errors == {}
    assert answers["actual_spend"] == {"amount": "1250.50", "gst": "exclusive"}


def test_one_gst_basis_covers_every_amount_of_the_stage() -> None:
    """A form asks the basis once; each stored amount still says which it is, so reports read
    answers as before and a budget and an actual spend can't be on different bases."""
    stage = REGISTRY["campaign_postmortem"].stage("data_gathering")
    raw = sample_answers(
        stage,
        budget={"amount": "11000"},
        revenue={"amount": None},
        actual_spend={"amount": "9900.5", "gst": "inclusive"},
    )
    raw[GST_KEY] = "exclusive"  # the form's one choice wins over an amount's own
    answers, errors = clean(stage, raw)
    assert errors == {}
    assert answers["budget"] == {"amount": "11000.00", "gst": "exclusive"}
    assert answers["actual_spend"] == {"amount": "9900.50", "gst": "exclusive"}
    assert "revenue" not in answers and GST_KEY not in answers
    assert stage_basis(stage, answers) == "exclusive"
    mixed = {
        "budget": {"amount": "1.00", "gst": "inclusive"},
        "actual_spend": {"amount": "1.00", "gst": "exclusive"},
    }
    assert stage_basis(stage, mixed) is None  # entered before one basis per stage: ask again


def test_a_field_for_one_answer_is_asked_and_kept_only_for_that_answer() -> None:
    stage = REGISTRY["service_delivery"].stage("execution")
    raw = sample_answers(
        stage, on_track="yes", revised_timeline="Two weeks late", risk_mitigation="no"
    )
    assert not applies(stage, stage.field("revised_timeline"), raw)
    answers, errors = clean(stage, raw)
    assert errors == {}
    assert "revised_timeline" not in answers  # typed, then the answer changed: not kept
    assert answers["mitigation_actions"] == []  # a group not asked has no items
    raw["on_track"] = "no"
    assert applies(stage, stage.field("revised_timeline"), raw)
    assert clean(stage, raw)[0]["revised_timeline"] == "Two weeks late"


def test_a_multiple_choice_opens_a_field_for_each_option_chosen() -> None:
    stage = REGISTRY["campaign_postmortem"].stage("data_gathering")
    raw = sample_answers(stage, advertised=["gifts"], acl_two_price_genuine=False)
    asked = {f.key for f in stage.fields if f.key.startswith("acl_") and applies(stage, f, raw)}
    assert asked == {"acl_gifts_rebates_delivered"}
    answers, errors = clean(stage, raw)
    assert errors == {}
    assert "acl_two_price_genuine" not in answers  # no finding for a claim not made
    raw["advertised"] = ["gifts", "refund_terms"]
    del raw["refund_policy_text"]
    assert clean(stage, raw)[1] == {
        "refund_policy_text": "This is required for the answer you gave above."
    }


def test_a_check_on_one_field_makes_it_required_for_that_answer() -> None:
    stage = REGISTRY["support_postmortem"].stage("metadata")
    link = stage.field("ticket_link")
    for trigger, required in (("low_ces", True), ("stale_ticket", True), ("process", False)):
        raw = sample_answers(stage, trigger=trigger)
        del raw["ticket_link"]
        assert required_now(stage, link, raw) is required
        assert ("ticket_link" in clean(stage, raw)[1]) is required
    assert when_required(stage, link) == (
        "Needed if you answer “Customer Effort Score below 6” or “Ticket open more than 14 "
        "days” to “Why this post-mortem”."
    )


def test_required_when_loops_are_refused() -> None:
    fields = [
        {"key": "a", "label": "A", "type": "text", "required_when": {"field": "b", "equals": "x"}},
        {"key": "b", "label": "B", "type": "text", "required_when": {"field": "a", "equals": "y"}},
    ]
    with pytest.raises(ValueError, match="goes round in a loop"):
        Stage(key="s", name="S", purpose="p", fields=fields)


def test_conditional_requirements_follow_decisions() -> None:
    stage = REGISTRY["campaign_postmortem"].stage("team_sync")
    raw = sample_answers(stage, systemic_issues="yes")
    del raw["systemic_issue"]
    assert clean(stage, raw)[1] == {
        "systemic_issue": "This is required for the answer you gave above."
    }
    raw["systemic_issues"] = "no"
    assert clean(stage, raw)[1] == {}


def test_action_point_needed_asks_for_an_item_or_a_task() -> None:
    stage = REGISTRY["support_postmortem"].stage("action_items")
    raw = sample_answers(stage, action_point_needed=True, action_items=[], related_task="")
    # Next to an input the form shows: the task link while the group has no rows.
    assert clean(stage, raw)[1] == {
        "related_task": (
            "With an action point needed, add an action item or link the related task."
        )
    }
    raw["action_items"] = [{"title": None}]
    assert clean(stage, raw)[1] == {
        "action_items.0.title": (
            "With an action point needed, add an action item or link the related task."
        )
    }
    raw = sample_answers(stage, action_point_needed=False, action_items=[], no_action_summary="")
    assert clean(stage, raw)[1] == {
        "no_action_summary": "This is required for the answer you gave above."
    }


def test_group_rows_are_checked_and_blank_rows_dropped() -> None:
    stage = REGISTRY["campaign_postmortem"].stage("action_items")
    rows = [
        {"title": "Fix the promo code", "owner": "U1", "due_date": "2026-12-01"},
        {"title": "", "owner": "", "due_date": "", "tracking_link": ""},
        {"title": "Update the runbook", "owner": "U2", "due_date": "not a date"},
    ]
    answers, errors = clean(stage, {"action_items": rows})
    assert errors == {"action_items.2.due_date": "Pick a date."}
    assert [r["title"] for r in answers["action_items"]] == [
        "Fix the promo code",
        "Update the runbook",
    ]
    _, errors = clean(stage, {"action_items": []})
    assert errors == {"action_items.0.title": "Add at least one: action items."}


def test_outputs_must_be_confirmed() -> None:
    stage = REGISTRY["service_delivery"].stage("kickoff")
    raw = sample_answers(stage)
    raw[OUTPUTS_KEY] = ["kickoff_done"]
    assert clean(stage, raw)[1] == {
        OUTPUTS_KEY: "Confirm before finishing this stage: Engagement charter signed."
    }


def test_abn_fields_refuse_a_bad_check_digit() -> None:
    stage = REGISTRY["service_delivery"].stage("kickoff")
    answers, errors = clean(stage, sample_answers(stage, customer_abn="51824753556"))
    assert errors == {} and answers["customer_abn"] == "51 824 753 556"
    _, errors = clean(stage, sample_answers(stage, customer_abn="11 223 493 504"))
    assert "customer_abn" in errors


def test_admin_only_stage() -> None:
    stage = REGISTRY["support_postmortem"].stage("admin_review")
    assert may_act(stage, is_admin=True, is_owner=False)
    assert not may_act(stage, is_admin=False, is_owner=True)
    assert may_act(REGISTRY["support_postmortem"].stage("report"), is_admin=False, is_owner=False)


def test_progress_line() -> None:
    wf = REGISTRY["campaign_postmortem"]
    states = [p.state for p in progress(wf, "lessons_learned", {"data_gathering", "team_sync"})]
    assert states == ["done", "done", "current", "todo"]
    assert {p.state for p in progress(wf, None, set())} == {"done"}


def test_an_untouched_optional_money_field_is_blank_not_invalid() -> None:
    stage = REGISTRY["campaign_postmortem"].stage("data_gathering")
    answers, errors = clean(stage, sample_answers(stage, revenue={"amount": None, "gst": None}))
    assert errors == {}
    assert "revenue" not in answers
    _, errors = clean(stage, sample_answers(stage, revenue={"amount": None, "gst": "inclusive"}))
    assert errors == {}  # choosing only the GST basis still says nothing about an amount


def test_link_fields_refuse_what_would_break_a_slack_link() -> None:
    stage = REGISTRY["support_postmortem"].stage("metadata")
    for link, message in (
        (
            "https://help.example.com/t/9><!channel>",
            'This link must not contain spaces, control characters or the characters < > | ".',
        ),
        (
            "https://help.example.com/t/9|click",
            'This link must not contain spaces, control characters or the characters < > | ".',
        ),
        ("help.example.com/t/9", "Enter a full link starting with https://"),
    ):
        _, errors = clean(stage, sample_answers(stage, ticket_link=link))
        assert errors == {"ticket_link": message}
    assert clean(stage, sample_answers(stage, ticket_link="https://help.example.com/t/9"))[1] == {}


def test_a_loop_back_says_who_decided_what_and_why() -> None:
    workflow = REGISTRY["service_delivery"]
    answers = {"quality_outcome": "revision_required", "revision_notes": "Fix page 4"}
    assert sent_back(workflow, "quality_review", "execution", answers) == SentBack(
        "Quality Review", "Execution", "Revision required", "Fix page 4", "What needs revising"
    )
    assert sent_back(workflow, "execution", "quality_review", {"on_track": "yes"}) is None
    assert sent_back(workflow, "closure", None, {}) is None


def test_the_next_pass_of_a_stage_starts_without_the_last_decision() -> None:
    stage = REGISTRY["service_delivery"].stage("quality_review")
    earlier = sample_answers(stage, quality_outcome="revision_required")
    fresh = next_pass(stage, earlier)
    assert "quality_outcome" not in fresh and "revision_notes" not in fresh
    assert fresh["review_report"] == earlier["review_report"]

"""Dates that follow one another in a definition (`not_before`) can't come in the wrong order."""

from __future__ import annotations

from workflows.engine import Earlier, clean
from workflows.loader import Registry
from workflows.samples import sample_answers

REGISTRY = Registry.load()
CAMPAIGN = REGISTRY["campaign_postmortem"]
SERVICE = REGISTRY["service_delivery"]


def test_a_campaign_cannot_end_before_it_starts() -> None:
    stage = CAMPAIGN.stage("data_gathering")
    raw = sample_answers(stage, campaign_start="2026-11-20", campaign_end="2026-11-18")
    assert clean(stage, raw)[1] == {
        "campaign_end": "This can't be before “Campaign start” (Fri 20 Nov 2026)."
    }
    one_day = sample_answers(stage, campaign_start="2026-11-20", campaign_end="2026-11-20")
    assert clean(stage, one_day)[1] == {}
    no_start = sample_answers(stage, campaign_start=None, campaign_end="2026-11-18")
    assert clean(stage, no_start)[1] == {}


def test_the_team_sync_is_not_before_the_campaign_started() -> None:
    earlier = Earlier(CAMPAIGN, {"data_gathering": {"campaign_start": "2026-11-20"}})
    stage = CAMPAIGN.stage("team_sync")
    _, errors = clean(stage, sample_answers(stage, sync_date="2026-11-02"), earlier=earlier)
    assert errors == {"sync_date": "This can't be before “Campaign start” (Fri 20 Nov 2026)."}
    assert clean(stage, sample_answers(stage, sync_date="2026-11-23"), earlier=earlier)[1] == {}


def test_service_dates_follow_the_kickoff() -> None:
    earlier = Earlier(SERVICE, {"kickoff": {"kickoff_date": "2026-11-20"}})
    planning = SERVICE.stage("planning")
    raw = sample_answers(planning)
    raw["milestones"] = [
        {**raw["milestones"][0], "due_date": "2026-12-01"},
        {},
        {**raw["milestones"][0], "due_date": "2026-11-19"},
    ]
    assert clean(planning, raw, earlier=earlier)[1] == {
        "milestones.2.due_date": "This can't be before “Kickoff date” (Fri 20 Nov 2026)."
    }
    for stage_key, key in (("customer_acceptance", "review_date"), ("closure", "invoice_date")):
        stage = SERVICE.stage(stage_key)
        _, errors = clean(stage, sample_answers(stage, **{key: "2026-11-01"}), earlier=earlier)
        assert errors == {key: "This can't be before “Kickoff date” (Fri 20 Nov 2026)."}


def test_every_start_and_end_pair_is_ordered() -> None:
    ordered = {
        (w.key, s.key, f.key, f.not_before)
        for w in REGISTRY.all()
        for s in w.stages
        for g in s.fields
        for f in (g, *g.fields)
        if f.not_before
    }
    assert ordered == {
        ("campaign_postmortem", "data_gathering", "campaign_end", "campaign_start"),
        ("campaign_postmortem", "team_sync", "sync_date", "data_gathering.campaign_start"),
        ("service_delivery", "planning", "due_date", "kickoff.kickoff_date"),
        ("service_delivery", "customer_acceptance", "review_date", "kickoff.kickoff_date"),
        ("service_delivery", "closure", "invoice_date", "kickoff.kickoff_date"),
    }

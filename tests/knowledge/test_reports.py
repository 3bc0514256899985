"""The lessons-learned report: golden files per workflow and format, escaping, overrides.

Regenerate the golden files after an intended change with UPDATE_GOLDEN=1 and read the diff.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from bot.knowledge.views import render, report_message
from sandbox.fake_slack import problems
from workflows.loader import Registry
from workflows.reports import build, parse_query, parse_tags, report_stage
from workflows.samples import sample_answers

GOLDEN = Path(__file__).parent / "golden"
REGISTRY = Registry.load()
ITEMS = [
    {
        "title": "Merge the two refund articles",
        "owner": "U0ALICE",
        "status": "open",
        "due_date": "2026-12-15",
        "tracking_link": None,
    },
    {
        "title": "Alert on parcels stuck 5 days",
        "owner": "U0BOB",
        "status": "done",
        "due_date": None,
        "tracking_link": None,
    },
]
NAMES = {"U0ALICE": "Alice Nguyen", "U0BOB": "Bob Smith"}
TODAY = date(2026, 11, 30)  # the golden files' "today": dates in 2026 show no year


def sample_report(key: str, **overrides):
    workflow = REGISTRY[key]
    answers = {s.key: sample_answers(s) for s in workflow.stages}
    for stage_key, values in overrides.items():
        answers[stage_key].update(values)
    return build(workflow, "Spring sale: orders & refunds", answers, ITEMS)


@pytest.mark.parametrize("fmt", ["mrkdwn", "md", "html"])
@pytest.mark.parametrize("key", ["campaign_postmortem", "support_postmortem", "service_delivery"])
def test_report_matches_its_golden_file(key: str, fmt: str) -> None:
    text = render(sample_report(key), fmt, names=NAMES, today=TODAY)
    path = GOLDEN / f"{key}.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_every_workflow_flags_one_report_stage() -> None:
    assert {w.key: report_stage(w).key for w in REGISTRY.all()} == {
        "campaign_postmortem": "lessons_learned",
        "support_postmortem": "report",
        "service_delivery": "closure",
    }


def test_the_report_has_the_sections_a_reader_needs() -> None:
    text = render(sample_report("campaign_postmortem"), "md", names=NAMES)
    for heading in (
        "Summary",
        "Impact",
        "Timeline",
        "What went well",
        "What did not go well",
        "Root causes (five whys)",
        "Lessons learned",
        "Recommendations",
        "Action items",
    ):
        assert f"## {heading}" in text
    assert "- Merge the two refund articles: @Alice Nguyen, due 2026-12-15 (open)" in text
    assert "processes, not people" in text
    support = render(sample_report("support_postmortem"), "mrkdwn")
    # Seed 001's labels lead the support report.
    assert support.startswith("*Why this post-mortem*: Customer Effort Score below 6\n")
    assert "*Ticket owner*: <@U0ALICE>" in support


def test_user_text_is_escaped_for_slack_and_html() -> None:
    nasty = "<!channel> ping & <script>alert(1)</script> <https://evil.example|click>"
    report = sample_report("campaign_postmortem", lessons_learned={"lessons": nasty})
    mrkdwn = render(report, "mrkdwn")
    assert "&lt;!channel&gt; ping &amp; &lt;script&gt;" in mrkdwn
    assert "<!channel>" not in mrkdwn and "<https://evil" not in mrkdwn
    html = render(report, "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    md = render(report, "md")
    assert "<script>" not in md
    message = report_message(report.title, mrkdwn, review_id=7)
    assert problems("message", message) == []


def test_links_are_only_web_links_in_html() -> None:
    report = sample_report("support_postmortem", metadata={"ticket_link": "javascript:alert(1)"})
    html = render(report, "html")
    assert 'href="javascript' not in html and "javascript:alert(1)" in html
    assert '<a href="https://example.com/kb_article/1">' in html


def test_an_organisation_template_overrides_the_builtin(tmp_path: Path) -> None:
    (tmp_path / "report_campaign_postmortem.md.j2").write_text(
        "ACME lessons for {{ r.title }}: {{ r.section('lessons') }}\n"
    )
    assert render(sample_report("campaign_postmortem"), "md", templates_dir=tmp_path) == (
        "ACME lessons for Spring sale: orders & refunds: Lessons learned 1\n"
    )
    # The other formats still come from the built-in templates.
    assert render(
        sample_report("campaign_postmortem"), "mrkdwn", templates_dir=tmp_path
    ).startswith("*Summary*")


def test_tags_and_the_share_flag() -> None:
    report = sample_report(
        "campaign_postmortem",
        lessons_learned={"tags": "Black Friday, email,, EMAIL", "share_at_meeting": False},
    )
    assert report.tags == ("campaign", "email", "black-friday")
    assert report.share_at_meeting is False
    support = sample_report("support_postmortem", metadata={"product": "Kettle K2"})
    assert support.tags == ("support", "delivery", "kettle-k2")  # team "support" once
    assert support.team == "Support team and its workflows"
    assert parse_tags(" ;#") == []


def test_search_query_filters() -> None:
    q = parse_query("Refunds late workflow:support tag:Returns after:2026-02-01 after:soon")
    assert q.words == ("refunds", "late") and q.workflow == "support"
    assert q.tags == ("returns",) and str(q.after) == "2026-02-01"
    assert q.problems == ("after:soon is not a date like 2026-01-31",)
    assert parse_query("   ").empty


def test_dates_in_slack_read_like_a_person_wrote_them() -> None:
    report = sample_report("campaign_postmortem")
    assert "due Tue 15 Dec (open)" in render(report, "mrkdwn", today=date(2026, 11, 30))
    # Across a new year the year is said; exports keep ISO dates.
    assert "due Tue 15 Dec 2026 (open)" in render(report, "mrkdwn", today=date(2027, 1, 4))
    assert "due 2026-12-15 (open)" in render(report, "md", today=date(2026, 11, 30))

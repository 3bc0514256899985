"""`postmortem-bot export`: a complete record in Markdown, HTML and JSON."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import Engine

from bot.cli.main import main
from bot.reviews import service
from storage.db import session_factory, transaction
from workflows.loader import Registry
from workflows.samples import sample_answers

REGISTRY = Registry.load()


def completed_support_review(engine: Engine) -> int:
    workflow = REGISTRY["support_postmortem"]
    with transaction(session_factory(engine)) as session:
        review = service.start_review(
            session,
            workflow,
            team_id="T0TEST",
            title="Kettle <b>refund</b>",
            channel_id="C0REVIEWS",
            owner_id="U0ALICE",
            started_by="U0ALICE",
        )
        for stage in workflow.stages:
            answers = sample_answers(stage, admin_comment="Only for admins")
            if stage.key == "report":
                answers["lessons"] = "Refunds need the finance checklist."
            result = service.submit_stage(
                session, review, stage.key, answers, user_id="U0ALICE", is_admin=True
            )
            assert result.ok, result.errors
        return review.id


def run(engine: Engine, *args: str):
    url = engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(main, ["export", *args], env={"DATABASE_URL": url})


def test_export_formats_hold_the_whole_record(engine: Engine) -> None:
    review_id = completed_support_review(engine)
    md = run(engine, str(review_id))
    assert md.exit_code == 0, md.output
    for part in (
        "# Lessons learned: Kettle &lt;b&gt;refund&lt;/b&gt;",
        "Refunds need the finance checklist.",
        "## Ticket analysis",
        "- **Comment for admins only**: Only for admins",  # the operator sees all
        "Is everything done?: **Yes: close the post-mortem**",
        "## Audit trail",
        "review.started",
    ):
        assert part in md.output, part
    html = run(engine, str(review_id), "--format", "html")
    assert html.exit_code == 0
    assert "<title>Kettle &lt;b&gt;refund&lt;/b&gt;</title>" in html.output
    assert "<b>refund</b>" not in html.output
    data = json.loads(run(engine, str(review_id), "--format", "json").output)
    assert [s["key"] for s in data["stages"]] == [
        s.key for s in REGISTRY["support_postmortem"].stages
    ]
    assert data["action_items"][0]["status"] == "open"
    assert data["review"]["status"] == "closed"
    assert "Refunds need the finance checklist." in data["report"]
    assert {a["action"] for a in data["audit"]} >= {"review.started", "stage.submitted"}


def test_unknown_review_is_one_line(engine: Engine) -> None:
    result = run(engine, "999999")
    assert result.exit_code == 1
    assert result.output == "Error: no review with id 999999\n"

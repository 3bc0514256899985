"""Australian compliance inside the workflows: tax invoice at closure, ACL checks, ABNs."""

from __future__ import annotations

import pytest
from helpers.slack_walk import (
    ALICE,
    CHANNEL,
    REGISTRY,
    choose,
    complete_stage,
    review_row,
    start,
    status_message,
)
from sqlalchemy import Engine, select

from bot.reviews.views.stage_modal import entered_values
from sandbox.fake_slack import FakeSlack
from storage.db import transaction
from storage.models import FollowUp
from workflows.samples import sample_answers

SELLER = {
    "POSTMORTEM_SELLER_NAME": "Harbour Retail Services Pty Ltd",
    "POSTMORTEM_SELLER_ABN": "51824753556",
}


@pytest.fixture
def bot(slack: FakeSlack, engine: Engine, bot_with):
    return bot_with(slack, engine, **SELLER)


def open_current_stage(slack: FakeSlack, bot) -> dict:
    slack.click(
        ALICE,
        "continue_review",
        str(review_row(bot).id),
        channel_id=CHANNEL,
        message_ts=status_message(slack)["ts"],
    )
    return slack.wait_for(lambda: slack.top_view(ALICE))


def test_closure_posts_a_tax_invoice_and_asks_for_the_buyer_over_1000(
    slack: FakeSlack, bot
) -> None:
    start(slack, "service Catalogue shoot")
    for _ in range(5):
        complete_stage(
            slack,
            bot,
            on_track="yes",
            risk_mitigation="no",
            quality_outcome="approved",
            accepted="yes",
        )
    stage = REGISTRY["service_delivery"].stage("closure")
    answers = sample_answers(
        stage,
        invoice_number="INV-0042",
        invoice_date="2026-12-14",
        buyer_name="",
        buyer_abn="",
        invoice_lines=[
            {
                "description": "Photography (day rate)",
                "quantity": "2",
                "unit_price": {"amount": "550.00", "gst": "inclusive"},
                "gst_free": False,
            },
            {
                "description": "Export shipping",
                "quantity": "1",
                "unit_price": {"amount": "120.00", "gst": "exclusive"},
                "gst_free": True,
            },
        ],
    )
    view = open_current_stage(slack, bot)
    slack.click(ALICE, "add_row", "invoice_lines", view_id=view["id"])
    slack.wait_for(lambda: "g.invoice_lines.1.description" in str(slack.top_view(ALICE)))
    cleared = {"f.buyer_name": {"v": ""}, "f.buyer_abn": {"v": ""}}  # carried from kickoff
    reply = slack.submit(ALICE, view["id"], entered_values(stage, answers) | cleared)
    assert reply.errors == {
        "f.buyer_name": (
            "This invoice totals $1,220.00 incl. GST: a tax invoice of $1,000 or more must show "
            "the buyer's name or ABN (GSTR 2013/1)."
        )
    }
    values = entered_values(stage, answers)
    values["f.buyer_name"] = {"v": "Acme Outdoor <Retail> Pty Ltd"}
    assert slack.submit(ALICE, view["id"], values).ok
    message = status_message(slack)
    invoice = slack.wait_for(
        lambda: next(
            (
                m
                for m in slack.thread(CHANNEL, message["ts"])
                if m["text"].startswith("Tax invoice")
            ),
            None,
        )
    )
    text = invoice["blocks"][0]["text"]["text"]
    assert "*Tax invoice* INV-0042" in text
    assert "Seller: Harbour Retail Services Pty Ltd · ABN 51 824 753 556" in text
    assert "Buyer: Acme Outdoor &lt;Retail&gt; Pty Ltd" in text  # user text escaped
    assert "Issue date: 14 December 2026" in text
    assert "• Photography (day rate): 2 × $550.00 (incl. GST) · Taxable" in text
    assert "• Export shipping: 1 × $120.00 (GST-free) · GST-free" in text
    assert "Total excluding GST: $1,120.00" in text
    assert "GST: $100.00 (GST-free lines carry no GST)" in text  # 1/11 of $1,100
    assert "*Total including GST: $1,220.00*" in text


def test_the_customer_at_kickoff_is_the_buyer_at_closure(slack: FakeSlack, bot) -> None:
    start(slack, "service Catalogue shoot")
    complete_stage(slack, bot, customer_name="Acme Pty Ltd", customer_abn="11 223 491 505")
    for _ in range(4):
        complete_stage(
            slack,
            bot,
            on_track="yes",
            risk_mitigation="no",
            quality_outcome="approved",
            accepted="yes",
        )
    view = open_current_stage(slack, bot)
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["f.buyer_name"]["element"]["initial_value"] == "Acme Pty Ltd"
    assert blocks["f.buyer_abn"]["element"]["initial_value"] == "11 223 491 505"
    stage = REGISTRY["service_delivery"].stage("closure")
    answers = sample_answers(stage, buyer_name="", buyer_abn="")  # $5,500: needs a buyer
    assert slack.submit(ALICE, view["id"], entered_values(stage, answers)).ok
    message = status_message(slack)
    invoice = slack.wait_for(
        lambda: next(
            (
                m
                for m in slack.thread(CHANNEL, message["ts"])
                if m["text"].startswith("Tax invoice")
            ),
            None,
        )
    )
    assert "Buyer: Acme Pty Ltd · ABN 11 223 491 505" in invoice["blocks"][0]["text"]["text"]


def test_a_gst_free_line_that_includes_gst_is_refused_in_the_form(slack: FakeSlack, bot) -> None:
    start(slack, "service Catalogue shoot")
    for _ in range(5):
        complete_stage(
            slack,
            bot,
            on_track="yes",
            risk_mitigation="no",
            quality_outcome="approved",
            accepted="yes",
        )
    stage = REGISTRY["service_delivery"].stage("closure")
    answers = sample_answers(
        stage,
        invoice_lines=[
            {
                "description": "Consulting",
                "quantity": "5",
                "unit_price": {"amount": "1100.00", "gst": "inclusive"},
                "gst_free": True,
            }
        ],
    )
    view = open_current_stage(slack, bot)
    reply = slack.submit(ALICE, view["id"], entered_values(stage, answers))
    assert reply.errors == {
        "g.invoice_lines.0.gst_free": (
            "A GST-free line has no GST in its price: choose “Excludes GST” for the unit price, "
            "or answer No here if the price includes GST."
        )
    }
    assert review_row(bot).current_stage == "closure"  # nothing posted, nothing saved


def test_failed_campaign_checks_become_findings_and_suggested_action_items(
    slack: FakeSlack, bot
) -> None:
    start(slack, "campaign Mid-season sale")
    complete_stage(
        slack,
        bot,
        advertised=["two_price", "component_price", "refund_terms"],
        acl_two_price_genuine=False,
        acl_single_total_price=True,
        refund_policy_text="Sale items: no refunds.",
    )
    with transaction(bot.rt.sessions) as session:
        findings = session.scalars(
            select(FollowUp).where(FollowUp.kind == "compliance").order_by(FollowUp.id)
        ).all()
        assert [f.title for f in findings] == [
            "Two-price claim not supported",
            "'No refunds' style wording used",
        ]
        suggested = [f.suggested_action for f in findings]
    complete_stage(slack, bot)
    complete_stage(slack, bot)
    view = open_current_stage(slack, bot)  # Action items: prefilled from the findings
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["g.action_items.0.title"]["element"]["initial_value"] == suggested[0][:150]
    assert blocks["g.action_items.1.title"]["element"]["initial_value"] == suggested[1][:150]
    slack.close(ALICE, view["id"])


def test_report_shows_budget_against_actual_on_both_bases(slack: FakeSlack, bot) -> None:
    start(slack, "campaign Winter launch")
    # One basis for the stage's amounts; the report shows both.
    complete_stage(
        slack,
        bot,
        budget={"amount": "11000.00", "gst": "inclusive"},
        actual_spend={"amount": "11550.00", "gst": "inclusive"},
    )
    for _ in range(3):
        complete_stage(slack, bot)
    message = status_message(slack)
    report = slack.wait_for(
        lambda: next(
            (
                m
                for m in slack.thread(CHANNEL, message["ts"])
                if m["text"].startswith("Lessons learned")
            ),
            None,
        )
    )
    text = "\n".join(b["text"]["text"] for b in report["blocks"] if b["type"] == "section")
    budget = text[
        text.index("*Budget vs actual*") : text.index("```\n", text.index("Variance")) + 3
    ]
    assert budget == (
        "*Budget vs actual*\n```\n"
        "              incl. GST     excl. GST\n"
        "Budget       $11,000.00    $10,000.00\n"
        "Actual       $11,550.00    $10,500.00\n"
        "Variance       +$550.00      +$500.00 (+5.00%)\n```"
    )


def test_an_invalid_abn_is_refused_in_the_modal(slack: FakeSlack, bot) -> None:
    start(slack, "service Store fit-out")
    view = open_current_stage(slack, bot)
    stage = REGISTRY["service_delivery"].stage("kickoff")
    reply = slack.submit(
        ALICE,
        view["id"],
        entered_values(stage, sample_answers(stage, customer_abn="11 223 493 504")),
    )
    assert reply.errors == {
        "f.customer_abn": "This ABN fails the ATO check-digit test: check for a typo."
    }


def test_consumer_guarantees_assessment_from_a_reviews_message(slack: FakeSlack, bot) -> None:
    start(slack, "support Kettle handle broke")
    message = status_message(slack)
    choose(slack, ALICE, "acl_open", message)
    view = slack.wait_for(lambda: slack.top_view(ALICE))
    answers = {
        "kind": {"v": "goods"},
        "price": {"v": "89.95"},
        "purchased": {"v": "2026-10-01"},
        "personal": {"v": "yes"},
        "guarantees": {"v": ["acceptable_quality", "due_care_skill"]},
        "major": {"v": ["goods:unsafe"]},
    }
    reply = slack.submit(ALICE, view["id"], answers)
    assert reply.errors == {
        "guarantees": "These are not goods guarantees: Supplied with due care and skill."
    }
    answers["guarantees"] = {"v": ["acceptable_quality"]}
    assert slack.submit(ALICE, view["id"], answers).ok
    result = slack.wait_for(
        lambda: next(
            (m for m in slack.thread(CHANNEL, message["ts"]) if "Consumer guarantees" in m["text"]),
            None,
        )
    )
    text = result["blocks"][0]["text"]["text"]
    assert "Consumer: yes." in text
    assert "Major failure (ACL s260)." in text
    assert "refund" in text.lower() and "replacement" in text.lower()
    with transaction(bot.rt.sessions) as session:
        record = session.scalars(select(FollowUp).where(FollowUp.kind == "acl_assessment")).one()
        assert "Major failure (ACL s260)." in record.detail


def test_warranty_wording_on_request(slack: FakeSlack, bot) -> None:
    slack.slash_command(ALICE, CHANNEL, "/postmortem", "warranty services")
    post = slack.wait_for(lambda: slack.response_posts)[0]["payload"]
    assert (
        "Our services come with guarantees that cannot be excluded under the Australian "
        "Consumer Law." in post["text"]
    )

"""Domain rules a stage names in its definition (`rules: [tax_invoice]`).

They run after a stage's fields are clean: errors go back to the form next to the field,
findings become follow-up records (with a suggested action item) on the review.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from workflows.au import campaign_checks
from workflows.au.gst import InvoiceLine
from workflows.au.invoice import BUYER_IDENTITY_THRESHOLD, Party, TaxInvoice

Errors = dict[str, str]
ACL_PREFIX = "acl_"


@dataclass(frozen=True)
class Finding:
    kind: str
    title: str
    detail: str
    suggested_action: str | None = None


@dataclass(frozen=True)
class RuleContext:
    """What rules need from the deployment (the seller on tax invoices)."""

    seller_name: str = ""
    seller_abn: str = ""


SELLER_NAME_SETTING = "POSTMORTEM_SELLER_NAME"
SELLER_ABN_SETTING = "POSTMORTEM_SELLER_ABN"


def missing_seller_settings(context: RuleContext) -> list[str]:
    """What an admin must set before tax invoices are complete, for App Home and `check`.

    The invoice posted in a review's channel leaves an unset seller out rather than naming a
    setting there: the channel's readers are the team and often the customer, who can't fix it.
    """
    missing = []
    if not context.seller_name.strip():
        missing.append(
            f"{SELLER_NAME_SETTING} is not set: tax invoices show no seller name, "
            "which a tax invoice must have (GSTR 2013/1)."
        )
    if not context.seller_abn.strip():
        missing.append(
            f"{SELLER_ABN_SETTING} is not set: tax invoices show no seller ABN, "
            "which a tax invoice must have (GSTR 2013/1)."
        )
    return missing


def invoice_from(answers: Mapping[str, Any], context: RuleContext) -> TaxInvoice:
    """The closure stage's answers as a tax invoice (GST Act s29-70; GSTR 2013/1)."""
    lines = [
        InvoiceLine(
            description=row["description"],
            quantity=Decimal(row["quantity"]),
            unit_price=Decimal(row["unit_price"]["amount"]),
            gst_free=bool(row.get("gst_free")),
            price_includes_gst=row["unit_price"]["gst"] == "inclusive",
        )
        for row in answers.get("invoice_lines") or []
    ]
    buyer = Party(answers.get("buyer_name") or "", answers.get("buyer_abn") or "")
    return TaxInvoice(
        number=answers.get("invoice_number") or "",
        issue_date=date.fromisoformat(answers["invoice_date"]),
        seller=Party(context.seller_name, context.seller_abn),
        lines=tuple(lines),
        buyer=buyer,
    )


def contradictory_lines(answers: Mapping[str, Any]) -> Errors:
    """Lines marked GST-free whose price is said to include GST. A GST-free supply carries no
    GST (GST Act Div 38), so the two answers contradict each other and the invoice would print
    "(GST-free)" beside a price the seller said includes GST: ask which one is wrong."""
    return {
        f"invoice_lines.{index}.gst_free": (
            "A GST-free line has no GST in its price: choose “Excludes GST” for the unit price, "
            "or answer No here if the price includes GST."
        )
        for index, row in enumerate(answers.get("invoice_lines") or [])
        if row.get("gst_free") is True
        and isinstance(row.get("unit_price"), Mapping)
        and row["unit_price"].get("gst") == "inclusive"
    }


def tax_invoice(answers: Mapping[str, Any], context: RuleContext) -> tuple[Errors, list[Finding]]:
    """Each line's GST answers agree; a total of $1,000 or more (incl. GST) needs the buyer's
    identity or ABN (GSTR 2013/1)."""
    if contradictions := contradictory_lines(answers):
        return contradictions, []
    try:
        invoice = invoice_from(answers, context)
    except (ValueError, KeyError) as exc:
        return {"invoice_lines.0.description": f"These lines don't make an invoice: {exc}"}, []
    buyer = invoice.buyer or Party()
    if invoice.totals.total_incl >= BUYER_IDENTITY_THRESHOLD and not (
        buyer.name.strip() or buyer.abn.strip()
    ):
        return {
            "buyer_name": (
                f"This invoice totals ${invoice.totals.total_incl:,.2f} incl. GST: a tax invoice "
                "of $1,000 or more must show the buyer's name or ABN (GSTR 2013/1)."
            )
        }, []
    return {}, []


def campaign_compliance(
    answers: Mapping[str, Any], context: RuleContext
) -> tuple[Errors, list[Finding]]:
    """Failed Australian Consumer Law campaign checks become flagged findings."""
    given: dict[str, bool | str] = {
        key: answers[ACL_PREFIX + key]
        for key in campaign_checks.CHECKS_BY_KEY
        if isinstance(answers.get(ACL_PREFIX + key), bool)
    }
    if answers.get(campaign_checks.REFUND_POLICY_TEXT):
        given[campaign_checks.REFUND_POLICY_TEXT] = answers[campaign_checks.REFUND_POLICY_TEXT]
    return {}, [
        Finding("compliance", f.title, f.detail, f.suggested_action_item)
        for f in campaign_checks.evaluate(given)
    ]


Rule = Callable[[Mapping[str, Any], RuleContext], tuple[Errors, list[Finding]]]
RULES: dict[str, Rule] = {"tax_invoice": tax_invoice, "campaign_compliance": campaign_compliance}


def run(
    names: tuple[str, ...], answers: Mapping[str, Any], context: RuleContext | None = None
) -> tuple[Errors, list[Finding]]:
    errors: Errors = {}
    findings: list[Finding] = []
    for name in names:
        more_errors, more_findings = RULES[name](answers, context or RuleContext())
        errors.update(more_errors)
        findings += more_findings
    return errors, findings

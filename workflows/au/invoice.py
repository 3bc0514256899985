"""Tax invoices: content rules and a Markdown rendering.

Sources: GST Act s29-70 (tax invoices); Goods and Services Tax Ruling GSTR 2013/1 (what a tax
invoice must contain); GST Act s29-80, GST Regulations 2019 s29-80.01 and the ATO "Tax invoices"
page (no tax invoice needed for a sale of $82.50 or less including GST; a sale of $1,000 or more
also needs the buyer's identity or ABN).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from workflows.au import abn
from workflows.au.gst import InvoiceLine, InvoiceTotals, Method, gst_from_inclusive, invoice_totals
from workflows.au.templates import render

TAX_INVOICE_THRESHOLD = Decimal("82.50")
BUYER_IDENTITY_THRESHOLD = Decimal("1000.00")


@dataclass(frozen=True)
class Party:
    """A seller or buyer: identity (name) and/or ABN, as GSTR 2013/1 asks for."""

    name: str = ""
    abn: str = ""


@dataclass(frozen=True)
class TaxInvoice:
    """A tax invoice as GSTR 2013/1 describes it; `method` is the s9-90 rounding rule used."""

    number: str
    issue_date: date
    seller: Party
    lines: tuple[InvoiceLine, ...]
    buyer: Party | None = None
    method: Method = "total_invoice"
    totals: InvoiceTotals = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.lines))
        object.__setattr__(self, "totals", invoice_totals(self.lines, self.method))

    @property
    def all_gst_free(self) -> bool:
        """Every line is GST-free: the total carries no GST, so it must not say it includes
        any (s29-70 asks for the GST amount or "Total price includes GST" only where it does)."""
        return bool(self.lines) and all(line.gst_free for line in self.lines)

    @property
    def total_price_includes_gst(self) -> bool:
        """True when the invoice may say "Total price includes GST" instead of the GST amount:
        GSTR 2013/1 allows it only where the GST is exactly 1/11 of the total, i.e. every line
        is taxable and the rounded GST equals 1/11 of the rounded total."""
        every_line_taxable = all(not line.gst_free for line in self.lines)
        return (
            bool(self.lines)
            and every_line_taxable
            and self.totals.gst == gst_from_inclusive(self.totals.total_incl)
        )


def needs_tax_invoice(total_incl: Decimal) -> bool:
    """Whether a buyer who asks is owed a tax invoice: ATO "Tax invoices": "You don't need to
    issue a tax invoice for sales of $82.50 or less (including GST)" (GST Act s29-80; GST
    Regulations 2019 s29-80.01). Exactly $82.50 therefore needs none."""
    return total_incl > TAX_INVOICE_THRESHOLD


def line_taxable_extent(line: InvoiceLine) -> str:
    """How far the supply is taxable, which GSTR 2013/1 requires for each line."""
    return "GST-free" if line.gst_free else "Taxable"


def requirements_problems(invoice: TaxInvoice) -> list[str]:
    """What stops this document being a valid tax invoice, per GST Act s29-70(1)(c) and GSTR
    2013/1: seller identity and valid ABN; what was sold (description, quantity, price); at least
    one taxable supply; and, for a total of $1,000 or more, the buyer's identity or ABN."""
    return seller_problems(invoice.seller) + sale_problems(invoice)


def seller_problems(seller: Party) -> list[str]:
    """What the seller's own details lack: a deployment setting to fix, not the customer's
    business, so these are told to admins rather than printed on the invoice."""
    problems: list[str] = []
    if not seller.name.strip():
        problems.append("The seller's name (identity) is missing.")
    if not seller.abn.strip():
        problems.append("The seller's ABN is missing.")
    elif (error := abn.validation_error(seller.abn)) is not None:
        problems.append(f"Seller ABN: {error}")
    return problems


def sale_problems(invoice: TaxInvoice) -> list[str]:
    """What the sale's own answers lack (lines, buyer): the people who filled the form can act
    on these."""
    problems: list[str] = []
    if not invoice.lines:
        problems.append("A tax invoice must describe what was sold: add at least one line.")
    for number, line in enumerate(invoice.lines, start=1):
        if not line.description.strip():
            problems.append(f"Line {number} has no description of what was sold.")
    if invoice.lines and all(line.gst_free for line in invoice.lines):
        problems.append("Every line is GST-free: a tax invoice is only for taxable sales.")
    buyer = invoice.buyer or Party()
    if buyer.abn.strip() and (error := abn.validation_error(buyer.abn)) is not None:
        problems.append(f"Buyer ABN: {error}")
    elif invoice.totals.total_incl >= BUYER_IDENTITY_THRESHOLD and not (
        buyer.name.strip() or buyer.abn.strip()
    ):
        problems.append(
            "A sale of $1,000 or more (including GST) needs the buyer's identity or ABN."
        )
    return problems


def render_markdown(invoice: TaxInvoice) -> str:
    """The invoice as Markdown, from workflows/templates/tax_invoice.md.j2. It carries every item
    GSTR 2013/1 lists: "Tax invoice", seller identity and ABN, issue date, each line's
    description, quantity and price, the GST amount (or "Total price includes GST"), and whether
    each line is taxable."""
    seller_abn = abn.format(invoice.seller.abn) if abn.is_valid(invoice.seller.abn) else ""
    buyer = invoice.buyer
    buyer_abn = abn.format(buyer.abn) if buyer and abn.is_valid(buyer.abn) else ""
    rows = [
        {
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "basis": "GST-free"
            if line.gst_free
            else ("incl. GST" if line.price_includes_gst else "excl. GST"),
            "extent": line_taxable_extent(line),
        }
        for line in invoice.lines
    ]
    return render(
        "tax_invoice.md.j2",
        invoice=invoice,
        seller_abn=seller_abn,
        buyer=buyer,
        buyer_abn=buyer_abn,
        rows=rows,
        totals=invoice.totals,
        includes_gst_statement=invoice.total_price_includes_gst,
        has_gst_free=any(line.gst_free for line in invoice.lines),
        all_gst_free=invoice.all_gst_free,
        required=needs_tax_invoice(invoice.totals.total_incl),
        threshold=TAX_INVOICE_THRESHOLD,
    )

from datetime import date
from decimal import Decimal as D

import pytest

from workflows.au.gst import InvoiceLine
from workflows.au.invoice import (
    Party,
    TaxInvoice,
    needs_tax_invoice,
    render_markdown,
    requirements_problems,
)

SELLER = Party("Harbour Outdoor Pty Ltd", "51824753556")


def make(lines, buyer=None, seller=SELLER, method="total_invoice") -> TaxInvoice:
    return TaxInvoice("INV-0042", date(2026, 3, 3), seller, lines, buyer, method)


def tent(price: str) -> InvoiceLine:
    return InvoiceLine("Tent", D(1), D(price), price_includes_gst=True)


@pytest.mark.parametrize(
    ("total", "needed"),
    [(D("82.49"), False), (D("82.50"), False), (D("82.51"), True), (D("1100.00"), True)],
)
def test_needs_tax_invoice(total: D, needed: bool) -> None:
    assert needs_tax_invoice(total) is needed


@pytest.mark.parametrize(
    ("invoice", "problems"),
    [
        (make([tent("500.00")]), []),
        (make([tent("999.99")]), []),
        (
            make([tent("1000.00")]),
            ["A sale of $1,000 or more (including GST) needs the buyer's identity or ABN."],
        ),
        (make([tent("1000.00")], buyer=Party("Jo Citizen")), []),
        (make([tent("1000.00")], buyer=Party(abn="11 223 491 505")), []),
        (
            make([tent("1000.00")], buyer=Party("Jo", "11 223 493 504")),
            ["Buyer ABN: This ABN fails the ATO check-digit test: check for a typo."],
        ),
        (
            make([tent("50.00")], seller=Party("", "")),
            ["The seller's name (identity) is missing.", "The seller's ABN is missing."],
        ),
        (
            make([tent("50.00")], seller=Party("Harbour", "123 456 789")),
            ["Seller ABN: An ABN has 11 digits; this has 9."],
        ),
        (make([]), ["A tax invoice must describe what was sold: add at least one line."]),
        (
            make([InvoiceLine(" ", D(1), D("5.00"))]),
            ["Line 1 has no description of what was sold."],
        ),
        (
            make([InvoiceLine("Milk", D(1), D("3.00"), gst_free=True)]),
            ["Every line is GST-free: a tax invoice is only for taxable sales."],
        ),
    ],
)
def test_requirements_problems(invoice: TaxInvoice, problems: list[str]) -> None:
    assert requirements_problems(invoice) == problems


@pytest.mark.parametrize(
    ("invoice", "flag"),
    [
        (make([tent("1100.00")]), True),
        (make([InvoiceLine("Service", D(1), D("1000.00"))]), True),
        (make([tent("10.00"), InvoiceLine("Milk", D(1), D("3.00"), gst_free=True)]), False),
        # taxable supply rule gives 0.30 GST on $3.15, which is not 1/11 (0.29) of the total
        (make([tent("1.05"), tent("1.05"), tent("1.05")], method="taxable_supply"), False),
        (make([tent("1.05"), tent("1.05"), tent("1.05")], method="total_invoice"), True),
    ],
)
def test_total_price_includes_gst_flag(invoice: TaxInvoice, flag: bool) -> None:
    assert invoice.total_price_includes_gst is flag


def test_render_taxable_only_invoice_over_threshold() -> None:
    invoice = make(
        [InvoiceLine("Hiking boots", D(2), D("550.00"), price_includes_gst=True)],
        buyer=Party("Jo Citizen", "11223491505"),
    )
    text = render_markdown(invoice)
    assert text.startswith("# Tax invoice INV-0042\n")
    assert "Harbour Outdoor Pty Ltd, ABN 51 824 753 556" in text
    assert "Jo Citizen, ABN 11 223 491 505" in text
    assert "3 March 2026" in text
    assert "| Hiking boots | 2 | $550.00 (incl. GST) | Taxable |" in text
    assert "**Total:** $1,100.00. Total price includes GST." in text
    assert "not required" not in text


def test_render_mixed_invoice_below_threshold() -> None:
    invoice = make(
        [
            InvoiceLine("Gas canister | 230 g", D(3), D("5.00")),
            InvoiceLine("Milk *full cream*", D("1.5"), D("2.00"), gst_free=True),
        ]
    )
    text = render_markdown(invoice)
    assert "Tax invoice" in text
    assert r"| Gas canister \| 230 g | 3 | $5.00 (excl. GST) | Taxable |" in text
    assert r"| Milk \*full cream\* | 1.5 | $2.00 (GST-free) | GST-free |" in text
    assert "- GST: $1.50" in text
    assert "- Total excluding GST: $18.00" in text
    assert "**Total including GST: $19.50**" in text
    assert "Total price includes GST" not in text
    assert "Lines marked GST-free carry no GST ($3.00 in total)" in text
    assert (
        "A tax invoice is not required for a sale of $82.50 or less (including GST), "
        "but this one is provided anyway."
    ) in text
    # every table row has exactly five pipes that are not escaped
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.replace(r"\|", "").count("|") == 5 for line in rows)


def test_render_all_gst_free_invoice_says_no_gst_is_included() -> None:
    invoice = make(
        [InvoiceLine("Export freight", D(5), D("1100.00"), gst_free=True)],
        buyer=Party("Acme Pty Ltd"),
    )
    text = render_markdown(invoice)
    assert "- GST: $0.00 (every line is GST-free)" in text
    assert "- **Total: $5,500.00**" in text
    assert "including GST: $5,500.00" not in text and "Total price includes GST" not in text

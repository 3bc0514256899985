"""The tax invoice as posted in Slack: the total's wording follows the lines (GST Act s29-70)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from bot.invoices.views import invoice_message
from sandbox.fake_slack import problems
from workflows.au.gst import InvoiceLine
from workflows.au.invoice import Party, TaxInvoice

SELLER = Party("Harbour Retail Services Pty Ltd", "51824753556")


def text_of(*lines: InvoiceLine) -> str:
    message = invoice_message(
        TaxInvoice("INV-7", date(2026, 12, 14), SELLER, lines, Party("Acme Pty Ltd"))
    )
    assert problems("message", message) == []
    return message["blocks"][0]["text"]["text"]


def test_all_gst_free_lines_never_say_the_total_includes_gst() -> None:
    text = text_of(InvoiceLine("Consulting", D(5), D("1100.00"), gst_free=True))
    assert "• Consulting: 5 × $1,100.00 (GST-free) · GST-free" in text
    assert "*Total: $5,500.00*\nGST: $0.00 (every line is GST-free)" in text
    assert "incl. GST" not in text.split("• ")[-1] and "includes GST" not in text


def test_taxable_lines_inclusive_say_total_price_includes_gst() -> None:
    text = text_of(InvoiceLine("Consulting", D(5), D("1100.00"), price_includes_gst=True))
    assert "*Total: $5,500.00*\nTotal price includes GST." in text


def test_mixed_lines_show_the_gst_amount_and_both_totals() -> None:
    text = text_of(
        InvoiceLine("Consulting", D(1), D("1100.00"), price_includes_gst=True),
        InvoiceLine("Export freight", D(1), D("120.00"), gst_free=True),
    )
    assert "Total excluding GST: $1,120.00" in text
    assert "GST: $100.00 (GST-free lines carry no GST)" in text
    assert "*Total including GST: $1,220.00*" in text
    assert "Total price includes GST" not in text


def test_an_unset_seller_is_left_to_follow_not_named_as_a_setting_in_the_channel() -> None:
    message = invoice_message(
        TaxInvoice(
            "INV-8",
            date(2026, 12, 14),
            Party("", ""),
            (InvoiceLine("Consulting", D(1), D("110.00"), price_includes_gst=True),),
            Party("Acme Pty Ltd"),
        )
    )
    text = message["blocks"][0]["text"]["text"]
    assert "Seller details to follow." in text
    assert "POSTMORTEM_" not in text and "not set" not in text
    assert "seller" not in text.split("Seller details to follow.")[1].lower()


def test_a_seller_without_an_abn_shows_the_name_alone() -> None:
    message = invoice_message(
        TaxInvoice(
            "INV-9",
            date(2026, 12, 14),
            Party("Harbour", ""),
            (InvoiceLine("Consulting", D(1), D("110.00"), price_includes_gst=True),),
        )
    )
    text = message["blocks"][0]["text"]["text"]
    assert "\nSeller: Harbour\n" in text and "ABN" not in text

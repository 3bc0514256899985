"""The service delivery closure stage as a tax invoice: what the form accepts and refuses."""

from __future__ import annotations

from typing import Any

from workflows.engine import clean
from workflows.loader import Registry
from workflows.rules import RuleContext, missing_seller_settings
from workflows.samples import sample_answers

CLOSURE = Registry.load()["service_delivery"].stage("closure")
SELLER = RuleContext("Harbour Retail Services Pty Ltd", "51 824 753 556")
CONTRADICTION = (
    "A GST-free line has no GST in its price: choose “Excludes GST” for the unit "
    "price, or answer No here if the price includes GST."
)


def line(description: str, basis: str, gst_free: bool, price: str = "1100.00") -> dict[str, Any]:
    return {
        "description": description,
        "quantity": "5",
        "unit_price": {"amount": price, "gst": basis},
        "gst_free": gst_free,
    }


def test_a_gst_free_line_priced_including_gst_is_refused_next_to_it() -> None:
    raw = sample_answers(CLOSURE, invoice_lines=[line("Consulting", "inclusive", True)])
    _, errors = clean(CLOSURE, raw, SELLER)
    assert errors == {"invoice_lines.0.gst_free": CONTRADICTION}


def test_the_error_names_the_row_typed_in_even_after_a_blank_row() -> None:
    raw = sample_answers(
        CLOSURE,
        invoice_lines=[
            line("Consulting", "inclusive", False),
            {},  # a row added and left blank
            line("Export freight", "inclusive", True, "120.00"),
        ],
    )
    _, errors = clean(CLOSURE, raw, SELLER)
    assert errors == {"invoice_lines.2.gst_free": CONTRADICTION}


def test_consistent_lines_are_accepted() -> None:
    raw = sample_answers(
        CLOSURE,
        invoice_lines=[
            line("Consulting", "inclusive", False),
            line("Export freight", "exclusive", True),
        ],
    )
    assert clean(CLOSURE, raw, SELLER)[1] == {}


def test_missing_seller_settings_are_reported_for_admins() -> None:
    assert missing_seller_settings(SELLER) == []
    assert [m.split(" ")[0] for m in missing_seller_settings(RuleContext("", ""))] == [
        "POSTMORTEM_SELLER_NAME",
        "POSTMORTEM_SELLER_ABN",
    ]
    assert missing_seller_settings(RuleContext("Harbour", "")) == [
        "POSTMORTEM_SELLER_ABN is not set: tax invoices show no seller ABN, which a tax "
        "invoice must have (GSTR 2013/1)."
    ]

from decimal import Decimal as D

import pytest

from workflows.au.gst import (
    GST_RATE,
    InvoiceLine,
    exclusive_from_inclusive,
    gst_from_exclusive,
    gst_from_inclusive,
    inclusive_from_exclusive,
    invoice_totals,
    round_cents,
)


@pytest.mark.parametrize(
    ("inclusive", "gst"),
    [
        (D("1100.00"), D("100.00")),  # AU-RULES worked example
        (D("99.99"), D("9.09")),  # 9.0900...
        (D("10.05"), D("0.91")),  # 0.913636...
        (D("82.50"), D("7.50")),
        (D("0.05"), D("0.00")),  # 0.004545...
        (D("0.06"), D("0.01")),  # 0.005454... rounds up
        (D("0"), D("0.00")),
    ],
)
def test_gst_from_inclusive(inclusive: D, gst: D) -> None:
    assert gst_from_inclusive(inclusive) == gst
    assert exclusive_from_inclusive(inclusive) + gst == round_cents(inclusive)


@pytest.mark.parametrize(
    ("exclusive", "gst", "inclusive"),
    [
        (D("1000.00"), D("100.00"), D("1100.00")),
        (D("0.05"), D("0.01"), D("0.06")),  # 0.005 is half a cent: rounds up, not to even
        (D("0.15"), D("0.02"), D("0.17")),  # 0.015: banker's rounding would give 0.02 too
        (D("0.25"), D("0.03"), D("0.28")),  # 0.025: banker's rounding would give 0.02
        (D("19.99"), D("2.00"), D("21.99")),
    ],
)
def test_gst_from_exclusive(exclusive: D, gst: D, inclusive: D) -> None:
    assert gst_from_exclusive(exclusive) == gst
    assert inclusive_from_exclusive(exclusive) == inclusive


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (D("0.005"), D("0.01")),
        (D("0.015"), D("0.02")),
        (D("2.345"), D("2.35")),
        (D("2.344999"), D("2.34")),
        (D("-0.005"), D("-0.01")),
        (7, D("7.00")),
    ],
)
def test_round_cents_half_up(value: D, rounded: D) -> None:
    assert round_cents(value) == rounded


def test_rate() -> None:
    assert D("0.10") == GST_RATE


@pytest.mark.parametrize(
    "call",
    [
        lambda: gst_from_inclusive(1100.0),
        lambda: gst_from_exclusive(0.1),
        lambda: round_cents(1.005),
        lambda: exclusive_from_inclusive("10.00"),
        lambda: InvoiceLine("Widget", D(1), 9.99),
        lambda: InvoiceLine("Widget", 1.5, D("9.99")),
    ],
)
def test_floats_and_strings_are_refused(call) -> None:
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize(
    ("quantity", "price", "message"),
    [
        (D(0), D("1.00"), "line 'Cable': quantity must be more than 0"),
        (D(-1), D("1.00"), "line 'Cable': quantity must be more than 0"),
        (D(1), D("-0.01"), "line 'Cable': unit price must be 0 or more"),
    ],
)
def test_invalid_lines_name_the_line(quantity: D, price: D, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        InvoiceLine("Cable", quantity, price)


def test_line_amounts_inclusive_and_exclusive() -> None:
    incl = InvoiceLine("Widget", D(2), D("5.50"), price_includes_gst=True)
    assert incl.gst == D(1)
    assert (incl.total_incl, incl.total_excl) == (D("11.00"), D("10.00"))
    excl = InvoiceLine("Widget", D(2), D("5.00"))
    assert excl.gst == D("1.000")
    assert (excl.total_incl, excl.total_excl) == (D("11.000"), D("10.00"))
    free = InvoiceLine("Bread", D(1), D("4.00"), gst_free=True, price_includes_gst=True)
    assert free.gst == 0
    assert free.total_incl == free.total_excl == D("4.00")


# Three separate $1.05 (incl. GST) supplies: each has 0.0954... of GST.
# Taxable supply rule: 0.10 + 0.10 + 0.10 = 0.30. Total invoice rule: 3.15 / 11 = 0.2863... -> 0.29.
THREE_CHARGERS = [
    InvoiceLine(f"Charger {n}", D(1), D("1.05"), price_includes_gst=True) for n in (1, 2, 3)
]


@pytest.mark.parametrize(
    ("method", "gst", "total_excl"),
    [("total_invoice", D("0.29"), D("2.86")), ("taxable_supply", D("0.30"), D("2.85"))],
)
def test_two_rounding_rules_differ_by_a_cent(method: str, gst: D, total_excl: D) -> None:
    totals = invoice_totals(THREE_CHARGERS, method)
    assert totals.gst == gst
    assert totals.total_incl == D("3.15")
    assert totals.total_excl == total_excl


def test_rules_agree_on_a_single_line() -> None:
    line = [InvoiceLine("Tent", D(1), D("99.99"), price_includes_gst=True)]
    assert invoice_totals(line, "total_invoice").gst == D("9.09")
    assert invoice_totals(line, "taxable_supply").gst == D("9.09")


def test_mixed_invoice_totals() -> None:
    lines = [
        InvoiceLine("Consulting", D("2.5"), D("120.00")),  # 300.00 excl + 30.00 GST
        InvoiceLine("Milk", D(2), D("1.60"), gst_free=True),  # 3.20, no GST
        InvoiceLine("Cable", D(1), D("10.05"), price_includes_gst=True),  # 0.9136 GST
    ]
    totals = invoice_totals(lines)
    assert totals.gst == D("30.91")
    assert totals.total_incl == D("343.25")
    assert totals.total_excl == D("312.34")
    assert totals.gst_free_total == D("3.20")


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method must be one of"):
        invoice_totals(THREE_CHARGERS, "per_line")  # type: ignore[arg-type]

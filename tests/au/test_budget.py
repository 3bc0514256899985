"""Budget vs actual shows both GST bases and never compares across them."""

from __future__ import annotations

from decimal import Decimal

from workflows.au.budget import compare


def test_mixed_bases_are_converted_before_comparing() -> None:
    c = compare(
        {"amount": "11000.00", "gst": "inclusive"}, {"amount": "10500.00", "gst": "exclusive"}
    )
    assert (c.budget.incl, c.budget.excl) == (Decimal("11000.00"), Decimal("10000.00"))
    assert (c.actual.incl, c.actual.excl) == (Decimal("11550.00"), Decimal("10500.00"))
    assert (c.variance_incl, c.variance_excl, c.variance_pct) == (
        Decimal("550.00"),
        Decimal("500.00"),
        Decimal("5.00"),
    )


def test_under_budget_is_negative_and_cents_round_half_up() -> None:
    c = compare({"amount": "99.99", "gst": "inclusive"}, {"amount": "50.00", "gst": "inclusive"})
    assert c.budget.excl == Decimal("90.90")  # $99.99 incl. carries $9.09 GST
    assert c.variance_incl == Decimal("-49.99")

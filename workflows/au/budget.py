"""Budget against actual spend, on both GST bases and never mixed.

A budget entered incl. GST and an actual entered excl. GST are converted (GST = 1/11 of an
inclusive amount, 10% of an exclusive one: A New Tax System (Goods and Services Tax) Act 1999
s9-70; ATO "divide by 11") before they are compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from workflows.au.gst import exclusive_from_inclusive, inclusive_from_exclusive, round_cents


@dataclass(frozen=True)
class Amount:
    incl: Decimal
    excl: Decimal
    entered: str  # "inclusive" or "exclusive": how the person typed it


def amount(value: Mapping[str, str]) -> Amount:
    """A money answer (`{"amount": "1100.00", "gst": "inclusive"}`) on both bases."""
    entered = Decimal(value["amount"])
    if value["gst"] == "inclusive":
        return Amount(round_cents(entered), exclusive_from_inclusive(entered), "inclusive")
    return Amount(inclusive_from_exclusive(entered), round_cents(entered), "exclusive")


@dataclass(frozen=True)
class Comparison:
    budget: Amount
    actual: Amount

    @property
    def variance_incl(self) -> Decimal:
        """Actual minus budget, incl. GST (positive: over budget)."""
        return self.actual.incl - self.budget.incl

    @property
    def variance_excl(self) -> Decimal:
        return self.actual.excl - self.budget.excl

    @property
    def variance_pct(self) -> Decimal | None:
        if not self.budget.excl:
            return None
        return round_cents(self.variance_excl / self.budget.excl * 100)


def compare(budget: Mapping[str, str], actual: Mapping[str, str]) -> Comparison:
    return Comparison(amount(budget), amount(actual))

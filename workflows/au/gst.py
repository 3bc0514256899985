"""GST arithmetic in Decimal AUD.

Sources: A New Tax System (Goods and Services Tax) Act 1999 (GST Act) s9-70 (10% rate), s9-90
(rounding); ATO media release 2000/36 ("divide by 11"). Money is never a float: binary floats
cannot hold cents exactly and the ATO rounding rule (half a cent rounds up) needs exact decimals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

GST_RATE = Decimal("0.10")
CENT = Decimal("0.01")
Method = Literal["total_invoice", "taxable_supply"]
METHODS: tuple[Method, ...] = ("total_invoice", "taxable_supply")


def money(value: Decimal | int, name: str = "amount") -> Decimal:
    """Accept Decimal or int, refuse floats: GST Act s9-90 rounding needs exact cents."""
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, not a float ({value!r}): use Decimal(str)")
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number, got {result}")
    return result


def round_cents(x: Decimal) -> Decimal:
    """Round to the cent, half a cent up: GST Act s9-90(1) ("rounded to the nearest cent
    (rounding 0.5 cents upwards)"); Decimal's default banker's rounding would be wrong."""
    return money(x).quantize(CENT, rounding=ROUND_HALF_UP)


def gst_from_inclusive(amount: Decimal) -> Decimal:
    """GST in a GST-inclusive price: 1/11 of it, rounded to the cent (GST Act s9-70 and s9-90;
    ATO "divide by 11"). $1,100.00 -> $100.00, $99.99 -> $9.09, $10.05 -> $0.91."""
    return round_cents(money(amount) / 11)


def gst_from_exclusive(amount: Decimal) -> Decimal:
    """GST on a GST-exclusive price: 10% (GST Act s9-70), rounded to the cent (s9-90)."""
    return round_cents(money(amount) * GST_RATE)


def exclusive_from_inclusive(amount: Decimal) -> Decimal:
    """The GST-exclusive part of an inclusive price: price less its rounded GST (s9-70, s9-90),
    so that exclusive + GST always adds back to the price shown to the customer."""
    amount = money(amount)
    return round_cents(amount) - gst_from_inclusive(amount)


def inclusive_from_exclusive(amount: Decimal) -> Decimal:
    """The price the customer pays: exclusive price plus rounded GST (GST Act s9-70, s9-90)."""
    amount = money(amount)
    return round_cents(amount) + gst_from_exclusive(amount)


@dataclass(frozen=True)
class InvoiceLine:
    """One supply on an invoice. GST stays unrounded here because s9-90(2) lets the invoice
    decide when to round (once for the invoice, or once per supply)."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    gst_free: bool = False
    price_includes_gst: bool = False

    def __post_init__(self) -> None:
        label = f"line {self.description!r}"
        quantity = money(self.quantity, f"{label}: quantity")
        unit_price = money(self.unit_price, f"{label}: unit price")
        if quantity <= 0:
            raise ValueError(f"{label}: quantity must be more than 0, got {quantity}")
        if unit_price < 0:
            raise ValueError(
                f"{label}: unit price must be 0 or more, got {unit_price} "
                "(refunds and discounts after the sale go on an adjustment note)"
            )
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "unit_price", unit_price)

    @property
    def amount(self) -> Decimal:
        """Quantity x unit price, on whichever basis the price was quoted."""
        return self.quantity * self.unit_price

    @property
    def gst(self) -> Decimal:
        """Unrounded GST: nil for GST-free supplies (GST Act Div 38), else 1/11 of an inclusive
        price or 10% of an exclusive one (s9-70)."""
        if self.gst_free:
            return Decimal(0)
        return self.amount / 11 if self.price_includes_gst else self.amount * GST_RATE

    @property
    def total_incl(self) -> Decimal:
        """Unrounded line total including GST."""
        return self.amount if self.price_includes_gst or self.gst_free else self.amount + self.gst

    @property
    def total_excl(self) -> Decimal:
        """Unrounded line total excluding GST."""
        return self.amount - self.gst if self.price_includes_gst else self.amount


@dataclass(frozen=True)
class InvoiceTotals:
    """Rounded invoice totals; total_incl = total_excl + gst to the cent."""

    method: Method
    gst: Decimal
    total_incl: Decimal
    total_excl: Decimal
    gst_free_total: Decimal


def _sum_gst(lines: list[InvoiceLine], method: Method) -> Decimal:
    """s9-90(2): total invoice rule adds unrounded GST and rounds once; taxable supply rule
    rounds each supply's GST, then adds (and rounds the sum, a no-op on whole cents)."""
    if method == "total_invoice":
        return round_cents(sum((line.gst for line in lines), Decimal(0)))
    return round_cents(sum((round_cents(line.gst) for line in lines), Decimal(0)))


def invoice_totals(lines: Iterable[InvoiceLine], method: Method = "total_invoice") -> InvoiceTotals:
    """Totals for an invoice with several supplies, rounding GST per GST Act s9-90(2) and the
    ATO's "Rounding of GST" guidance: the *total invoice rule* or the *taxable supply rule*.
    The seller and the buyer may use different rules (s9-90(3)), so the method is explicit."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    lines = list(lines)
    gst = _sum_gst(lines, method)
    # GST on exclusive-priced lines is added to their price; inclusive prices already hold it.
    added = _sum_gst([line for line in lines if not line.price_includes_gst], method)
    total_incl = round_cents(sum((line.amount for line in lines), Decimal(0)) + added)
    gst_free_total = round_cents(sum((line.amount for line in lines if line.gst_free), Decimal(0)))
    return InvoiceTotals(method, gst, total_incl, total_incl - gst, gst_free_total)

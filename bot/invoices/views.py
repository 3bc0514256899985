"""The final tax invoice in Slack (the Markdown export is workflows.au.invoice.render_markdown)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.reviews.views.answers import templates
from bot.slack.text import clip
from workflows.au import abn
from workflows.au.invoice import (
    TaxInvoice,
    line_taxable_extent,
    needs_tax_invoice,
    sale_problems,
)


def dollars(value: Decimal) -> str:
    return f"${value:,.2f}"


def invoice_message(invoice: TaxInvoice, templates_dir: Path | None = None) -> dict[str, Any]:
    buyer = invoice.buyer
    buyer_abn = abn.format(buyer.abn) if buyer and abn.is_valid(buyer.abn) else ""
    buyer_line = " · ".join(
        p for p in ((buyer.name if buyer else ""), f"ABN {buyer_abn}" if buyer_abn else "") if p
    )
    lines = [
        {
            "description": line.description,
            "quantity": f"{line.quantity.normalize():f}",
            "unit_price": dollars(line.unit_price),
            "basis": "GST-free"
            if line.gst_free
            else ("incl. GST" if line.price_includes_gst else "excl. GST"),
            "extent": line_taxable_extent(line),
        }
        for line in invoice.lines
    ]
    seller_abn = abn.format(invoice.seller.abn) if abn.is_valid(invoice.seller.abn) else ""
    # An unset seller setting is for admins (rules.missing_seller_settings), not the channel.
    seller_line = " · ".join(
        p for p in (invoice.seller.name.strip(), f"ABN {seller_abn}" if seller_abn else "") if p
    )
    text = (
        templates(templates_dir)
        .get_template("tax_invoice.mrkdwn.j2")
        .render(
            invoice=invoice,
            seller_line=seller_line,
            buyer_line=buyer_line,
            issue_date=invoice.issue_date.strftime("%-d %B %Y"),
            lines=lines,
            total_incl=dollars(invoice.totals.total_incl),
            gst=dollars(invoice.totals.gst),
            total_excl=dollars(invoice.totals.total_excl),
            includes_gst_statement=invoice.total_price_includes_gst,
            has_gst_free=any(line.gst_free for line in invoice.lines),
            all_gst_free=invoice.all_gst_free,
            required=needs_tax_invoice(invoice.totals.total_incl),
            problems=sale_problems(invoice),
        )
    )
    return {
        "text": f"Tax invoice {invoice.number}".strip(),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}],
    }

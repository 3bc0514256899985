"""Mandatory text for a warranty against defects given to a consumer.

Source: Competition and Consumer Regulations 2010 reg 90 (made for ACL s102): a document
evidencing a warranty against defects must include the prescribed text, word for word, for goods
(since 1 January 2012) and for services (since 8 June 2019). The texts live in
workflows/templates/warranty_goods.txt.j2 and warranty_services.txt.j2 and must not be edited
except to track the regulation. Reg 90 also requires the warrantor's name, address and contact
details, the claim procedure, the warranty period and who bears claim expenses; those are the
business's own details and are not produced here.
"""

from __future__ import annotations

from typing import Literal

from workflows.au.templates import render

WarrantyKind = Literal["goods", "services"]


def warranty_text(kind: WarrantyKind) -> str:
    """The reg 90 statutory text for `kind` ("goods" or "services"), exactly as prescribed by
    the Competition and Consumer Regulations 2010 reg 90 (ACL s102), without a trailing newline."""
    if kind not in ("goods", "services"):
        raise ValueError(f"kind must be 'goods' or 'services', got {kind!r}")
    return render(f"warranty_{kind}.txt.j2").rstrip("\n")

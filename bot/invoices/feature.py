"""Tax invoices: posted in the review's thread when a stage produces one."""

from __future__ import annotations

from bot.features import Feature
from bot.invoices import service

FEATURE = Feature(
    name="invoices",
    after_stage=(service.after_stage,),
    effects={"invoices.post": service.deliver_invoice},
)

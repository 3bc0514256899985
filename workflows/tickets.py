"""Helpdesk ticket events: the webhook's format, and the rules that make a ticket a post-mortem.

Pure: parsing names the bad field (the webhook answers 400 with it), and the CES rules take the
scale and direction as settings, because helpdesks differ (CES 2.0 is 1–7 with 7 easiest; older
surveys are 1–5 with 1 meaning little effort).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from workflows.links import link_problem

STALE_AFTER = timedelta(days=14)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CUSTOMER_TYPES = ("reseller", "end-user")
FIRST_YEAR, LAST_YEAR = 1970, 9998  # a ticket's dates; a year short of datetime's limit


class TicketError(ValueError):
    """A ticket event the bot cannot use: `field` is the JSON path of the problem (or None)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class TicketEvent(BaseModel):
    """One ticket as the helpdesk sees it (README: "Support post-mortems from your helpdesk")."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    ticket_id: Annotated[str, Field(min_length=1, max_length=100)]
    url: Annotated[str | None, Field(max_length=2000)] = None
    subject: Annotated[str, Field(max_length=500)] = ""
    customer_type: Literal["reseller", "end-user"] | None = None
    category: Annotated[str | None, Field(max_length=100)] = None
    ces_score: Annotated[Decimal | None, Field(ge=0, le=100)] = None
    ces_scale: Annotated[int | None, Field(ge=2, le=10)] = None
    owner: Annotated[str, Field(min_length=1, max_length=254)]
    opened_at: AwareDatetime
    closed_at: AwareDatetime | None = None

    @field_validator("subject", "category", mode="before")
    @classmethod
    def _free_text(cls, value: Any) -> Any:
        """NUL can't be stored in PostgreSQL text; in words a person reads it means nothing,
        so it is dropped (on every database alike)."""
        return value.replace("\x00", "") if isinstance(value, str) else value

    @field_validator("ticket_id", "owner", "url", mode="before")
    @classmethod
    def _identifier(cls, value: Any) -> Any:
        """An id or address with a control character in it is not the one the helpdesk means:
        refused rather than guessed at."""
        if isinstance(value, str) and CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and (problem := link_problem(value)):
            raise ValueError(problem)
        return value or None

    @field_validator("opened_at", "closed_at")
    @classmethod
    def _in_range(cls, value: datetime | None) -> datetime | None:
        """In UTC, as stored; a time that has no UTC equivalent (9999-12-31T23:59:59-14:00) or
        leaves no room for date arithmetic is the sender's mistake, not a server error."""
        if value is None:
            return None
        try:
            utc = value.astimezone(UTC)
        except OverflowError:
            utc = None
        if utc is None or not FIRST_YEAR <= utc.year <= LAST_YEAR:
            raise ValueError(f"is out of range (years {FIRST_YEAR} to {LAST_YEAR})")
        return utc

    @field_validator("customer_type", mode="before")
    @classmethod
    def _customer_type(cls, value: Any) -> Any:
        if isinstance(value, str):  # "End user", "end_user", "Reseller" all mean the same
            value = re.sub(r"[\s_]+", "-", value.strip().lower()) or None
        return value

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        if not (SLACK_USER.match(value) or EMAIL.match(value)):
            raise ValueError("must be a Slack user id (U…) or an e-mail address")
        return value

    @field_validator("ces_score", mode="before")
    @classmethod
    def _no_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TicketEvent:
        if self.closed_at is not None and self.closed_at < self.opened_at:
            raise ValueError("closed_at: is before opened_at")
        return self

    @property
    def owner_is_email(self) -> bool:
        return "@" in self.owner


def _field_of(error: ErrorDetails) -> str | None:
    loc = ".".join(str(p) for p in error.get("loc", ()))
    message = str(error.get("msg", ""))
    if not loc and ": " in message:  # model-level checks name their field first
        return message.split(": ", 1)[0].removeprefix("Value error, ")
    return loc or None


def _message(error: ErrorDetails, field: str | None) -> str:
    if error.get("type") == "missing":
        return f"{field} is required"
    if str(error.get("type", "")).startswith(("decimal", "int_")):
        return f"{field}: must be a number"
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    if field and message.startswith(f"{field}: "):
        message = message[len(field) + 2 :]
    return f"{field}: {message}" if field else message


def parse_event(data: Any) -> TicketEvent:
    """A validated ticket from a decoded JSON object; TicketError names the first bad field."""
    if not isinstance(data, dict):
        raise TicketError("the body must be a JSON object")
    try:
        return TicketEvent.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_of(first)
        raise TicketError(_message(first, field), field) from None


def decode(body: bytes) -> Any:
    """JSON from a request body; TicketError (no field) when it is not JSON at all."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TicketError(f"the body is not valid JSON: {exc}") from None


# --- Customer Effort Score ---------------------------------------------------------------------


@dataclass(frozen=True)
class CesRules:
    """When a score is "low": worse than `threshold` on a 1–`scale` survey.

    higher_is_easier (CES 2.0, the default): low means below the threshold ("below 6" on 1–7).
    Otherwise 1 means little effort, and low means above the threshold.
    """

    scale: int = 7
    threshold: Decimal = Decimal(6)
    higher_is_easier: bool = True

    @classmethod
    def from_settings(cls, saved: dict[str, Any] | None) -> CesRules:
        """From `Workspace.settings["tickets"]`; a bad setting raises TicketError naming it."""
        saved = saved or {}
        try:
            scale = int(saved.get("ces_scale", 7))
            threshold = Decimal(str(saved.get("ces_threshold", 6)))
        except (ValueError, ArithmeticError):
            raise TicketError("ces_scale and ces_threshold must be numbers", "settings") from None
        direction = saved.get("ces_direction", "higher_is_easier")
        if direction not in ("higher_is_easier", "lower_is_easier"):
            raise TicketError("ces_direction is higher_is_easier or lower_is_easier", "settings")
        if not 2 <= scale <= 10 or not 1 <= threshold <= scale:
            raise TicketError("ces_threshold must lie on the 1–ces_scale scale", "settings")
        return cls(scale, threshold, direction == "higher_is_easier")


def on_scale(score: Decimal, from_scale: int, to_scale: int) -> Decimal:
    """The same position on another 1–n scale (4 on 1–5 is 5.5 on 1–7)."""
    if from_scale == to_scale:
        return score
    return 1 + (score - 1) * Decimal(to_scale - 1) / Decimal(from_scale - 1)


def check_score(event: TicketEvent, rules: CesRules) -> None:
    """A score outside its scale is a malformed event, not a low score."""
    scale = event.ces_scale or rules.scale
    if event.ces_score is not None and not 1 <= event.ces_score <= scale:
        raise TicketError(f"ces_score: must be from 1 to {scale}", "ces_score")


def is_low_ces(event: TicketEvent, rules: CesRules) -> bool:
    """Does this ticket's score call for a post-mortem? (No score: no.)"""
    if event.ces_score is None:
        return False
    check_score(event, rules)
    score = on_scale(event.ces_score, event.ces_scale or rules.scale, rules.scale)
    return score < rules.threshold if rules.higher_is_easier else score > rules.threshold


def easiness_1_to_7(event: TicketEvent, rules: CesRules) -> Decimal | None:
    """The score as the support workflow's CES field reads it: 1–7, 7 easiest."""
    if event.ces_score is None:
        return None
    scale = event.ces_scale or rules.scale
    score = event.ces_score if rules.higher_is_easier else scale + 1 - event.ces_score
    return on_scale(score, scale, 7).quantize(Decimal("0.1")).normalize()


# --- staleness ---------------------------------------------------------------------------------


def is_stale(
    opened_at: datetime, closed_at: datetime | None, now: datetime, after: timedelta = STALE_AFTER
) -> bool:
    """Still open more than `after` (14 days) after it was opened."""
    if opened_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("is_stale needs aware datetimes")
    return closed_at is None and now - opened_at > after

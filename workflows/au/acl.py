"""Australian Consumer Law (Competition and Consumer Act 2010, Schedule 2): consumer guarantees,
who is a consumer, major vs minor failures, remedies, and misleading "no refunds" wording.

Sources: ACL ss3, 51-62, 259-269, 29(1)(m); ACCC "Consumer guarantees", "Repair, replace,
refund" and "Refunds, returns & cancellations" pages ("No refund" signs are unlawful).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal, get_args

from workflows.au.gst import money

Kind = Literal["goods", "services"]
KINDS: tuple[Kind, ...] = get_args(Kind)

CONSUMER_THRESHOLD = Decimal("100000")
CONSUMER_THRESHOLD_BEFORE_2021 = Decimal("40000")
THRESHOLD_CHANGED_ON = date(2021, 7, 1)


class Guarantee(StrEnum):
    """The consumer guarantees of ACL Part 3-2 Division 1, with `label`, `section` and `kind`."""

    TITLE = "title"
    UNDISTURBED_POSSESSION = "undisturbed_possession"
    NO_UNDISCLOSED_SECURITIES = "no_undisclosed_securities"
    ACCEPTABLE_QUALITY = "acceptable_quality"
    FIT_FOR_PURPOSE = "fit_for_purpose"
    MATCH_DESCRIPTION = "match_description"
    MATCH_SAMPLE = "match_sample"
    REPAIRS_SPARE_PARTS = "repairs_spare_parts"
    EXPRESS_WARRANTY = "express_warranty"
    DUE_CARE_SKILL = "due_care_skill"
    FIT_FOR_PURPOSE_RESULT = "fit_for_purpose_result"
    REASONABLE_TIME = "reasonable_time"

    @property
    def label(self) -> str:
        return _GUARANTEES[self][0]

    @property
    def section(self) -> str:
        return _GUARANTEES[self][1]

    @property
    def kind(self) -> Kind:
        return _GUARANTEES[self][2]


_GUARANTEES: dict[Guarantee, tuple[str, str, Kind]] = {
    Guarantee.TITLE: ("Clear title to the goods", "ACL s51", "goods"),
    Guarantee.UNDISTURBED_POSSESSION: ("Undisturbed possession", "ACL s52", "goods"),
    Guarantee.NO_UNDISCLOSED_SECURITIES: ("No undisclosed securities", "ACL s53", "goods"),
    Guarantee.ACCEPTABLE_QUALITY: (
        "Acceptable quality (safe, durable, free from defects, acceptable in appearance and "
        "finish)",
        "ACL s54",
        "goods",
    ),
    Guarantee.FIT_FOR_PURPOSE: ("Fit for any disclosed purpose", "ACL s55", "goods"),
    Guarantee.MATCH_DESCRIPTION: ("Match their description", "ACL s56", "goods"),
    Guarantee.MATCH_SAMPLE: ("Match the sample or demonstration model", "ACL s57", "goods"),
    Guarantee.REPAIRS_SPARE_PARTS: (
        "Repairs and spare parts available for a reasonable time",
        "ACL s58",
        "goods",
    ),
    Guarantee.EXPRESS_WARRANTY: ("Express warranties honoured", "ACL s59", "goods"),
    Guarantee.DUE_CARE_SKILL: ("Supplied with due care and skill", "ACL s60", "services"),
    Guarantee.FIT_FOR_PURPOSE_RESULT: (
        "Fit for a disclosed purpose or desired result",
        "ACL s61",
        "services",
    ),
    Guarantee.REASONABLE_TIME: (
        "Supplied within a reasonable time (when no time was agreed)",
        "ACL s62",
        "services",
    ),
}


@dataclass(frozen=True)
class ConsumerTest:
    is_consumer: bool
    reason: str
    threshold: Decimal


def consumer_threshold(purchase_date: date) -> Decimal:
    """ACL s3(1)(a)/(3)(a): $100,000 for purchases from 1 July 2021 (Treasury Laws Amendment
    (Acquisition as Consumer—Financial Thresholds) Regulations 2021), $40,000 before."""
    return (
        CONSUMER_THRESHOLD
        if purchase_date >= THRESHOLD_CHANGED_ON
        else (CONSUMER_THRESHOLD_BEFORE_2021)
    )


def is_consumer(
    price: Decimal,
    personal_household_use: bool,
    vehicle_for_goods_transport: bool,
    for_resale_or_production: bool,
    purchase_date: date,
    *,
    kind: Kind = "goods",
) -> ConsumerTest:
    """Whether the buyer acquired as a consumer under ACL s3: price at or under the threshold,
    or of a kind ordinarily acquired for personal, domestic or household use, or (goods) a
    vehicle or trailer mainly for transporting goods on public roads; but goods bought to resell
    or to use up or transform in production or repairs are excluded (s3(2)), an exclusion the
    Act makes for goods only."""
    price = money(price, "price")
    threshold = consumer_threshold(purchase_date)
    sub = "s3(1)" if kind == "goods" else "s3(3)"
    if kind == "goods" and for_resale_or_production:
        return ConsumerTest(
            False,
            "Bought to resell, or to use up or transform in production "
            "or repairs: not a consumer (ACL s3(2)).",
            threshold,
        )
    if price <= threshold:
        return ConsumerTest(
            True,
            f"The price of ${price:,.2f} is ${threshold:,.0f} or less (ACL {sub}(a)).",
            threshold,
        )
    if personal_household_use:
        return ConsumerTest(
            True,
            "Of a kind ordinarily acquired for personal, domestic or "
            f"household use, whatever the price (ACL {sub}(b)).",
            threshold,
        )
    if kind == "goods" and vehicle_for_goods_transport:
        return ConsumerTest(
            True,
            "A vehicle or trailer used mainly to transport goods on public roads (ACL s3(1)(c)).",
            threshold,
        )
    return ConsumerTest(
        False,
        f"Over ${threshold:,.0f} and not of a kind ordinarily acquired "
        "for personal, domestic or household use (ACL s3).",
        threshold,
    )


GOODS_MAJOR_FAILURE_QUESTIONS: dict[str, str] = {
    "would_not_have_bought": "Would a reasonable consumer fully aware of the failure not have "
    "bought the goods? (s260(a))",
    "significantly_different": "Are the goods significantly different from the description, "
    "sample or demonstration model? (s260(b), (c))",
    "unfit_normal_purpose": "Are they substantially unfit for their normal purpose and cannot "
    "easily be made fit within a reasonable time? (s260(d))",
    "unfit_disclosed_purpose": "Are they substantially unfit for a purpose the consumer made "
    "known and cannot easily be made fit within a reasonable time? (s260(d))",
    "unsafe": "Are the goods unsafe? (s260(e))",
}

SERVICES_MAJOR_FAILURE_QUESTIONS: dict[str, str] = {
    "would_not_have_acquired": "Would a reasonable consumer fully aware of the failure not have "
    "acquired the services? (s268(a))",
    "unfit_normal_purpose": "Are the services substantially unfit for the purpose such "
    "services are usually for, and cannot easily be remedied within a reasonable time? (s268(b))",
    "unfit_disclosed_purpose": "Are they substantially unfit for a purpose the consumer made "
    "known, and cannot easily be remedied within a reasonable time? (s268(c))",
    "desired_result_not_achieved": "Do they fail to achieve a result the consumer made known "
    "they wanted, and cannot easily be remedied within a reasonable time? (s268(d))",
    "unsafe_situation": "Did the services create an unsafe situation? (s268(e))",
}


@dataclass(frozen=True)
class MajorFailureTest:
    is_major: bool
    reasons: list[str]


def major_failure(kind: Kind, answers: Mapping[str, bool]) -> MajorFailureTest:
    """Major failure test for goods (ACL s260) or services (s268) from explicit yes/no answers:
    any "yes" makes it major. Every question must be answered, so a blank is never read as no."""
    questions = (
        GOODS_MAJOR_FAILURE_QUESTIONS if kind == "goods" else (SERVICES_MAJOR_FAILURE_QUESTIONS)
    )
    missing = [key for key in questions if key not in answers]
    unknown = [key for key in answers if key not in questions]
    if missing or unknown:
        raise ValueError(f"{kind} major-failure answers: missing {missing}, unknown {unknown}")
    for key, value in answers.items():
        if not isinstance(value, bool):
            raise TypeError(f"answer {key!r} must be True or False, got {value!r}")
    reasons = [questions[key] for key in questions if answers[key]]
    return MajorFailureTest(bool(reasons), reasons)


def remedies(kind: Kind, major: bool) -> list[str]:
    """Remedies by kind and severity: goods ACL s259 (major: s259(3), s262-263; minor: s259(2),
    s261), services s267 (major: s267(3), s269; minor: s267(2)); consequential loss s259(4) and
    s267(4)."""
    if kind == "goods" and major:
        result = [
            "The consumer chooses: reject the goods for a refund or a replacement, or keep them "
            "and get compensation for the drop in value (ACL s259(3), s263), within the "
            "rejection period (s262).",
        ]
    elif kind == "goods":
        result = [
            "The supplier chooses to repair, replace or refund, free of charge and within a "
            "reasonable time (ACL s259(2), s261).",
            "If the supplier refuses or takes too long, the consumer can have the goods fixed "
            "elsewhere and recover the reasonable cost, or reject them (ACL s259(2)(b)).",
        ]
    elif major:
        result = [
            "The consumer can cancel the contract and get a refund for the unused part (ACL "
            "s267(3)(a), s269), or keep it and get compensation for the reduced value "
            "(s267(3)(b)).",
        ]
    else:
        result = [
            "The supplier must fix the services within a reasonable time (ACL s267(2)(a)).",
            "If the supplier refuses or takes too long, the consumer can have them fixed "
            "elsewhere and recover the reasonable cost, or cancel and get a refund (s267(2)(b)).",
        ]
    section = "s259(4)" if kind == "goods" else "s267(4)"
    result.append(
        f"In every case: compensation for any other reasonably foreseeable loss or "
        f"damage (ACL {section})."
    )
    return result


@dataclass(frozen=True)
class Assessment:
    kind: Kind
    consumer: ConsumerTest
    failed_guarantees: tuple[Guarantee, ...]
    major: MajorFailureTest | None
    remedies: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        """Plain-text lines for a post-mortem record or a Slack message."""
        lines = [
            f"Consumer: {'yes' if self.consumer.is_consumer else 'no'}. {self.consumer.reason}"
        ]
        if not self.consumer.is_consumer:
            lines.append("The consumer guarantees do not apply; check the contract instead.")
            return lines
        if not self.failed_guarantees:
            lines.append("No consumer guarantee was failed, so no ACL remedy is owed.")
            return lines
        lines.append(
            "Guarantees failed: "
            + "; ".join(f"{g.label} ({g.section})" for g in self.failed_guarantees)
        )
        if self.major is None:  # not reachable through assess()
            return lines
        severity = "Major" if self.major.is_major else "Minor"
        section = "s260" if self.kind == "goods" else "s268"
        lines.append(f"{severity} failure (ACL {section}).")
        lines.extend(f"- {reason}" for reason in self.major.reasons)
        lines.append("Remedies:")
        lines.extend(f"- {remedy}" for remedy in self.remedies)
        return lines


def assess(
    kind: Kind,
    price: Decimal,
    purchase_date: date,
    failed_guarantees: Iterable[Guarantee],
    major_answers: Mapping[str, bool],
    *,
    personal_household_use: bool,
    vehicle_for_goods_transport: bool = False,
    for_resale_or_production: bool = False,
) -> Assessment:
    """Assess a complaint under the ACL: consumer status (s3), which guarantees failed (ss51-62),
    major or minor (s260 / s268) and the remedies (s259 / s267)."""
    failed = tuple(dict.fromkeys(failed_guarantees))
    wrong_kind = [g.value for g in failed if g.kind != kind]
    if wrong_kind:
        raise ValueError(f"not {kind} guarantees: {', '.join(wrong_kind)}")
    consumer = is_consumer(
        price,
        personal_household_use,
        vehicle_for_goods_transport,
        for_resale_or_production,
        purchase_date,
        kind=kind,
    )
    if not consumer.is_consumer or not failed:
        return Assessment(kind, consumer, failed, None, [])
    major = major_failure(kind, major_answers)
    return Assessment(kind, consumer, failed, major, remedies(kind, major.is_major))


_SEGMENT_SPLIT = re.compile(r"[.!?;\n]+")
_CHANGE_OF_MIND = re.compile(r"\bchang(?:e|ed|es|ing)\s+(?:of\s+|(?:your|their|my)\s+)mind")
_SALE_ITEMS = re.compile(
    r"\bno\s+(?:refunds?|returns?)\s+(?:on|for)\s+(?:sale|clearance|discounted|reduced)"
    r"(?:\s+(?:items?|goods|products?|stock))?"
)
_NO_REFUNDS = re.compile(
    r"\bno\s+refunds?\b|\bnon[- ]?refundable\b|\brefunds?\s+(?:are\s+|will\s+)?not\s+"
    r"(?:be\s+)?(?:given|available|offered|provided)\b"
)
_CREDIT_ONLY = re.compile(
    r"\b(?:exchanges?|credit\s+notes?|store\s+credit)(?:\s*(?:or|and|/|,)\s*"
    r"(?:exchanges?|credit\s+notes?|store\s+credit))*\s+only\b"
)


def unlawful_refund_wording(text: str) -> list[str]:
    """Phrases that tell consumers they have no right to a refund, which misleads them about
    the consumer guarantees (ACL s29(1)(m), s18; ACCC: "'No refund' signs are unlawful").
    "No refunds if you simply change your mind" is lawful, so a sentence about change of mind
    is let through."""
    findings: list[str] = []
    for raw in _SEGMENT_SPLIT.split(text):
        segment = " ".join(raw.lower().split())
        if not segment or _CHANGE_OF_MIND.search(segment):
            continue
        if match := _SALE_ITEMS.search(segment):
            findings.append(
                f'"{match.group(0)}": sale items keep the consumer guarantees; say '
                '"no refunds for change of mind on sale items" instead '
                "(ACL s29(1)(m))."
            )
        elif match := _NO_REFUNDS.search(segment):
            findings.append(
                f'"{match.group(0)}": consumers are entitled to a refund for a major '
                "failure; limit it to change of mind (ACL s29(1)(m), s259)."
            )
        if match := _CREDIT_ONLY.search(segment):
            findings.append(
                f'"{match.group(0)}": a consumer with a major failure can insist on '
                "a refund, not a credit note or exchange (ACL s29(1)(m), s259(3))."
            )
    return findings

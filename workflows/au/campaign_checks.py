"""Campaign compliance checklist for a marketing post-mortem, as data.

Sources: ACL (Competition and Consumer Act 2010, Sch 2) s18 (misleading conduct: overall
impression, no intent needed), s29(1)(i) and (m) (false price and rights representations), s32
(gifts and prizes), s35 (bait advertising), s48 (single price); ACCC "Two-price comparison
advertising" guide and "Advertising and selling guide".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workflows.au.acl import unlawful_refund_wording


@dataclass(frozen=True)
class Check:
    """One yes/no question; answering `False` means the campaign failed the check."""

    key: str
    title: str
    question: str
    help: str
    section: str
    action: str


@dataclass(frozen=True)
class Finding:
    check_key: str
    title: str
    detail: str
    suggested_action_item: str


REFUND_POLICY_TEXT = "refund_policy_text"

CHECKS: tuple[Check, ...] = (
    Check(
        key="two_price_genuine",
        title="Two-price claim not supported",
        question="Was every 'was', 'RRP' or strike-through price genuinely charged (or a genuine "
        "RRP) for a reasonable period immediately before the sale?",
        help="A 'was' price must be one you actually sold at for a reasonable period just "
        "before the promotion, not an inflated or one-off price.",
        section="ACL s18, s29(1)(i); ACCC two-price comparison advertising guide",
        action="Keep price history for every two-price claim and have someone check it "
        "before the next campaign goes live.",
    ),
    Check(
        key="single_total_price",
        title="Single total price missing or less prominent",
        question="Was a single total price (including GST and unavoidable fees) shown at least "
        "as prominently as any part of the price?",
        help="'From $9 a week' or '$99 + booking fee' needs the total you must pay, shown at "
        "least as prominently.",
        section="ACL s48",
        action="Add the single total price to every price display template and make it at "
        "least as prominent as any component price.",
    ),
    Check(
        key="reasonable_quantities",
        title="Advertised items not available in reasonable quantities",
        question="Were advertised items available in reasonable quantities for a reasonable "
        "period, given the price and the nature of the advertisement?",
        help="Running out early is bait advertising unless the ad said stock is limited "
        "(e.g. 'only 20 available').",
        section="ACL s35",
        action="Set stock levels with the campaign and state the quantity in the ad when "
        "stock is limited.",
    ),
    Check(
        key="gifts_rebates_delivered",
        title="Promised gift or rebate not provided",
        question="Were all promised gifts, bonuses and rebates provided as offered and within "
        "the time promised?",
        help="Offering a gift or rebate with no intention or ability to provide it as offered "
        "is prohibited.",
        section="ACL s32",
        action="Track every promised gift or rebate until delivered and contact customers who "
        "missed out.",
    ),
    Check(
        key="no_refund_wording_absent",
        title="'No refunds' style wording used",
        question="Was the campaign free of wording like 'no refunds', 'no refund on sale items' "
        "or 'exchange or credit note only'?",
        help="Saying consumers can't get a refund misleads them about the consumer guarantees; "
        "'no refunds for change of mind' is fine.",
        section="ACL s18, s29(1)(m)",
        action="Replace the wording with 'no refunds for change of mind' and add a check to "
        "the copy review.",
    ),
)

CHECKS_BY_KEY = {check.key: check for check in CHECKS}


def evaluate(answers: Mapping[str, bool | str]) -> list[Finding]:
    """Findings for the checks answered `False`, plus one for each unlawful phrase in the
    free-text refund policy (key `refund_policy_text`, checked with
    acl.unlawful_refund_wording; ACL s29(1)(m)). Unanswered checks produce nothing: see
    `unanswered`. Unknown keys raise, so a renamed check cannot silently pass."""
    unknown = set(answers) - set(CHECKS_BY_KEY) - {REFUND_POLICY_TEXT}
    if unknown:
        raise ValueError(f"unknown campaign checks: {', '.join(sorted(unknown))}")
    findings: list[Finding] = []
    for check in CHECKS:
        if check.key not in answers:
            continue
        answer = answers[check.key]
        if not isinstance(answer, bool):
            raise TypeError(f"{check.key} needs True or False, got {answer!r}")
        if not answer:
            findings.append(
                Finding(
                    check.key,
                    check.title,
                    f"{check.question} Answer: no. ({check.section})",
                    check.action,
                )
            )
    policy = answers.get(REFUND_POLICY_TEXT, "")
    if not isinstance(policy, str):
        raise TypeError(f"{REFUND_POLICY_TEXT} must be text, got {policy!r}")
    refund_check = CHECKS_BY_KEY["no_refund_wording_absent"]
    findings.extend(
        Finding(refund_check.key, refund_check.title, problem, refund_check.action)
        for problem in unlawful_refund_wording(policy)
    )
    return findings


def unanswered(answers: Mapping[str, bool | str]) -> list[str]:
    """Keys of checks still without a yes/no answer, so a form can ask for them."""
    return [check.key for check in CHECKS if check.key not in answers]

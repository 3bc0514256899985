from datetime import date
from decimal import Decimal as D

import pytest

from workflows.au.acl import (
    GOODS_MAJOR_FAILURE_QUESTIONS,
    SERVICES_MAJOR_FAILURE_QUESTIONS,
    Guarantee,
    assess,
    is_consumer,
    major_failure,
    unlawful_refund_wording,
)


@pytest.mark.parametrize(
    ("guarantee", "section", "kind"),
    [
        (Guarantee.TITLE, "ACL s51", "goods"),
        (Guarantee.UNDISTURBED_POSSESSION, "ACL s52", "goods"),
        (Guarantee.NO_UNDISCLOSED_SECURITIES, "ACL s53", "goods"),
        (Guarantee.ACCEPTABLE_QUALITY, "ACL s54", "goods"),
        (Guarantee.FIT_FOR_PURPOSE, "ACL s55", "goods"),
        (Guarantee.MATCH_DESCRIPTION, "ACL s56", "goods"),
        (Guarantee.MATCH_SAMPLE, "ACL s57", "goods"),
        (Guarantee.REPAIRS_SPARE_PARTS, "ACL s58", "goods"),
        (Guarantee.EXPRESS_WARRANTY, "ACL s59", "goods"),
        (Guarantee.DUE_CARE_SKILL, "ACL s60", "services"),
        (Guarantee.FIT_FOR_PURPOSE_RESULT, "ACL s61", "services"),
        (Guarantee.REASONABLE_TIME, "ACL s62", "services"),
    ],
)
def test_guarantee_sections(guarantee: Guarantee, section: str, kind: str) -> None:
    assert guarantee.section == section
    assert guarantee.kind == kind
    assert guarantee.label


@pytest.mark.parametrize(
    ("price", "personal", "vehicle", "resale", "bought", "kind", "consumer", "cites"),
    [
        (D("100000"), False, False, False, date(2021, 7, 1), "goods", True, "s3(1)(a)"),
        (D("100000.01"), False, False, False, date(2021, 7, 1), "goods", False, "s3"),
        (D("40000"), False, False, False, date(2021, 6, 30), "goods", True, "s3(1)(a)"),
        (D("40000.01"), False, False, False, date(2021, 6, 30), "goods", False, "s3"),
        (D("60000"), False, False, False, date(2021, 6, 30), "goods", False, "s3"),
        (D("60000"), False, False, False, date(2022, 1, 1), "goods", True, "s3(1)(a)"),
        (D("250000"), True, False, False, date(2024, 1, 1), "goods", True, "s3(1)(b)"),
        (D("250000"), False, True, False, date(2024, 1, 1), "goods", True, "s3(1)(c)"),
        (D("500"), True, False, True, date(2024, 1, 1), "goods", False, "s3(2)"),
        # the resale exclusion is for goods; services use s3(3)
        (D("500"), False, False, True, date(2024, 1, 1), "services", True, "s3(3)(a)"),
        (D("250000"), True, False, False, date(2024, 1, 1), "services", True, "s3(3)(b)"),
    ],
)
def test_is_consumer(price, personal, vehicle, resale, bought, kind, consumer, cites) -> None:
    result = is_consumer(price, personal, vehicle, resale, bought, kind=kind)
    assert result.is_consumer is consumer
    assert f"ACL {cites}" in result.reason
    assert result.threshold == (D("100000") if bought >= date(2021, 7, 1) else D("40000"))


def no_to_all(questions: dict[str, str]) -> dict[str, bool]:
    return dict.fromkeys(questions, False)


@pytest.mark.parametrize(
    ("kind", "yes", "major"),
    [
        ("goods", None, False),
        *[("goods", key, True) for key in GOODS_MAJOR_FAILURE_QUESTIONS],
        ("services", None, False),
        *[("services", key, True) for key in SERVICES_MAJOR_FAILURE_QUESTIONS],
    ],
)
def test_major_failure_any_yes(kind: str, yes: str | None, major: bool) -> None:
    questions = (
        GOODS_MAJOR_FAILURE_QUESTIONS if kind == "goods" else (SERVICES_MAJOR_FAILURE_QUESTIONS)
    )
    answers = no_to_all(questions)
    if yes:
        answers[yes] = True
    result = major_failure(kind, answers)
    assert result.is_major is major
    assert result.reasons == ([questions[yes]] if yes else [])


def test_major_failure_needs_every_answer() -> None:
    answers = no_to_all(GOODS_MAJOR_FAILURE_QUESTIONS)
    del answers["unsafe"]
    with pytest.raises(ValueError, match="missing \\['unsafe'\\]"):
        major_failure("goods", answers)
    with pytest.raises(TypeError):
        major_failure("goods", {**no_to_all(GOODS_MAJOR_FAILURE_QUESTIONS), "unsafe": "yes"})


BOUGHT = date(2025, 5, 1)


@pytest.mark.parametrize(
    ("kind", "failed", "yes", "expected"),
    [
        (
            "goods",
            [Guarantee.ACCEPTABLE_QUALITY],
            "unsafe",
            [
                "reject the goods for a refund or a replacement",
                "drop in value",
                "s259(3)",
                "reasonably foreseeable loss",
                "s259(4)",
            ],
        ),
        (
            "goods",
            [Guarantee.ACCEPTABLE_QUALITY],
            None,
            [
                "supplier chooses to repair, replace or refund",
                "s261",
                "have the goods fixed elsewhere",
                "reasonably foreseeable loss",
            ],
        ),
        (
            "services",
            [Guarantee.DUE_CARE_SKILL],
            "unsafe_situation",
            [
                "cancel the contract and get a refund for the unused part",
                "reduced value",
                "s267(3)",
                "s267(4)",
            ],
        ),
        (
            "services",
            [Guarantee.REASONABLE_TIME],
            None,
            [
                "fix the services within a reasonable time",
                "s267(2)",
                "cancel",
                "reasonably foreseeable loss",
            ],
        ),
    ],
)
def test_assess_remedies(kind, failed, yes, expected) -> None:
    questions = (
        GOODS_MAJOR_FAILURE_QUESTIONS if kind == "goods" else (SERVICES_MAJOR_FAILURE_QUESTIONS)
    )
    answers = no_to_all(questions)
    if yes:
        answers[yes] = True
    result = assess(kind, D("899.00"), BOUGHT, failed, answers, personal_household_use=True)
    assert result.consumer.is_consumer
    assert result.major is not None and result.major.is_major is bool(yes)
    joined = " ".join(result.remedies)
    for phrase in expected:
        assert phrase in joined
    summary = "\n".join(result.summary_lines())
    assert summary.startswith("Consumer: yes.")
    assert ("Major failure" if yes else "Minor failure") in summary
    assert failed[0].section in summary


def test_assess_not_a_consumer_gets_no_remedy() -> None:
    result = assess(
        "goods",
        D("150000"),
        BOUGHT,
        [Guarantee.ACCEPTABLE_QUALITY],
        no_to_all(GOODS_MAJOR_FAILURE_QUESTIONS),
        personal_household_use=False,
    )
    assert not result.consumer.is_consumer
    assert result.remedies == []
    assert result.summary_lines()[1] == (
        "The consumer guarantees do not apply; check the contract instead."
    )


def test_assess_no_failed_guarantee() -> None:
    result = assess("goods", D("50"), BOUGHT, [], {}, personal_household_use=True)
    assert result.major is None
    assert result.summary_lines()[-1] == (
        "No consumer guarantee was failed, so no ACL remedy is owed."
    )


def test_assess_refuses_guarantee_of_the_other_kind() -> None:
    with pytest.raises(ValueError, match="not goods guarantees: due_care_skill"):
        assess(
            "goods",
            D("50"),
            BOUGHT,
            [Guarantee.DUE_CARE_SKILL],
            no_to_all(GOODS_MAJOR_FAILURE_QUESTIONS),
            personal_household_use=True,
        )


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("No refunds.", ["no refunds"]),
        ("NO REFUND", ["no refund"]),
        ("No refund on sale items", ["no refund on sale items"]),
        ("Clearance: no returns on clearance goods!", ["no returns on clearance goods"]),
        ("Exchange or credit note only", ["exchange or credit note only"]),
        ("Store credit only.", ["store credit only"]),
        ("Tickets are non-refundable.", ["non-refundable"]),
        ("Refunds will not be given after 7 days.", ["refunds will not be given"]),
        ("No refunds. Exchange only.", ["no refunds", "exchange only"]),
        ("No refunds if you simply change your mind.", []),
        ("Change of mind: no refunds on sale items", []),
        ("We do not offer refunds or exchanges for change of mind.", []),
        ("No refunds for change of mind; faulty goods will be refunded.", []),
        ("Sale items: no refunds for change of mind. Everything else: no refunds!", ["no refunds"]),
        ("We're happy to refund faulty goods.", []),
        ("", []),
    ],
)
def test_unlawful_refund_wording(text: str, flagged: list[str]) -> None:
    found = unlawful_refund_wording(text)
    assert [message.split('"')[1] for message in found] == flagged
    assert all("ACL s29(1)(m)" in message for message in found)

import pytest

from workflows.au.campaign_checks import CHECKS, evaluate, unanswered

ALL_PASS = {check.key: True for check in CHECKS}


def test_checks_cite_sections() -> None:
    sections = {check.key: check.section for check in CHECKS}
    assert sections == {
        "two_price_genuine": "ACL s18, s29(1)(i); ACCC two-price comparison advertising guide",
        "single_total_price": "ACL s48",
        "reasonable_quantities": "ACL s35",
        "gifts_rebates_delivered": "ACL s32",
        "no_refund_wording_absent": "ACL s18, s29(1)(m)",
    }
    assert all(check.question.endswith("?") and check.help and check.action for check in CHECKS)


def test_all_passing_gives_no_findings() -> None:
    assert evaluate({**ALL_PASS, "refund_policy_text": "No refunds for change of mind."}) == []


@pytest.mark.parametrize("key", [check.key for check in CHECKS])
def test_each_failed_check_becomes_a_finding(key: str) -> None:
    findings = evaluate({**ALL_PASS, key: False})
    assert [finding.check_key for finding in findings] == [key]
    check = next(c for c in CHECKS if c.key == key)
    assert findings[0].title == check.title
    assert check.section in findings[0].detail
    assert findings[0].suggested_action_item == check.action


def test_refund_policy_text_is_checked() -> None:
    findings = evaluate(
        {**ALL_PASS, "refund_policy_text": "Sale items: exchange or credit note only. No refunds."}
    )
    assert [f.check_key for f in findings] == ["no_refund_wording_absent"] * 2
    assert '"exchange or credit note only"' in findings[0].detail
    assert '"no refunds"' in findings[1].detail


def test_unanswered_checks_are_reported_not_failed() -> None:
    assert evaluate({}) == []
    assert unanswered({"single_total_price": True}) == [
        "two_price_genuine",
        "reasonable_quantities",
        "gifts_rebates_delivered",
        "no_refund_wording_absent",
    ]


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ({"two_price": False}, ValueError),
        ({"single_total_price": "no"}, TypeError),
        ({"refund_policy_text": False}, TypeError),
    ],
)
def test_bad_answers_are_refused(answers: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        evaluate(answers)

import pytest

from workflows.au import abn


@pytest.mark.parametrize(
    ("text", "formatted"),
    [
        ("51 824 753 556", "51 824 753 556"),
        ("51824753556", "51 824 753 556"),
        ("11 223 491 505", "11 223 491 505"),
        (" 11223 491505 ", "11 223 491 505"),
    ],
)
def test_valid(text: str, formatted: str) -> None:
    assert abn.is_valid(text)
    assert abn.validation_error(text) is None
    assert abn.format(text) == formatted
    assert abn.normalise(text) == formatted.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("11 223 493 504", "This ABN fails the ATO check-digit test: check for a typo."),
        ("51 824 753 557", "This ABN fails the ATO check-digit test: check for a typo."),
        ("51 824 753", "An ABN has 11 digits; this has 8."),
        ("123 456 789", "An ABN has 11 digits; this has 9."),
        ("51 824 753 5566", "An ABN has 11 digits; this has 12."),
        ("51-824-753-556", "An ABN has only digits and spaces."),
        ("", "Enter an ABN: 11 digits."),
    ],
)
def test_invalid(text: str, message: str) -> None:
    assert not abn.is_valid(text)
    assert abn.validation_error(text) == message
    with pytest.raises(ValueError, match=message.split(":")[0]):
        abn.format(text)
    with pytest.raises(ValueError):
        abn.normalise(text)

import pytest

from workflows.au.warranty import warranty_text

# Competition and Consumer Regulations 2010 reg 90, typed in independently of the templates so a
# stray edit to either one fails this test.
GOODS = (
    "Our goods come with guarantees that cannot be excluded under the Australian Consumer Law. "
    "You are entitled to a replacement or refund for a major failure and compensation for any "
    "other reasonably foreseeable loss or damage. You are also entitled to have the goods "
    "repaired or replaced if the goods fail to be of acceptable quality and the failure does "
    "not amount to a major failure."
)
SERVICES = (
    "Our services come with guarantees that cannot be excluded under the Australian Consumer "
    "Law. For major failures with the service, you are entitled:\n"
    "• to cancel your service contract with us; and\n"
    "• to a refund for the unused portion, or to compensation for its reduced value.\n"
    "You are also entitled to be compensated for any other reasonably foreseeable loss or "
    "damage. If the failure does not amount to a major failure you are entitled to have "
    "problems with the service rectified in a reasonable time and, if this is not done, to "
    "cancel your contract and obtain a refund for the unused portion of the contract."
)


@pytest.mark.parametrize(("kind", "text"), [("goods", GOODS), ("services", SERVICES)])
def test_statutory_text_is_exact(kind: str, text: str) -> None:
    assert warranty_text(kind) == text


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="goods' or 'services"):
        warranty_text("both")  # type: ignore[arg-type]

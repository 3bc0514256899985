"""Australian Business Number checks.

Source: ATO, "Format of the ABN" (software developers page): 11 digits, shown as XX XXX XXX XXX;
subtract 1 from the first digit, weight the digits by 10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, add,
and the sum is divisible by 89. A tax invoice needs the seller's ABN (GST Act s29-70(1)(c)(ii);
GSTR 2013/1), so a typo should be caught in the form, not by the customer's accountant.
"""

from __future__ import annotations

WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)


def _strip(text: str) -> str:
    return "".join(text.split())


def validation_error(text: str) -> str | None:
    """A message for the person typing the ABN (e.g. in a Slack modal), or None when valid.

    Applies the ATO "Format of the ABN" check-digit algorithm (see module docstring).
    """
    digits = _strip(text)
    if not digits:
        return "Enter an ABN: 11 digits."
    if not (digits.isascii() and digits.isdigit()):
        return "An ABN has only digits and spaces."
    if len(digits) != 11:
        return f"An ABN has 11 digits; this has {len(digits)}."
    values = [int(d) for d in digits]
    values[0] -= 1
    if sum(w * v for w, v in zip(WEIGHTS, values, strict=True)) % 89:
        return "This ABN fails the ATO check-digit test: check for a typo."
    return None


def is_valid(text: str) -> bool:
    """True for a well-formed ABN passing the ATO modulus-89 check ("Format of the ABN")."""
    return validation_error(text) is None


def normalise(text: str) -> str:
    """The ABN as 11 digits with spaces removed, for storage and comparison (ATO "Format of the
    ABN": spaces are presentation only). Raises ValueError for anything that is not an ABN."""
    problem = validation_error(text)
    if problem:
        raise ValueError(problem)
    return _strip(text)


def format(text: str) -> str:  # noqa: A001 - public API name
    """`51 824 753 556`: the 2-3-3-3 grouping the ATO and ABN Lookup use ("Format of the ABN").
    Raises ValueError for an invalid ABN rather than display a wrong number on a tax invoice."""
    d = normalise(text)
    return f"{d[:2]} {d[2:5]} {d[5:8]} {d[8:]}"

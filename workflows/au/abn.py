"""Australian Business Number checks.

Source: ATO, "Format of the ABN" (software developers): 11 digits; subtract 1 from the first digit,
weight the digits by 10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, and the sum is divisible by 89.
"""

from __future__ import annotations

import builtins

WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)


def normalise(text: str) -> str:
    """Digits only: people paste ABNs with spaces."""
    return "".join(ch for ch in text if not ch.isspace())


def validation_error(text: str) -> str | None:
    """A message for the person typing it, or None when the ABN is valid."""
    digits = normalise(text)
    if not digits.isdigit():
        return "An ABN has only digits and spaces."
    if len(digits) != 11:
        return f"An ABN has 11 digits; this has {len(digits)}."
    values = [int(d) for d in digits]
    values[0] -= 1
    if sum(w * v for w, v in zip(WEIGHTS, values, strict=True)) % 89:
        return "This ABN fails the ATO check-digit test: check for a typo."
    return None


def is_valid(text: str) -> bool:
    return validation_error(text) is None


def format(text: str) -> builtins.str:  # noqa: A001 - the public API name asked for
    """`51 824 753 556`: the way the ABN Lookup shows it."""
    problem = validation_error(text)
    if problem:
        raise ValueError(problem)
    d = normalise(text)
    return f"{d[:2]} {d[2:5]} {d[5:8]} {d[8:]}"

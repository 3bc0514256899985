"""Jinja2 environment for the workflows package's own templates (workflows/templates/).

Templates are loaded from the installed package (pyproject package-data `templates/*.j2`), the
only I/O the pure domain does.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def escape_markdown(text: object) -> str:
    """Escape Markdown-significant characters in user text so that a `|` in a description cannot
    split a table cell and `*`/`_` cannot restyle an invoice; newlines become spaces."""
    flat = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def format_aud(amount: Decimal) -> str:
    """`$1,234.50`, `-$3.00`: Australian dollars to the cent."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def format_quantity(quantity: Decimal) -> str:
    """`2`, `1.5`, `100`: no trailing zeros, never exponent notation."""
    return f"{quantity.normalize():f}"


def format_date(day: date) -> str:
    """`3 March 2026`: unambiguous for Australian and overseas readers alike."""
    return f"{day.day} {day:%B %Y}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Autoescape is off because the output is Markdown or plain text, not HTML; user text in
    Markdown goes through the `md` filter instead."""
    env = Environment(
        loader=PackageLoader("workflows", "templates"),
        autoescape=False,  # noqa: S701 - Markdown/plain text output, escaped with the md filter
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = escape_markdown
    env.filters["aud"] = format_aud
    env.filters["qty"] = format_quantity
    env.filters["longdate"] = format_date
    return env


def render(name: str, **context: object) -> str:
    """Render workflows/templates/<name> with the shared filters."""
    return environment().get_template(name).render(**context)

"""The end-to-end fixtures (`slack`, `bot`, `bot_with`), shared with tests/e2e."""

from __future__ import annotations

from e2e.conftest import (  # noqa: F401 - fixtures shared with the end-to-end tests
    _no_failed_slack_calls,
    bot,
    bot_with,
    slack,
)

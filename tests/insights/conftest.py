"""The end-to-end fixtures (`slack`, `bot`) for the insights tests."""

from e2e.conftest import _no_failed_slack_calls, bot, bot_with, slack  # noqa: F401

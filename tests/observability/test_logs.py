"""JSON logs: one object a line, the request's workspace and id (in listener threads too), and
no token or secret, whoever logs it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from bot.config import ConfigError, log_format, secret_values
from bot.observability import logs

SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"  # noqa: S105 - a test value
BOT_TOKEN = "xoxb-1234-5678-AbCdEfGhIjKl"  # noqa: S105
APP_TOKEN = "xapp-1-A0123-456-deadbeef"  # noqa: S105
USER_TOKEN = "xoxp-99-88-77-zyx"  # noqa: S105


@contextmanager
def bare_root_logger() -> Iterator[logging.Logger]:
    """The root logger as a program starts with it: no handlers (pytest's are put back after;
    it adds them again for each phase of a test, so this is used inside the test itself)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    root.handlers[:] = []
    try:
        yield root
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def bare_root() -> Iterator[logging.Logger]:
    with bare_root_logger() as root:
        yield root


@pytest.fixture
def json_logs(
    bare_root: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[[], list[dict]]]:
    """The bot's JSON handler on the root logger; yields a function returning the lines."""
    assert logs.configure("json", logging.INFO, [SIGNING_SECRET, "short"]) is not None
    capsys.readouterr()

    def lines() -> list[dict]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    yield lines


def test_each_line_is_json_with_the_request_and_no_token(json_logs) -> None:
    log = logging.getLogger("some.library")
    with logs.request_scope(request="0123456789abcdef", team="T0TEAM"):
        log.info("calling Slack with %s and secret %s", BOT_TOKEN, SIGNING_SECRET)
        try:
            raise RuntimeError(f"refused {APP_TOKEN}\nheaders: Bearer {USER_TOKEN}")
        except RuntimeError:
            log.exception("it failed")
        with logs.ContextThreadPool(max_workers=1) as pool:  # as Bolt runs listeners
            pool.submit(log.warning, "in a listener thread").result()
    log.info("outside any request")

    first, failed, listener, outside = json_logs()
    assert first["message"] == "calling Slack with [redacted] and secret [redacted]"
    assert (first["level"], first["logger"]) == ("INFO", "some.library")
    assert first["timestamp"].endswith("+00:00")
    assert (first["team_id"], first["request_id"]) == ("T0TEAM", "0123456789abcdef")
    assert failed["message"] == "it failed"
    assert "RuntimeError: refused [redacted]" in failed["exception"]
    assert "Bearer [redacted]" in failed["exception"] and "Traceback" in failed["exception"]
    assert (listener["team_id"], listener["request_id"]) == ("T0TEAM", "0123456789abcdef")
    assert listener["thread"] != first["thread"]
    assert (outside["team_id"], outside["request_id"]) == (None, None)
    everything = json.dumps([first, failed, listener, outside])
    for secret in (BOT_TOKEN, APP_TOKEN, USER_TOKEN, SIGNING_SECRET):
        assert secret not in everything


def test_a_short_value_is_not_taken_for_a_secret(json_logs) -> None:
    logging.getLogger("x").warning("a short word")
    assert json_logs()[0]["message"] == "a short word"


def test_the_format_and_the_secrets_come_from_the_environment() -> None:
    assert log_format({}) == "text"
    assert log_format({"POSTMORTEM_LOG_FORMAT": " JSON "}) == "json"
    with pytest.raises(ConfigError, match="POSTMORTEM_LOG_FORMAT must be text or json"):
        log_format({"POSTMORTEM_LOG_FORMAT": "xml"})
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_CLIENT_SECRET": "client-secret-0123",
        "JIRA_API_TOKEN": "jira-token-0123",
        "POSTMORTEM_TIMEZONE": "Australia/Sydney",
        "DATABASE_URL": "postgresql://bot:db-password-0123@db/pm",
    }
    assert sorted(secret_values(env)) == sorted(
        [BOT_TOKEN, SIGNING_SECRET, "client-secret-0123", "jira-token-0123", "db-password-0123"]
    )


def test_the_cli_sets_up_json_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from bot.cli.main import main

    monkeypatch.setenv("POSTMORTEM_LOG_FORMAT", "json")
    with bare_root_logger() as root:
        for _ in range(2):  # a second run replaces the handler, never adds one
            assert CliRunner().invoke(main, ["workflows", "list"]).exit_code == 0
        assert len(root.handlers) == 1
        assert isinstance(root.handlers[0].formatter, logs.JsonFormatter)
        assert root.level == logging.WARNING
    monkeypatch.setenv("POSTMORTEM_LOG_FORMAT", "yaml")
    result = CliRunner().invoke(main, ["workflows", "list"])
    assert result.exit_code == 2 and "POSTMORTEM_LOG_FORMAT" in result.output


def test_logging_someone_else_set_up_is_left_alone() -> None:
    with bare_root_logger() as root:
        theirs = logging.NullHandler()
        root.addHandler(theirs)
        assert logs.configure("json", logging.INFO) is None
        assert root.handlers == [theirs]

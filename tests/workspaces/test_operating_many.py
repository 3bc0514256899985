"""Operating a bot installed in two workspaces: the figures, the log lines and the CLI's errors
name what an operator needs (each workspace's Slack calls counted, its team id on job and
delivery lines, the setting to set when a command needs one workspace)."""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner
from helpers.oauth import (
    ALICE,
    CHANNEL_ONE,
    CHANNEL_TWO,
    CLIENT_ID,
    DANA,
    ONE,
    TWO,
    install,
    start_review,
)
from helpers.oauth import command as slash
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from bot import scheduler
from bot.cli.main import main
from bot.delivery.service import deliver_due
from bot.features import Job
from bot.observability import logs
from bot.runtime import Runtime
from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot
from storage import outbox
from storage.db import transaction

Figures = dict[tuple[str, tuple[tuple[str, str], ...]], float]
CALLS = "postmortem_slack_api_calls_total"


def scrape(url: str) -> Figures:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a local URL
        assert response.status == 200
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def moved(before: Figures, after: Figures, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def _installed(slack: FakeSlack, oauth_bot: Callable[..., Bot]) -> Bot:
    bot = oauth_bot()
    install(slack, bot, ONE, ALICE)
    with slack.in_team(TWO):
        install(slack, bot, TWO, DANA)
    return bot


def test_metrics_count_each_workspaces_requests_and_slack_calls(
    slack: FakeSlack, oauth_bot: Callable[..., Bot]
) -> None:
    bot = _installed(slack, oauth_bot)
    url = bot.url.replace("/slack/events", "/metrics")
    before = scrape(url)
    assert "Black" not in slash(slack, ALICE, CHANNEL_ONE, "list")
    with slack.in_team(TWO):
        slash(slack, DANA, CHANNEL_TWO, "list")
    bot.settle()
    after = scrape(url)
    assert moved(before, after, "postmortem_ack_seconds_count", kind="command") == 2
    # A listener's calls go out with the request's workspace token (Bolt's per-request client).
    before = scrape(url)
    start_review(slack, ALICE, CHANNEL_ONE, "Black Friday email went out twice")
    with slack.in_team(TWO):
        start_review(slack, DANA, CHANNEL_TWO, "Click and collect lockers jammed")
    bot.settle()
    after = scrape(url)
    assert moved(before, after, CALLS, method="views.open", outcome="ok") == 2
    assert moved(before, after, CALLS, method="chat.postMessage", outcome="ok") >= 2
    assert moved(before, after, "postmortem_ack_seconds_count", kind="view_submission") == 2
    # Calls made with each workspace's own token (jobs' and effects' clients) are counted.
    for team, channel in ((ONE, CHANNEL_ONE), (TWO, CHANNEL_TWO)):
        before = scrape(url)
        team_rt = bot.rt.for_team(team)
        team_rt.client.chat_postMessage(channel=channel, text=f"hello {team}")
        team_rt.sender.client.chat_postMessage(channel=channel, text=f"bulk hello {team}")
        team_rt.paced().client.auth_test()
        after = scrape(url)
        assert moved(before, after, CALLS, method="chat.postMessage", outcome="ok") == 2, team
        assert moved(before, after, CALLS, method="auth.test", outcome="ok") == 1, team


class Lines(logging.Handler):
    """The JSON lines the bot's own handler would write (context added, then formatted)."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(logs.WithContext())
        self.setFormatter(logs.JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def test_job_and_delivery_lines_carry_the_workspaces_team_id(
    slack: FakeSlack, oauth_bot: Callable[..., Bot], lines: Lines
) -> None:
    bot = _installed(slack, oauth_bot)

    def job(rt: Runtime) -> None:
        raise RuntimeError(f"probe of {rt.team}")

    scheduler._run(Job("probe", job, 60), bot.rt)
    failed = {
        line["team_id"]: line for line in lines.lines if "scheduled job probe" in line["message"]
    }
    assert failed.keys() == {ONE, TWO}
    assert f"probe of {TWO}" in failed[TWO]["exception"]

    with transaction(bot.rt.for_team(TWO).sessions) as session:  # a kind no handler knows
        outbox.enqueue(session, "retired.kind", {})
    deliver_due(bot.rt, {})
    gave_up = [line for line in lines.lines if "retired.kind" in line["message"]]
    assert gave_up and {line["team_id"] for line in gave_up} == {TWO}


@pytest.fixture
def oauth_env(engine: Engine, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": "unused-here",
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("POSTMORTEM_TEAM_ID", raising=False)


@pytest.mark.parametrize(
    "args",
    [["digest", "--dry-run"], ["safety", "export"], ["trackers", "github-login", "U0ALICE", "al"]],
)
def test_a_one_workspace_command_without_a_team_says_which_setting_to_set(
    slack: FakeSlack, oauth_bot: Callable[..., Bot], oauth_env: None, args: list[str]
) -> None:
    _installed(slack, oauth_bot)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "POSTMORTEM_TEAM_ID" in result.output
    assert ONE in result.output and TWO in result.output


def test_a_one_workspace_command_runs_for_the_team_named(
    slack: FakeSlack, oauth_bot: Callable[..., Bot], oauth_env: None, monkeypatch
) -> None:
    _installed(slack, oauth_bot)
    monkeypatch.setenv("POSTMORTEM_TEAM_ID", TWO)
    exported = CliRunner().invoke(main, ["safety", "export"])
    assert exported.exit_code == 0, exported.output
    assert exported.output.startswith("id,")


def test_the_worker_serves_its_own_metrics_and_health(slack: FakeSlack, tmp_path) -> None:
    """`worker --metrics-port`: /healthz, and the outbox figures as this worker moves them."""
    from helpers import processes

    from storage.db import make_engine, session_factory

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    env = processes.bot_env(slack, url)
    migrated = processes.run_cli(["db", "upgrade"], env, tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:  # refused for good once tried
        outbox.enqueue(session, "retired.kind", {})
    engine.dispose()
    port = processes.free_port()
    args = ["worker", "--host", "127.0.0.1", "--metrics-port", str(port)]
    worker = processes.BotProcess("worker", args, env, tmp_path, port=port).start()
    try:
        worker.wait_ready()  # GET /healthz answered 200
        failed = ("postmortem_outbox_effects", (("state", "failed"),))
        deadline = time.monotonic() + 30
        while scrape(f"{worker.url}/metrics").get(failed) != 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        figures = scrape(f"{worker.url}/metrics")
        assert figures.get(failed) == 1, worker.tail()
        assert figures[("postmortem_outbox_effects", (("state", "pending"),))] == 0
    finally:
        worker.stop()


def test_the_worker_refuses_a_metrics_port_in_use(slack: FakeSlack, tmp_path) -> None:
    from helpers import processes

    env = processes.bot_env(slack, f"sqlite:///{tmp_path / 'bot.db'}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = processes.run_cli(
            ["worker", "--host", "127.0.0.1", "--metrics-port", port], env, tmp_path
        )
    assert result.returncode == 2, result.stderr
    assert "--metrics-port" in result.stderr and "Traceback" not in result.stderr

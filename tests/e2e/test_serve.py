"""`postmortem-bot serve` starts a production HTTP server that Slack can talk to."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sandbox.fake_slack import FakeSlack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path, slack: FakeSlack):
    port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": slack.bot_token,
           "SLACK_SIGNING_SECRET": slack.signing_secret, "SLACK_API_URL": slack.api_url,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"}
    env.pop("SLACK_APP_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as r:  # noqa: S310
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"serve did not start: {proc.communicate()[0]}")
    slack.request_url = f"{url}/slack/events"
    yield url, tmp_path, proc
    proc.terminate()
    output = proc.communicate(timeout=15)[0]
    assert slack.bot_token not in output and slack.signing_secret not in output


def test_serve_answers_health_checks_and_slack(served, slack: FakeSlack) -> None:
    url, workdir, proc = served
    assert (workdir / "bot.db").exists()  # the embedded default migrates itself
    with urllib.request.urlopen(f"{url}/healthz") as r:  # noqa: S310
        assert r.read() == b"ok\n"
    reply = slack.slash_command("U0ALICE", "C0REVIEWS", "/postmortem", "start campaign Launch")
    assert reply.status == 200
    view = slack.wait_for(lambda: slack.top_view("U0ALICE"), timeout=10)
    assert view["callback_id"] == "start_review"
    assert slack.slash_command("U0ALICE", "C0REVIEWS", "/postmortem", "help",
                               forged=True).status == 401

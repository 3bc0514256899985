"""`serve` on PostgreSQL: requests in processes of their own, the background in another.

A Python process runs one thread at a time, so on PostgreSQL `serve` answers Slack in
WEB_CONCURRENCY processes (2 by default) and runs the scheduled jobs and the outbox's delivery
in one background process (bot/background.py), which gunicorn's arbiter keeps running. These
tests run the real `serve` and look at it from outside: its processes, what reaches Slack, and
what `/metrics` adds up.
"""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import processes
from helpers.slack_walk import ALICE, CHANNEL, submit_start_form
from sqlalchemy import Engine

from sandbox.fake_slack import FakeSlack


@pytest.fixture
def served(slack: FakeSlack, pg_engine: Engine, tmp_path: Path) -> Iterator[processes.BotProcess]:
    env = processes.bot_env(slack, pg_engine.url.render_as_string(hide_password=False))
    env.pop("WEB_CONCURRENCY", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    bot = processes.serve("serve", env, tmp_path).start().wait_ready()
    slack.request_url = f"{bot.url}/slack/events"
    yield bot
    bot.stop()


def children(pid: int) -> dict[int, str]:
    """The process's children: pid -> command line."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except FileNotFoundError:
            continue  # gone meanwhile
        found[int(child)] = cmdline.decode()
    return found


def background_pid(bot: processes.BotProcess, timeout: float = 20) -> int:
    assert bot.proc is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [pid for pid, cmd in children(bot.proc.pid).items() if " worker --jobs" in cmd]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no background process under serve:\n{bot.tail()}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return status != "Z"  # a zombie waits only for its parent to read its exit


def status_posted(slack: FakeSlack, title: str, timeout: float = 15) -> dict:
    return slack.wait_for(
        lambda: next((m for m in slack.messages(CHANNEL) if title in m.get("text", "")), None),
        timeout=timeout,
    )


def metrics(bot: processes.BotProcess) -> str:
    with urllib.request.urlopen(f"{bot.url}/metrics", timeout=5) as reply:  # noqa: S310
        return reply.read().decode()


def test_two_request_processes_and_one_background_process_that_is_kept_running(
    served: processes.BotProcess, slack: FakeSlack
) -> None:
    assert served.proc is not None
    first = background_pid(served)
    workers = [pid for pid, cmd in children(served.proc.pid).items() if pid != first]
    assert len(workers) == 2, children(served.proc.pid)
    # On a busy machine the requests get the CPUs first (it lowers its priority as it starts).
    requests = max(os.getpriority(os.PRIO_PROCESS, w) for w in workers)
    deadline = time.monotonic() + 10
    while os.getpriority(os.PRIO_PROCESS, first) <= requests and time.monotonic() < deadline:
        time.sleep(0.1)
    assert os.getpriority(os.PRIO_PROCESS, first) > requests

    submit_start_form(slack, "Spring sale")
    assert status_posted(slack, "Spring sale")  # delivered by the background process

    os.kill(first, signal.SIGKILL)  # out of memory, say
    second = background_pid(served)
    deadline = time.monotonic() + 20
    while second == first and time.monotonic() < deadline:
        time.sleep(0.2)
        second = background_pid(served)
    assert second != first, "the arbiter did not start the background process again"
    submit_start_form(slack, "Winter sale")
    assert status_posted(slack, "Winter sale")

    served.stop()  # SIGTERM, as a deploy does
    assert served.proc.returncode == 0, served.tail()
    assert not alive(second)
    assert "Traceback" not in served.tail(400)


def test_metrics_add_up_every_process_including_the_background(
    served: processes.BotProcess, slack: FakeSlack
) -> None:
    for _ in range(6):
        assert slack.slash_command(ALICE, CHANNEL, "/postmortem", "help").status == 200
    submit_start_form(slack, "Metrics sale")
    status_posted(slack, "Metrics sale")
    time.sleep(0.5)  # the background process counts its call once Slack has answered it
    for _ in range(4):  # whichever process answers the scrape
        text = metrics(served)
        assert 'postmortem_ack_seconds_count{kind="command"} 6.0' in text, text
        # Only the background process posts the status message: counted in its own file.
        assert 'postmortem_slack_api_calls_total{method="chat.postMessage",outcome="ok"}' in text
        assert "postmortem_outbox_effects" in text


def test_the_background_process_stops_when_serve_is_killed_alone(
    served: processes.BotProcess,
) -> None:
    """SIGKILL to the arbiter alone (not its process group): no handler runs, yet nothing it
    started lives on, delivering without a `serve`."""
    assert served.proc is not None
    pid = background_pid(served)
    os.kill(served.proc.pid, signal.SIGKILL)
    served.proc.wait(10)
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(pid), "the background process outlived serve"

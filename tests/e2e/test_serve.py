"""`postmortem-bot serve` starts a production HTTP server that Slack can talk to."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers.ticket_hooks import TOKEN, event

from sandbox.fake_slack import FakeSlack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path, slack: FakeSlack):
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "POSTMORTEM_WEBHOOK_TOKEN": TOKEN,
    }
    env.pop("SLACK_APP_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
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
    assert "Traceback" not in output and TOKEN not in output
    assert len(output) < 100_000  # no request body ends up in the log


def test_serve_answers_health_checks_and_slack(served, slack: FakeSlack) -> None:
    url, workdir, proc = served
    assert (workdir / "bot.db").exists()  # the embedded default migrates itself
    with urllib.request.urlopen(f"{url}/healthz") as r:  # noqa: S310
        assert r.read() == b"ok\n"
    reply = slack.slash_command("U0ALICE", "C0REVIEWS", "/postmortem", "start campaign Launch")
    assert reply.status == 200
    view = slack.wait_for(lambda: slack.top_view("U0ALICE"), timeout=10)
    assert view["callback_id"] == "start_review"
    assert (
        slack.slash_command("U0ALICE", "C0REVIEWS", "/postmortem", "help", forged=True).status
        == 401
    )


def _post(
    url: str,
    path: str,
    body: bytes | list[bytes],
    headers: dict[str, str],
    *,
    declare_only: bool = False,
) -> tuple[int, dict]:
    """POST over a raw socket; a list of parts goes out chunked (no Content-Length).

    `declare_only` sends the headers and no body: a server refusing by Content-Length answers
    without waiting for it. The answer is read whole before the socket is closed.
    """
    host, port = url.removeprefix("http://").split(":")
    head = {**headers, "Host": host}
    if isinstance(body, list):
        head["Transfer-Encoding"] = "chunked"
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in body) + b"0\r\n\r\n"
    else:
        head["Content-Length"] = str(len(body))
        payload = b"" if declare_only else body
    request = (
        f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n"
    ).encode() + payload
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while not _complete(answer) and (chunk := sock.recv(65536)):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    headers_text, _, content = rest.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in headers_text.lower():
        content = _unchunk(content)
    return int(status_line.split()[1]), json.loads(content or b"{}")


def _complete(answer: bytes) -> bool:
    head, found, content = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    if b"transfer-encoding: chunked" in head.lower():
        return content.endswith(b"0\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    return len(content) >= length


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_text, _, data = data.partition(b"\r\n")
        size = int(size_text, 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


def test_serve_reads_a_chunked_webhook_and_refuses_oversized_bodies(
    served, slack: FakeSlack
) -> None:
    url, _, _ = served
    hook = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    data = json.dumps(event()).encode()
    status, body = _post(url, "/hooks/tickets", [data[:40], data[40:]], hook)
    assert status == 200 and body["ok"] is True and body["ticket"] == "T-1234", body
    status, body = _post(url, "/hooks/tickets", [b" " * 200_000, b" " * 100_000, data], hook)
    assert (status, body["error"]) == (413, "the body is over 256 KiB")
    # Unsigned and 5 MB: refused from its Content-Length, never read into memory or the log.
    slack_form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = _post(
        url, "/slack/events", b"text=" + b"x" * (5 * 1024 * 1024), slack_form, declare_only=True
    )
    assert (status, body) == (413, {"error": "the body is over 1024 KiB"})
    status, body = _post(url, "/slack/events", [b"text=", b"x" * (2 * 1024 * 1024)], slack_form)
    assert status == 413
    status, body = _post(
        url, "/slack/events", b"\xff\xfe\xfa", {**slack_form, "X-Slack-Request-Timestamp": "abc"}
    )
    assert (status, body) == (401, {"error": "invalid request"})
    # The server still answers Slack afterwards.
    assert slack.slash_command("U0ALICE", "C0REVIEWS", "/postmortem", "help").status == 200


def test_serve_starts_while_slack_is_failing_and_answers_once_it_is_back(
    tmp_path: Path, slack: FakeSlack
) -> None:
    """A replica (re)started during a Slack outage used to exit: Bolt's auth.test at boot
    failed, gunicorn said "Worker failed to boot", and the webhook and the outbox worker went
    down with it (found by the chaos test)."""
    from helpers import processes

    slack.fail("auth.test", "internal_error", times=10_000, status=500)
    env = processes.bot_env(slack, f"sqlite:///{tmp_path / 'bot.db'}")
    served = processes.serve("serve", env, tmp_path).start()
    try:
        served.wait_ready(timeout=60)
        slack.clear_faults()
        slack.request_url = f"{served.url}/slack/events"
        assert slack.slash_command("U0ALICE", "C0REVIEWS", "/postmortem", "help").status == 200
        assert served.alive
    finally:
        served.stop()
    slack.reset_calls()  # the refused auth.test calls were the point


def test_serve_logs_one_json_object_a_line_with_the_workspace_and_request(
    tmp_path: Path, slack: FakeSlack
) -> None:
    """POSTMORTEM_LOG_FORMAT=json: every line serve writes, gunicorn's included, is one JSON
    object; a Slack request's line names its workspace and request; no secret appears."""
    from helpers import processes

    env = processes.bot_env(slack, f"sqlite:///{tmp_path / 'bot.db'}", POSTMORTEM_LOG_FORMAT="json")
    served = processes.serve("serve", env, tmp_path).start()
    try:
        served.wait_ready(timeout=60)
        slack.request_url = f"{served.url}/slack/events"
        assert slack.slash_command("U0ALICE", "C0REVIEWS", "/postmortem", "help").status == 200
        with urllib.request.urlopen(f"{served.url}/metrics") as r:  # noqa: S310
            assert b'postmortem_ack_seconds_count{kind="command"} 1.0' in r.read()
    finally:
        served.stop()
    text = served.log.read_text()
    lines = [line for line in text.splitlines() if not line.startswith("--- start")]
    records = [json.loads(line) for line in lines]  # each line parses on its own
    assert {"timestamp", "level", "logger", "message", "team_id", "request_id"} <= set(records[0])
    acked = [r for r in records if r["message"].startswith("slack command answered 200")]
    assert len(acked) == 1, lines
    assert acked[0]["team_id"] == slack.workspace.team_id and len(acked[0]["request_id"]) == 16
    assert any(r["logger"].startswith("gunicorn") for r in records)
    assert slack.bot_token not in text and slack.signing_secret not in text


def test_serve_stops_delivering_quietly_when_it_is_stopped_mid_delivery(
    served, slack: FakeSlack
) -> None:
    """A deploy stops `serve` while its delivery worker waits on Slack: the worker is stopped
    before the process exits, so the log holds no traceback (a pass cut off by the shutting-down
    interpreter logged one); what it was delivering is finished or waits for the next start."""
    url, workdir, proc = served
    slack.burst(30, methods=["chat.postMessage", "conversations.open"], delay=1.5)
    hook = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    for number in range(3):  # three tickets: several effects, some queued behind others
        data = json.dumps(event(ticket_id=f"T-90{number}")).encode()
        status, body = _post(url, "/hooks/tickets", data, hook)
        assert status == 200 and body["ok"] is True, body
    time.sleep(0.5)  # the worker has claimed them and is waiting on Slack
    proc.terminate()
    output = proc.communicate(timeout=20)[0]
    assert proc.returncode == 0
    assert "Traceback" not in output and "delivery pass failed" not in output, output
    with sqlite3.connect(workdir / "bot.db") as db:
        statuses = [row[0] for row in db.execute("SELECT status FROM outbox")]
    assert statuses and set(statuses) <= {"done", "pending"}, statuses

"""The README's first command: `postmortem-bot sandbox` starts everything and serves the page."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from bot.cli.main import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sandbox_is_a_command_of_the_cli() -> None:
    result = CliRunner().invoke(main, ["sandbox", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "--db" in result.output


def test_sandbox_starts_serves_the_page_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "sandbox", "--port", str(port), "--no-scheduler"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert f"open http://127.0.0.1:{port}/" in first, (first, proc.stderr.read())
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert b'<script src="/static/app.js">' in page.read()
        with opener.open(
            f"http://127.0.0.1:{port}/api/state?person=U0BOB&pane=home", timeout=10
        ) as resp:
            state = json.loads(resp.read())
        assert [p["name"] for p in state["people"]] == ["Alice", "Bob", "Carol (admin)"]
        assert {j["id"] for j in state["clock"]} >= {"sweep"}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stopping" in out
    database = Path(first.split("(database ")[1].split(";")[0])
    assert database.name == "sandbox.db" and not database.exists()  # thrown away on exit

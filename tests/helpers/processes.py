"""Real `postmortem-bot` processes (serve on gunicorn, worker, remind) for tests that kill them.

Each process runs in its own session, so SIGKILL reaches gunicorn's arbiter and its worker
together, as when a container is killed. Output goes to a log file the test can show on failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sandbox.fake_slack import FakeSlack

BOT = [sys.executable, "-m", "bot.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(slack: FakeSlack, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a bot process talking to `slack` and the database."""
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("SLACK_APP_TOKEN", None)
    return env


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`postmortem-bot <args>` to completion."""
    return subprocess.run(
        [*BOT, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class BotProcess:
    """One `postmortem-bot` command that the test starts, kills (-9) and starts again."""

    def __init__(
        self,
        name: str,
        args: list[str],
        env: dict[str, str],
        workdir: Path,
        port: int | None = None,
    ) -> None:
        self.name, self.args, self.env, self.port = name, args, env, port
        self.workdir = workdir
        self.log = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BotProcess:
        with self.log.open("ab") as log:
            log.write(f"--- start {time.strftime('%H:%M:%S')}\n".encode())
            self.proc = subprocess.Popen(
                [*BOT, *self.args],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ready(self) -> bool:
        """serve: /healthz answers 200; other commands: the process is running."""
        if not self.alive:
            return False
        if self.port is None:
            return True
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as reply:  # noqa: S310
                return reply.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = 60) -> BotProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready():
                return self
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no handler, no clean-up, no goodbye."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.kills += 1

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def serve(name: str, env: dict[str, str], workdir: Path) -> BotProcess:
    port = free_port()
    return BotProcess(
        name, ["serve", "--host", "127.0.0.1", "--port", str(port)], env, workdir, port=port
    )


def worker(name: str, env: dict[str, str], workdir: Path) -> BotProcess:
    return BotProcess(name, ["worker"], env, workdir)

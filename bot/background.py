"""`serve`'s background process on PostgreSQL: the scheduled jobs and the outbox's delivery.

On PostgreSQL `serve` answers Slack in several processes (WEB_CONCURRENCY) and does everything
that is not an answer (sweeps, digests, delivering effects against a slow Slack) in one more
process of its own, `postmortem-bot worker --jobs`. A process runs one Python thread at a time:
background work beside the requests made every ack wait for it (bench/ack_latency.py measured
the slowest acks of a burst of stage forms at about twice those of a bot with no background in
the process). Effects reach the background process at once through PostgreSQL's NOTIFY
(`storage.outbox.listen`).

gunicorn's arbiter keeps it running as it keeps its request workers (bot/server.py): started
with them, started again if it dies, stopped with them. The process also exits on its own once
the `serve` that started it is gone, so a killed arbiter leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time

log = logging.getLogger(__name__)

RESTART_AFTER = 5.0
"""Seconds between starts of a background process that keeps exiting (not a tight loop)."""
NICE = 10
"""The background process's niceness: on a busy machine the request processes (and the
database) get the CPUs first; the background still gets what is left, which is plenty."""


class BackgroundProcess:
    """One `postmortem-bot worker --jobs` child of the arbiter, kept alive by `ensure()`."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = -float("inf")
        self._stopping = False

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "bot.cli.main",
            "worker",
            "--jobs",
            "--exit-with",
            str(os.getpid()),
        ]

    def ensure(self) -> None:
        """Start the process if it is not running (called by the arbiter about once a second)."""
        if self._stopping:
            return
        if self._proc is not None:
            code = self._proc.poll()  # (the arbiter may have reaped it: then 0)
            if code is None:
                return
            log.error("the background process (pid %s) exited (%s)", self._proc.pid, code)
            self._proc = None
        if time.monotonic() - self._started < RESTART_AFTER:
            return
        self._started = time.monotonic()
        self._proc = subprocess.Popen(self.command())  # noqa: S603 - our own CLI, this environment
        log.info("background process (jobs and outbox delivery) started: pid %s", self._proc.pid)

    def stop(self, timeout: float) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; nothing is started again."""
        self._stopping = True
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(5)


def exit_with(parent: int, stop: threading.Event, every: float = 1.0) -> threading.Thread:
    """Set `stop` once process `parent` is gone (this process then has a new parent)."""

    def watch() -> None:
        while not stop.wait(every):
            if os.getppid() != parent:
                log.warning("serve (pid %s) is gone: the background process stops", parent)
                stop.set()

    thread = threading.Thread(target=watch, daemon=True, name="exit-with")
    thread.start()
    return thread

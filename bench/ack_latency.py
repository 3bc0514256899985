"""Ack latency under concurrent load while Slack answers every Web API call after 1 second.

Starts the real `postmortem-bot serve` (gunicorn) against the fake Slack, then sends N slash
commands at once and N view submissions at once, and prints how long the bot took to answer
(Slack gives up after 3 s). Run it twice to compare listener pools:

    python bench/ack_latency.py                      # POSTMORTEM_LISTENER_THREADS=64 (default)
    python bench/ack_latency.py --threads 5          # Bolt's own default pool size
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sandbox.fake_slack import FakeSlack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def summary(name: str, times: list[float]) -> str:
    times = sorted(times)
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    return (f"{name:<18} n={len(times):<3} median={statistics.median(times) * 1000:7.1f} ms  "
            f"p95={p95 * 1000:7.1f} ms  max={times[-1] * 1000:7.1f} ms  "
            f"over 3 s: {sum(t > 3 for t in times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--slack-delay", type=float, default=1.0)
    args = parser.parse_args()

    slack = FakeSlack().start()
    users = [f"U0B{i:04d}" for i in range(args.concurrency)]
    for user in users:
        slack.add_user(user, user.lower())
    workdir = Path(tempfile.mkdtemp())
    port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": slack.bot_token,
           "SLACK_SIGNING_SECRET": slack.signing_secret, "SLACK_API_URL": slack.api_url,
           "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
           "POSTMORTEM_LISTENER_THREADS": str(args.threads)}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        slack.request_url = f"http://127.0.0.1:{port}/slack/events"
        slack.delay = args.slack_delay
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            commands = list(pool.map(lambda u: slack.slash_command(
                u, "C0REVIEWS", "/postmortem", f"start campaign Bench {u}"), users))
            # Each views.open takes a second; with a starved pool some run after the trigger
            # expired (3 s), and those people never see the form.
            time.sleep(args.slack_delay * args.concurrency / max(1, args.threads) + 5)
            opened = [u for u in users if slack.top_view(u)]
            submissions = list(pool.map(lambda u: slack.submit(u, slack.top_view(u)["id"]),
                                        opened))
        expired = [c for c in slack.calls_to("views.open") if c.error == "expired_trigger_id"]
        print(f"listener threads={args.threads}, Slack answers each call after "
              f"{args.slack_delay:.1f} s, {args.concurrency} concurrent requests, "
              f"{os.cpu_count()} CPUs")
        print(summary("slash command ack", [r.elapsed for r in commands]))
        print(f"modals opened: {len(opened)}/{len(users)} "
              f"(views.open refused with expired_trigger_id: {len(expired)})")
        if submissions:
            print(summary("view submission", [r.elapsed for r in submissions]))
        failed = [r.status for r in commands + submissions if r.status != 200]
        print(f"non-200 answers: {len(failed)}")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        slack.stop()


if __name__ == "__main__":
    main()

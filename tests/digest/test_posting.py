"""Posting against the fake Slack: the CLI posts once, the job posts on time, never twice."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from click.testing import CliRunner
from digest.seed import CHANNEL, NOW, Seeder, digest_settings, local, utc
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.cli.main import main
from bot.config import load_settings
from bot.digest import service as digest
from bot.runtime import build_runtime
from sandbox.fake_slack import FakeSlack
from storage import digests as store
from storage.db import transaction
from storage.models import Workspace

pytestmark = pytest.mark.usefixtures("busy")


def digests_in(slack: FakeSlack) -> list[dict]:
    return [m for m in slack.messages(CHANNEL) if "Post-mortem digest" in m.get("text", "")]


def runtime(slack: FakeSlack, engine: Engine):
    return build_runtime(
        load_settings(
            {
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_SIGNING_SECRET": slack.signing_secret,
                "SLACK_API_URL": slack.api_url,
                "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            }
        ),
        engine,
    )


def rows(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [
            (d.meeting_key, d.status)
            for d in session.scalars(select(store.Digest).order_by(store.Digest.meeting_key))
        ]


def test_cli_posts_once_and_a_second_run_posts_nothing(
    slack: FakeSlack, engine: Engine, db_env: dict[str, str]
) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["digest", "--now", NOW.isoformat()], env=db_env)
    assert first.exit_code == 0, first.output
    assert "posted the digest for the meeting on Wed 2 Dec 10:00 AEDT to C0REVIEWS" in first.output
    [posted] = digests_in(slack)
    assert any("Refund took 3 weeks" in b.get("text", {}).get("text", "") for b in posted["blocks"])
    again = runner.invoke(main, ["digest", "--now", NOW.isoformat()], env=db_env)
    assert again.exit_code == 0 and "already" in again.output and "nothing posted" in again.output
    assert len(digests_in(slack)) == 1
    assert rows(engine) == [("2026-12-02", "posted")]


def test_dry_run_prints_mrkdwn_and_posts_nothing(slack: FakeSlack, db_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["digest", "--dry-run", "--now", NOW.isoformat()], env=db_env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("*Post-mortem meeting · Wed 2 Dec, 10:00*\n")
    assert "*:bulb: Lessons to share* (2)" in result.output
    assert digests_in(slack) == []


def test_schedule_lists_five_meetings_with_skips_marked(
    session: Session, db_env: dict[str, str]
) -> None:
    ws = Seeder(session).ws
    ws.settings = digest_settings(skips={"2026-12-16": "A dedicated meeting is already booked"})
    session.commit()
    result = CliRunner().invoke(
        main, ["digest", "--schedule", "--now", NOW.isoformat()], env=db_env
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Meetings every 2 weeks on Wednesday at 10:00")
    assert lines[1:] == [
        "  Wed 2 Dec 2026 10:00 AEDT — digest at Wed 09:00 AEDT",
        "  Wed 16 Dec 2026 — skipped (A dedicated meeting is already booked)",
        "  Wed 30 Dec 2026 10:00 AEDT — digest at Wed 09:00 AEDT",
        "  Wed 13 Jan 2027 10:00 AEDT — digest at Wed 09:00 AEDT",
        "  Wed 27 Jan 2027 10:00 AEDT — digest at Wed 09:00 AEDT",
    ]


def test_two_processes_at_once_post_once(
    slack: FakeSlack, engine: Engine, db_env: dict[str, str]
) -> None:
    slack.set_delay("chat.postMessage", 0.5)  # widen the race
    env = {**os.environ, **db_env}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli.main", "digest", "--now", NOW.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    said = sorted("posted" if out.startswith("posted") else "already" for out, _ in outputs)
    assert said == ["already", "posted"], outputs
    assert len(digests_in(slack)) == 1
    assert rows(engine) == [("2026-12-02", "posted")]


def test_bad_setting_is_one_line_naming_the_variable(db_env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main, ["digest"], env={**db_env, "POSTMORTEM_FIRST_MEETING": "2026-12-03"}
    )
    assert result.exit_code == 2  # a setting to fix
    assert result.output == (
        "Error: POSTMORTEM_FIRST_MEETING: 2026-12-03 is a Thursday; meetings are on Wednesdays\n"
    )


# --- the scheduled job -----------------------------------------------------------------------


@pytest.fixture
def since_this_morning(busy: Session) -> None:
    """The schedule was set (the bot was running) from 07:00 on the meeting day."""
    ws = busy.scalars(select(Workspace)).one()
    ws.settings = digest_settings(updated_at=local(2, 7, 12).isoformat())
    busy.commit()


@pytest.mark.usefixtures("since_this_morning")
def test_job_posts_at_posting_time_once(slack: FakeSlack, engine: Engine) -> None:
    rt = runtime(slack, engine)
    assert not digest.tick(rt, utc(NOW - timedelta(minutes=1)))
    assert digests_in(slack) == []
    assert digest.tick(rt, utc(NOW + timedelta(seconds=20))).posted == ["2026-12-02"]
    assert not digest.tick(rt, utc(NOW + timedelta(minutes=1)))
    assert not digest.tick(rt, utc(NOW + timedelta(minutes=59)))
    assert len(digests_in(slack)) == 1


def test_missed_while_down_is_recorded_not_posted_late(slack: FakeSlack, engine: Engine) -> None:
    rt = runtime(slack, engine)
    # Last seen running on 1 Nov; comes back on 2 Dec at 10:30, after the meeting began.
    result = digest.tick(rt, utc(local(2, 10, 12) + timedelta(minutes=30)))
    assert result.missed == ["2026-11-18", "2026-12-02"] and result.posted == []
    assert digests_in(slack) == []
    # The next meeting's digest covers everything since the last one held.
    assert digest.tick(rt, utc(local(16, 9, 12) + timedelta(seconds=5))).posted == ["2026-12-16"]
    assert rows(engine) == [
        ("2026-11-18", "missed"),
        ("2026-12-02", "missed"),
        ("2026-12-16", "posted"),
    ]


@pytest.mark.usefixtures("since_this_morning")
def test_down_at_posting_time_posts_on_start_if_the_meeting_has_not_begun(
    slack: FakeSlack, engine: Engine
) -> None:
    rt = runtime(slack, engine)
    assert digest.tick(rt, utc(NOW + timedelta(minutes=45))).posted == ["2026-12-02"]
    assert len(digests_in(slack)) == 1


def test_a_skipped_meeting_gets_no_digest_and_is_not_missed(
    session: Session, slack: FakeSlack, engine: Engine
) -> None:
    ws = session.scalars(select(Workspace)).one()
    ws.settings = digest_settings(
        skips={"2026-12-02": "A dedicated meeting is already booked"},
        updated_at=local(2, 7, 12).isoformat(),
    )
    session.commit()
    rt = runtime(slack, engine)
    assert not digest.tick(rt, utc(NOW + timedelta(seconds=5)))
    assert not digest.tick(rt, utc(NOW + timedelta(hours=2)))
    assert digests_in(slack) == [] and rows(engine) == []


@pytest.mark.usefixtures("since_this_morning")
def test_a_failed_post_is_retried_before_the_meeting(slack: FakeSlack, engine: Engine) -> None:
    rt = runtime(slack, engine)
    slack.fail("chat.postMessage", "channel_not_found")
    assert not digest.tick(rt, utc(NOW + timedelta(seconds=5)))
    assert rows(engine) == [("2026-12-02", "failed")]
    assert digest.tick(rt, utc(NOW + timedelta(minutes=1))).posted == ["2026-12-02"]
    assert len(digests_in(slack)) == 1


@pytest.mark.usefixtures("since_this_morning")
def test_a_claim_left_by_a_crash_is_recovered_without_posting_twice(
    slack: FakeSlack, engine: Engine
) -> None:
    rt = runtime(slack, engine)
    assert digest.tick(rt, utc(NOW + timedelta(seconds=5))).posted
    with transaction(rt.sessions) as session:  # as if the process died before recording it
        row = session.scalars(select(store.Digest)).one()
        row.status, row.ts, row.claimed_at = store.CLAIMED, None, utc(NOW)
    later = utc(NOW + timedelta(minutes=20))
    assert (
        digest.post(
            rt,
            "T0TEST",
            now=later,
            meeting=digest.meeting_by_key(
                digest.DigestSettings.from_json(digest_settings()["digest"]).schedule("NSW"),
                "2026-12-02",
                utc(NOW),
            ),
        ).status
        == "already"
    )
    assert len(digests_in(slack)) == 1
    assert rows(engine) == [("2026-12-02", "posted")]

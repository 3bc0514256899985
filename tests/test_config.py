"""Start-up settings: one clear line naming the variable, and secrets kept out of reprs."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.config import ConfigError, load_settings

BASE = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "s3cret"}
PG = {"DATABASE_URL": "postgresql://bot@db/pm"}


def test_defaults() -> None:
    s = load_settings(BASE)
    assert (s.api_url, s.database_url, s.timezone, s.state, s.admins) == (
        "https://slack.com/api/",
        "sqlite:///postmortem.db",
        "Australia/Sydney",
        "NSW",
        frozenset(),
    )


def test_api_url_gets_its_trailing_slash_for_urljoin() -> None:
    s = load_settings({**BASE, "SLACK_API_URL": "https://slack-gov.com/api"})
    assert s.api_url == "https://slack-gov.com/api/"


def test_postgres_urls_use_psycopg() -> None:
    s = load_settings({**BASE, "DATABASE_URL": "postgres://bot@db.internal/pm"})
    assert s.database_url == "postgresql+psycopg://bot@db.internal/pm"


def test_socket_mode_needs_no_signing_secret() -> None:
    s = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert s.app_token == "xapp-1"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN must start with 'xoxb-'"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET is not set"),
        ({**BASE, "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN must start with 'xapp-'"),
        ({**BASE, "SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL must be an http(s) URL"),
        ({**BASE, "POSTMORTEM_ADMINS": "U123ABC, carol"}, "POSTMORTEM_ADMINS: 'carol' is not"),
        ({**BASE, "POSTMORTEM_TIMEZONE": "Sydney"}, "POSTMORTEM_TIMEZONE: unknown timezone"),
        ({**BASE, "POSTMORTEM_STATE": "XYZ"}, "POSTMORTEM_STATE must be one of"),
        ({**BASE, "DATABASE_URL": "oracle://x"}, "DATABASE_URL uses 'oracle'"),
        ({**BASE, "POSTMORTEM_WORKFLOWS_DIR": "/nonexistent"}, "POSTMORTEM_WORKFLOWS_DIR:"),
        (
            {**BASE, "POSTMORTEM_MEETING_EVERY_WEEKS": "abc"},
            "POSTMORTEM_MEETING_EVERY_WEEKS: 'abc'",
        ),
        ({**BASE, "POSTMORTEM_MEETING_EVERY_WEEKS": "9"}, "POSTMORTEM_MEETING_EVERY_WEEKS: '9'"),
        ({**BASE, "POSTMORTEM_MEETING_TIME": "25:99"}, "POSTMORTEM_MEETING_TIME: '25:99'"),
        (
            {**BASE, "POSTMORTEM_FIRST_MEETING": "2026-12-03"},
            "POSTMORTEM_FIRST_MEETING: 2026-12-03 is a Thursday",
        ),
        ({**BASE, "POSTMORTEM_FIRST_MEETING": "soon"}, "POSTMORTEM_FIRST_MEETING: 'soon' is not"),
        ({**BASE, "POSTMORTEM_DIGEST_CHANNEL": "general"}, "POSTMORTEM_DIGEST_CHANNEL must be a"),
        ({**BASE, "POSTMORTEM_TEMPLATES_DIR": "/nonexistent"}, "POSTMORTEM_TEMPLATES_DIR:"),
        (
            {**BASE, "POSTMORTEM_WEBHOOK_TOKEN": "short"},
            "POSTMORTEM_WEBHOOK_TOKEN must be at least",
        ),
        ({**BASE, "POSTMORTEM_SUPPORT_STALE_DAYS": "x"}, "POSTMORTEM_SUPPORT_STALE_DAYS must be"),
        ({**BASE, "POSTMORTEM_SUPPORT_STALE_DAYS": "٣"}, "POSTMORTEM_SUPPORT_STALE_DAYS must be"),
        ({**BASE, "POSTMORTEM_STAGE_NUDGE_DAYS": "0"}, "POSTMORTEM_STAGE_NUDGE_DAYS must be"),
        ({**BASE, "POSTMORTEM_SUPPORT_CHANNEL": "support"}, "POSTMORTEM_SUPPORT_CHANNEL must be a"),
        ({**BASE, "POSTMORTEM_LISTENER_THREADS": "0"}, "POSTMORTEM_LISTENER_THREADS must be"),
        ({**BASE, "WEB_CONCURRENCY": "2"}, "WEB_CONCURRENCY: SQLite is served by one process"),
        ({**BASE, **PG, "WEB_CONCURRENCY": "many"}, "WEB_CONCURRENCY must be a whole number"),
        ({**BASE, **PG, "WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY must be a whole number"),
        (
            {**BASE, "POSTMORTEM_ESCALATION_CHANNEL": "#leadership"},
            "POSTMORTEM_ESCALATION_CHANNEL must be a channel id",
        ),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_secrets_never_appear_in_repr() -> None:
    s = load_settings({**BASE, "DATABASE_URL": "postgresql://bot:hunter2@db/pm"})
    assert "xoxb" not in repr(s) and "s3cret" not in repr(s) and "hunter2" not in repr(s)


def test_digest_and_webhook_settings_are_typed_fields(tmp_path) -> None:
    s = load_settings(
        {
            **BASE,
            "POSTMORTEM_DIGEST_CHANNEL": "C0REVIEWS",
            "POSTMORTEM_MEETING_EVERY_WEEKS": "1",
            "POSTMORTEM_MEETING_TIME": "9:30",
            "POSTMORTEM_FIRST_MEETING": "2026-12-02",
            "POSTMORTEM_TEMPLATES_DIR": str(tmp_path),
            "POSTMORTEM_WEBHOOK_TOKEN": "a-long-enough-token",
            "POSTMORTEM_SUPPORT_CHANNEL": "C0SUPPORT",
            "POSTMORTEM_SUPPORT_STALE_DAYS": "3",
        }
    )
    assert (
        s.digest_channel,
        s.meeting_every_weeks,
        s.meeting_time,
        s.first_meeting,
        s.templates_dir,
    ) == ("C0REVIEWS", 1, time(9, 30), date(2026, 12, 2), tmp_path)
    assert (s.webhook_token, s.support_channel, s.support_stale_days) == (
        "a-long-enough-token",
        "C0SUPPORT",
        3,
    )
    assert "a-long-enough-token" not in repr(s)
    defaults = load_settings(BASE)
    assert (
        defaults.digest_channel,
        defaults.meeting_every_weeks,
        defaults.meeting_time,
        defaults.first_meeting,
        defaults.webhook_token,
        defaults.support_stale_days,
    ) == (None, 2, time(10, 0), None, None, 5)


def test_the_escalation_channel_is_optional() -> None:
    assert load_settings(BASE).escalation_channel is None
    assert (
        load_settings({**BASE, "POSTMORTEM_ESCALATION_CHANNEL": " C0LEADS "}).escalation_channel
        == "C0LEADS"
    )


def test_the_stage_nudge_waits_three_working_days_unless_told_otherwise() -> None:
    assert load_settings(BASE).stage_nudge_days == 3
    assert load_settings({**BASE, "POSTMORTEM_STAGE_NUDGE_DAYS": "5"}).stage_nudge_days == 5


def test_serve_answers_in_two_processes_on_postgresql_and_one_on_sqlite() -> None:
    """SQLite's one process also delivers; on PostgreSQL a background process does (README)."""
    assert load_settings(BASE).web_processes == 1
    assert load_settings({**BASE, "WEB_CONCURRENCY": "1"}).web_processes == 1
    assert load_settings({**BASE, **PG}).web_processes == 2
    assert load_settings({**BASE, **PG, "WEB_CONCURRENCY": "4"}).web_processes == 4

"""POSTMORTEM_TRACKER and each tracker's variables: defaults, one-line errors, no token in reprs."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

BASE = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "s3cret"}
CLICKUP = {
    "POSTMORTEM_TRACKER": "clickup",
    "CLICKUP_API_TOKEN": "pk_1_SECRET",
    "CLICKUP_LIST_ID": "901234",
}
JIRA = {
    "POSTMORTEM_TRACKER": "jira",
    "JIRA_BASE_URL": "https://acme.atlassian.net/",
    "JIRA_EMAIL": "bot@acme.com",
    "JIRA_API_TOKEN": "ATATT_SECRET",
    "JIRA_PROJECT_KEY": "PM",
}
LINEAR = {
    "POSTMORTEM_TRACKER": "linear",
    "LINEAR_API_KEY": "lin_api_SECRET",
    "LINEAR_TEAM_ID": "team-uuid",
}
GITHUB = {
    "POSTMORTEM_TRACKER": "github",
    "GITHUB_TOKEN": "ghp_SECRET",
    "GITHUB_REPOSITORY": "acme/support",
}


def test_no_tracker_by_default() -> None:
    assert load_settings(BASE).tracker is None


@pytest.mark.parametrize(
    ("env", "url", "extra"),
    [
        (CLICKUP, "https://api.clickup.com/api/v2", {"list_id": "901234"}),
        (JIRA, "https://acme.atlassian.net", {"issue_type": "Task", "project_key": "PM"}),
        (LINEAR, "https://api.linear.app/graphql", {"team_id": "team-uuid"}),
        (GITHUB, "https://api.github.com", {"repository": "acme/support"}),
    ],
)
def test_each_tracker_with_the_issues_defaults(env: dict, url: str, extra: dict) -> None:
    tracker = load_settings({**BASE, **env}).tracker
    assert tracker is not None and (tracker.name, tracker.api_url) == (
        env["POSTMORTEM_TRACKER"],
        url,
    )
    assert {k: getattr(tracker, k) for k in extra} == extra
    assert tracker.webhook_secret is None  # the webhook is off until its secret is set


def test_base_urls_and_secrets_are_read() -> None:
    tracker = load_settings(
        {
            **BASE,
            **GITHUB,
            "GITHUB_API_URL": "https://ghe.acme.com/api/v3",
            "GITHUB_WEBHOOK_SECRET": "hook-secret",
        }
    ).tracker
    assert (tracker.api_url, tracker.webhook_secret) == (
        "https://ghe.acme.com/api/v3",
        "hook-secret",
    )
    jira = load_settings({**BASE, **JIRA, "JIRA_ISSUE_TYPE": "Bug"}).tracker
    assert jira.issue_type == "Bug"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"POSTMORTEM_TRACKER": "trello"}, "POSTMORTEM_TRACKER must be one of clickup, jira, "),
        ({"POSTMORTEM_TRACKER": "clickup"}, "CLICKUP_API_TOKEN is not set (needed with "),
        ({**CLICKUP, "CLICKUP_LIST_ID": ""}, "CLICKUP_LIST_ID is not set"),
        ({**CLICKUP, "CLICKUP_LIST_ID": "Action items"}, "CLICKUP_LIST_ID must be the list's"),
        ({**CLICKUP, "CLICKUP_API_URL": "api.clickup.com"}, "CLICKUP_API_URL must be an http(s)"),
        ({**JIRA, "JIRA_BASE_URL": ""}, "JIRA_BASE_URL is not set"),
        ({**JIRA, "JIRA_EMAIL": "bot"}, "JIRA_EMAIL must be the e-mail address"),
        ({**JIRA, "JIRA_PROJECT_KEY": "post mortems"}, "JIRA_PROJECT_KEY must be a project key"),
        ({**LINEAR, "LINEAR_TEAM_ID": " "}, "LINEAR_TEAM_ID is not set"),
        ({**GITHUB, "GITHUB_REPOSITORY": "support"}, "GITHUB_REPOSITORY must be owner/name"),
        ({**GITHUB, "GITHUB_TOKEN": ""}, "GITHUB_TOKEN is not set"),
    ],
)
def test_bad_tracker_settings_are_one_line_naming_the_variable(env: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, **env})
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("env", [CLICKUP, JIRA, LINEAR, GITHUB])
def test_tokens_never_appear_in_reprs(env: dict) -> None:
    settings = load_settings(
        {**BASE, **env, f"{env['POSTMORTEM_TRACKER'].upper()}_WEBHOOK_SECRET": "HOOK_SECRET"}
    )
    shown = repr(settings) + repr(settings.tracker) + str(settings.tracker)
    assert "SECRET" not in shown
    assert env["POSTMORTEM_TRACKER"] in repr(settings.tracker)


def test_jira_data_center_signs_in_with_a_bearer_token_and_needs_no_e_mail() -> None:
    env = {**BASE, **JIRA, "JIRA_AUTH": "bearer"}
    del env["JIRA_EMAIL"]
    tracker = load_settings(env).tracker
    assert tracker is not None and (tracker.auth, tracker.email) == ("bearer", "")
    assert "ATATT_SECRET" not in repr(tracker)


def test_jira_cloud_still_needs_its_e_mail_and_a_known_auth() -> None:
    env = {**BASE, **JIRA}
    del env["JIRA_EMAIL"]
    with pytest.raises(ConfigError, match="JIRA_EMAIL"):
        load_settings(env)
    with pytest.raises(ConfigError, match="JIRA_AUTH must be basic"):
        load_settings({**BASE, **JIRA, "JIRA_AUTH": "oauth"})

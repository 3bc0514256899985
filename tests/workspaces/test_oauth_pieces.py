"""The OAuth pieces one by one: settings, the store's tables, the fake's oauth.v2.access."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table

from bot.config import SLACK_AUTHORIZE_DEFAULT, ConfigError, load_settings
from sandbox.fake_slack import FakeSlack
from storage import installations

BASE = {"SLACK_SIGNING_SECRET": "s3cret", "DATABASE_URL": "sqlite:///x.db"}


def test_client_id_and_secret_switch_oauth_on_without_a_bot_token() -> None:
    settings = load_settings({**BASE, "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "abc"})
    assert settings.oauth is not None
    assert settings.oauth.authorize_url == SLACK_AUTHORIZE_DEFAULT
    assert "abc" not in repr(settings.oauth)
    gov = load_settings(
        {
            **BASE,
            "SLACK_CLIENT_ID": "1.2",
            "SLACK_CLIENT_SECRET": "abc",
            "SLACK_AUTHORIZE_URL": "https://slack-gov.com/oauth/v2/authorize",
        }
    )
    assert gov.oauth is not None and gov.oauth.authorize_url.startswith("https://slack-gov.com")


def test_one_bot_token_stays_the_default() -> None:
    assert load_settings({**BASE, "SLACK_BOT_TOKEN": "xoxb-1"}).oauth is None
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        load_settings(BASE)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"SLACK_CLIENT_ID": "1.2"}, "SLACK_CLIENT_SECRET is not set"),
        ({"SLACK_CLIENT_SECRET": "abc"}, "SLACK_CLIENT_ID is not set"),
        (
            {"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "a", "SLACK_AUTHORIZE_URL": "slack"},
            "SLACK_AUTHORIZE_URL must be an http",
        ),
    ],
)
def test_half_an_oauth_setup_is_one_clear_line(extra: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({**BASE, "SLACK_BOT_TOKEN": "xoxb-1", **extra})


def test_oauth_needs_http_not_socket_mode() -> None:
    with pytest.raises(ConfigError, match="unset SLACK_APP_TOKEN"):
        load_settings(
            {
                **BASE,
                "SLACK_APP_TOKEN": "xapp-1",
                "SLACK_CLIENT_ID": "1",
                "SLACK_CLIENT_SECRET": "a",
            }
        )
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        load_settings({"SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "a"})


def test_check_says_tokens_come_from_installs() -> None:
    from bot import checks

    result = checks.slack(
        load_settings({**BASE, "SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "a"})
    )
    assert result.ok and "/slack/install" in result.line()


def _shape(table: Table) -> list[tuple[str, str, bool, bool]]:
    return [(c.name, repr(c.type), c.nullable or False, c.primary_key) for c in table.columns]


def test_the_migrated_tables_are_exactly_the_ones_slack_sdks_stores_use() -> None:
    theirs = MetaData()
    store = SQLAlchemyInstallationStore
    for ours, built in (
        (
            installations.installations,
            store.build_installations_table(theirs, "slack_installations"),
        ),
        (installations.bots, store.build_bots_table(theirs, "slack_bots")),
        (
            installations.oauth_states,
            SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, "slack_oauth_states"),
        ),
    ):
        assert _shape(ours) == _shape(built)
        assert {i.name: [c.name for c in i.columns] for i in ours.indexes} == {
            i.name: [c.name for c in i.columns] for i in built.indexes
        }


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack().start()
    slack.register_app("1.2", "secret", ("https://bot.example.com/slack/oauth_redirect",))
    yield slack
    slack.stop()


def _code(fake: FakeSlack, redirect_uri: str | None = None) -> str:
    from urllib.parse import parse_qs, urlsplit

    from sandbox.fake_slack import oauth

    query = "client_id=1.2&scope=commands&state=abc"
    if redirect_uri:
        query += f"&redirect_uri={redirect_uri}"
    status, headers, _ = oauth.authorize(fake, query)
    assert status == 302
    location = urlsplit(headers["Location"])
    assert parse_qs(location.query)["state"] == ["abc"]
    return parse_qs(location.query)["code"][0]


def test_the_fake_exchanges_a_code_once_for_a_token_of_that_workspace(fake: FakeSlack) -> None:
    client = WebClient(base_url=fake.api_url)
    answer = client.oauth_v2_access(client_id="1.2", client_secret="secret", code=_code(fake))
    assert answer["team"] == {"id": fake.team_id, "name": "Fake Workspace"}
    assert answer["enterprise"] is None and answer["is_enterprise_install"] is False
    assert answer["token_type"] == "bot" and answer["bot_user_id"]
    assert answer["authed_user"] == {"id": "U0ADMIN"}
    token = answer["access_token"]
    assert WebClient(token=token, base_url=fake.api_url).auth_test()["team_id"] == fake.team_id


@pytest.mark.parametrize(
    ("secret", "code", "redirect", "error"),
    [
        ("wrong", None, None, "bad_client_secret"),
        ("secret", "not-a-code", None, "invalid_code"),
        ("secret", None, "https://evil.example.com/x", "bad_redirect_uri"),
    ],
)
def test_the_fake_refuses_what_slack_refuses(
    fake: FakeSlack, secret: str, code: str | None, redirect: str | None, error: str
) -> None:
    issued = _code(fake, "https://bot.example.com/slack/oauth_redirect")
    client = WebClient(base_url=fake.api_url)
    with pytest.raises(SlackApiError) as refused:
        client.oauth_v2_access(
            client_id="1.2",
            client_secret=secret,
            code=code or issued,
            redirect_uri=redirect or "https://bot.example.com/slack/oauth_redirect",
        )
    assert refused.value.response["error"] == error


def test_a_code_is_good_once(fake: FakeSlack) -> None:
    code = _code(fake)
    client = WebClient(base_url=fake.api_url)
    client.oauth_v2_access(client_id="1.2", client_secret="secret", code=code)
    with pytest.raises(SlackApiError) as refused:
        client.oauth_v2_access(client_id="1.2", client_secret="secret", code=code)
    assert refused.value.response["error"] == "invalid_code"


def test_the_authorize_page_refuses_an_unregistered_redirect(fake: FakeSlack) -> None:
    from sandbox.fake_slack import oauth

    status, _, text = oauth.authorize(
        fake, "client_id=1.2&scope=commands&state=a&redirect_uri=https://evil.example.com/"
    )
    assert (status, text) == (400, "bad_redirect_uri")

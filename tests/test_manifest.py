"""manifest.yml is a valid Slack app manifest for exactly this app."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "data" / "slack" / "manifest.schema.1.0.0.json"  # see SOURCE.md


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_matches_slacks_published_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(manifest(), schema, cls=jsonschema.Draft7Validator)


def test_a_broken_manifest_is_caught() -> None:
    schema = json.loads(SCHEMA.read_text())
    broken = manifest()
    broken["features"]["slash_commands"][0]["command"] = "postmortem"  # no leading slash
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(broken))
    assert errors


def test_manifest_declares_what_the_app_listens_to() -> None:
    m = manifest()
    assert [c["command"] for c in m["features"]["slash_commands"]] == ["/postmortem"]
    assert m["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
        "user_change",
    ]
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["settings"]["interactivity"]["is_enabled"] is True


# The bot scope each Web API method the code calls needs (api.slack.com method pages).
METHOD_SCOPES = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_getPermalink": set(),
    "views_open": set(),
    "views_update": set(),
    "views_publish": set(),
    "views_push": set(),
    "users_info": {"users:read"},
    "users_list": {"users:read"},
    "users_lookupByEmail": {"users:read.email"},
    "conversations_open": {"im:write"},
    "conversations_history": {"channels:history", "groups:history", "im:history"},
    "conversations_replies": {"channels:history", "groups:history", "im:history"},
    "files_upload_v2": {"files:write"},
    "auth_test": set(),
    "usergroups_list": {"usergroups:read"},
    "usergroups_users_list": {"usergroups:read"},
}


def test_every_web_api_method_the_bot_calls_has_its_scope() -> None:
    import re

    called = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "fake_slack" in path.parts or "sandbox" in path.parts:
            continue
        called |= set(re.findall(r"client\.([a-z]+_[A-Za-z0-9_]+)\(", path.read_text()))
    unknown = called - set(METHOD_SCOPES)
    assert unknown == set(), f"add the scopes of {unknown} to METHOD_SCOPES and manifest.yml"
    needed = set().union(*(METHOD_SCOPES[m] for m in called)) | {"commands"}
    assert set(manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_the_oauth_install_asks_for_exactly_the_manifests_scopes() -> None:
    from bot.workspaces.installs import BOT_SCOPES

    assert sorted(BOT_SCOPES) == sorted(manifest()["oauth_config"]["scopes"]["bot"])


def test_the_manifest_redirects_installs_to_the_bots_oauth_redirect() -> None:
    urls = manifest()["oauth_config"]["redirect_urls"]
    assert [u.rsplit("/slack/", 1)[1] for u in urls] == ["oauth_redirect"]

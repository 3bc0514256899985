"""manifest.yml is a valid Slack app manifest for exactly this app."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"


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
    assert m["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["settings"]["interactivity"]["is_enabled"] is True

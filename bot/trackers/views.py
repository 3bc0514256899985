"""Block Kit for the tracker settings modal (pure builders).

The token input is never filled in: a saved token is only ever said to exist, so it cannot be
read back from the modal (or from Slack's copy of it).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.text import clip, escape
from storage.trackers import NONE, TRACKER_NAMES

CALLBACK = "tracker_settings"
TEST = "tracker_test"
AUTHS = {
    "basic": "Jira Cloud: e-mail + API token (Basic)",
    "bearer": "Jira Data Center / Server: personal access token (Bearer)",
}


def _option(value: str, label: str) -> Option:
    return Option(value=value, label=label)


def settings_modal(
    *,
    tracker: str,
    target: str = "",
    api_url: str = "",
    email: str = "",
    auth: str = "basic",
    has_token: bool = False,
    source: str = "",
    result: str = "",
) -> dict[str, Any]:
    """The admin's tracker settings; `result` is the last connection test's outcome (mrkdwn)."""
    trackers = [_option(NONE, "None: action items stay in Slack")] + [
        _option(name, label) for name, label in TRACKER_NAMES.items()
    ]
    chosen = next((o for o in trackers if o.value == tracker), trackers[0])
    auths = [_option(k, v) for k, v in AUTHS.items()]
    blocks: list[Any] = [
        SectionBlock(
            text=MarkdownTextObject(
                text="Action items are filed as tasks in this tracker and kept in step both "
                "ways. " + escape(source)
            )
        ),
        InputBlock(
            block_id="tracker",
            label="Tracker",
            element=StaticSelectElement(action_id="v", options=trackers, initial_option=chosen),
        ),
        InputBlock(
            block_id="target",
            label="Where tasks go",
            optional=True,
            hint="ClickUp: list id · Jira: project key · Linear: team id · GitHub: owner/name",
            element=PlainTextInputElement(
                action_id="v", initial_value=target or None, max_length=200
            ),
        ),
        InputBlock(
            block_id="api_url",
            label="API URL",
            optional=True,
            hint="Jira: your site (https://acme.atlassian.net). Others: empty for the public "
            "service, or your GitHub Enterprise / self-hosted URL.",
            element=PlainTextInputElement(
                action_id="v", initial_value=api_url or None, max_length=300
            ),
        ),
        InputBlock(
            block_id="auth",
            label="Jira sign-in",
            optional=True,
            element=StaticSelectElement(
                action_id="v",
                options=auths,
                initial_option=next((o for o in auths if o.value == auth), auths[0]),
            ),
        ),
        InputBlock(
            block_id="email",
            label="Jira e-mail (Cloud)",
            optional=True,
            element=PlainTextInputElement(
                action_id="v", initial_value=email or None, max_length=200
            ),
        ),
        InputBlock(
            block_id="token",
            label="Token",
            optional=True,
            hint=(
                "A token is saved (not shown). Leave this empty to keep it."
                if has_token
                else "ClickUp personal token · Jira API token or PAT · Linear API key · "
                "GitHub token with Issues read/write."
            ),
            element=PlainTextInputElement(action_id="v", max_length=500),
        ),
        ActionsBlock(
            block_id="test",
            elements=[ButtonElement(action_id=TEST, text="Test connection", value="test")],
        ),
    ]
    if result:
        blocks.append(ContextBlock(block_id="result", elements=[MarkdownTextObject(text=result)]))
    return View(
        type="modal",
        callback_id=CALLBACK,
        title="Tracker settings",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def test_result(ok: bool, text: str) -> str:
    """The connection test's outcome, as the modal shows it (the text is already token-free)."""
    mark = ":white_check_mark: Connected." if ok else ":x: Connection failed."
    return f"{mark} {escape(clip(text, 1500))}"

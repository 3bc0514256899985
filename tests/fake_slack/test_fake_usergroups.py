"""usergroups.list and usergroups.users.list, answered in Slack's documented shapes and errors."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.fake_slack import FakeSlack


def test_user_groups_are_listed_without_members_unless_asked(
    slack: FakeSlack, client: WebClient
) -> None:
    slack.add_usergroup("S0DESIGN", "design", "Design team", ["U0ALICE", "U0BOB"])
    slack.add_usergroup("S0OLD", "old", "Old team", ["U0BOB"], disabled=True)
    [group] = client.usergroups_list()["usergroups"]
    assert (group["id"], group["handle"], group["date_delete"]) == ("S0DESIGN", "design", 0)
    assert "users" not in group and "user_count" not in group
    listed = client.usergroups_list(include_users=True, include_disabled=True)["usergroups"]
    assert [g["users"] for g in listed] == [["U0ALICE", "U0BOB"], ["U0BOB"]]
    assert client.usergroups_users_list(usergroup="S0DESIGN")["users"] == ["U0ALICE", "U0BOB"]


@pytest.mark.parametrize(
    ("group", "error"), [("S0NOPE", "no_such_subteam"), ("S0OLD", "no_such_subteam")]
)
def test_an_unknown_or_disabled_group_is_refused(
    slack: FakeSlack, client: WebClient, group: str, error: str
) -> None:
    slack.add_usergroup("S0OLD", "old", "Old team", ["U0BOB"], disabled=True)
    with pytest.raises(SlackApiError) as err:
        client.usergroups_users_list(usergroup=group)
    assert err.value.response["error"] == error

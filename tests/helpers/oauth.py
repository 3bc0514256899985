"""Installing the bot in fake Slack workspaces through the OAuth flow, as a browser does."""

from __future__ import annotations

import html
import http.client
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sandbox.fake_slack import FakeSlack
from sandbox.harness import Bot

CLIENT_ID, CLIENT_SECRET = "1111.2222", "oauth-client-secret"
ONE, TWO = "T0ONE", "T0TWO"
ALICE, CHANNEL_ONE = "U0ALICE", "C0REVIEWS"  # the fake's first workspace
DANA, CHANNEL_TWO = "U2DANA", "C2REVIEWS"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


def get(url: str, cookie: str | None = None) -> Response:
    """One GET, redirects not followed (a browser's single step)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    answer = conn.getresponse()
    body = answer.read().decode("utf-8", "replace")
    headers = {k.lower(): v for k, v in answer.getheaders()}
    conn.close()
    return Response(answer.status, headers, body)


def base(bot: Bot) -> str:
    return bot.url.rsplit("/slack/", 1)[0]


def install(slack: FakeSlack, bot: Bot, team: str | None, user: str, org: str | None = None):
    """Click "Add to Slack" on the bot's install page, "Allow" on Slack's, and land back."""
    slack.will_install(team, user, enterprise_id=org)
    page = get(base(bot) + "/slack/install")
    assert page.status == 200, page
    cookie = page.headers["set-cookie"].split(";")[0]
    found = re.search(r'href="([^"]*/oauth/v2/authorize\?[^"]*)"', page.body)
    assert found, page.body
    authorize = get(html.unescape(found.group(1)))
    assert authorize.status == 302, authorize
    landed = get(authorize.headers["location"], cookie=cookie)
    assert landed.status == 200, landed
    return landed


def start_review(slack: FakeSlack, user: str, channel: str, title: str) -> dict:
    """`/postmortem start campaign <title>` and submit the form: the review's status message."""
    reply = slack.slash_command(user, channel, "/postmortem", f"start campaign {title}")
    assert reply.status == 200, reply
    view = slack.wait_for(lambda: slack.top_view(user))
    assert view["callback_id"] == "start_review", view
    assert slack.submit(user, view["id"], {}).ok
    return slack.wait_for(lambda: slack.messages(channel))[0]


def command(slack: FakeSlack, user: str, channel: str, text: str) -> str:
    """What `/postmortem <text>` shows the person (all the text of the bot's reply)."""
    before = len(slack.response_posts)
    reply = slack.slash_command(user, channel, "/postmortem", text)
    assert reply.status == 200, reply
    if (
        reply.body
        and isinstance(reply.body, dict)
        and (reply.body.get("blocks") or reply.body.get("text"))
    ):
        return str(reply.body)
    post = slack.wait_for(lambda: len(slack.response_posts) > before and slack.response_posts[-1])
    return str(post["payload"])

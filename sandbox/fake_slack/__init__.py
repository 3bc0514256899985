"""A local stand-in for Slack: Web API server, Block Kit limits and the user side.

with FakeSlack(request_url="http://127.0.0.1:3000/slack/events") as slack:
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    reply = slack.slash_command("U0ALICE", "C0REVIEWS", "/postmortem", "new")
    view = slack.top_view("U0ALICE")
    slack.submit("U0ALICE", view["id"], {"title": {"title_input": "DB outage"}})
"""

from .actor import BotReply, sign
from .limits import problems
from .server import Call, FakeSlack
from .state import StateError
from .store import APP_ID, BOT_ID, BOT_USER_ID, ApiError

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "ApiError",
    "BotReply",
    "Call",
    "FakeSlack",
    "StateError",
    "problems",
    "sign",
]

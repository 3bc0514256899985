"""`/postmortem <word> …`: ack at once, then hand the rest to the feature that owns the word.

The table of words is built by bot/app.py from every feature's `subcommands`, so this router knows
no feature by name.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.features import Subcommand
from bot.reviews.views.lists import help_text, workflow_words
from bot.runtime import Runtime
from bot.slack.text import escape

log = logging.getLogger(__name__)


def postmortem(
    ack: Ack,
    command: dict[str, Any],
    respond: Respond,
    client: WebClient,
    rt: Runtime,
    subcommands: dict[str, Subcommand],
) -> None:
    """The slash command: unknown words get the help text, never silence."""
    ack()
    word, _, rest = (command.get("text") or "").strip().partition(" ")
    handler = subcommands.get(word.lower() or "help")
    if handler is None:
        respond(
            text=f"I don't know `/postmortem {escape(word)}`.\n\n"
            + help_text(workflow_words(rt.registry))
        )
        return
    try:
        handler(rt, command, rest.strip(), respond, client)
    except Exception:  # the database is down, or Slack failed: say so, instead of silence
        log.exception("/postmortem %s failed", word.lower())
        respond(
            text="Something failed on our side (the bot could not reach its database or "
            "Slack). Try again in a minute."
        )

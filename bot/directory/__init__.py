"""The workspace's people as Slack describes them: keeps the bot's cached copy current."""

"""`postmortem-bot sandbox`: the real bot against a local Slack stand-in, used in the browser.

For people who want to try the bot without a Slack workspace: the Bolt app, its database code
and the fake Slack of the end-to-end tests run in one process, and a small web page plays the
Slack client (every request it makes reaches the bot signed, in Slack's payload shapes).

Never imported by the bot's features: only `postmortem-bot sandbox` (lazily) and the tests load
it, so `serve` never carries the stand-in. The fake Slack Web API lives in sandbox/fake_slack/.
"""

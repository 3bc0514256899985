"""Many workspaces: leaving (uninstall events) and a workspace's data on request (CLI).

The OAuth install itself is Bolt's flow, set up in bot/app.py from bot/workspaces/installs.py.
"""

from __future__ import annotations

from bot.features import Feature
from bot.workspaces import cli, listeners

FEATURE = Feature(name="workspaces", listeners=listeners.register, commands=(cli.workspace,))

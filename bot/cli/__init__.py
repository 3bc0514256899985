"""The `postmortem-bot` command line: main.py wires the commands; db, workflows, serve here,
each feature's own commands in its package's cli.py."""

"""The Slack side: the Bolt app, the CLI and background jobs, one package per feature.

Layout (README: How the code is organised): app.py wires every feature's feature.py; features.py
is the contract a feature fulfils; config.py reads every environment variable; server.py serves
HTTP or Socket Mode; slack/ holds what all features share; cli/ the operators' commands."""

"""What an operator watches: Prometheus metrics (`metrics.py`) and structured logs (`logs.py`).

Nothing here knows a feature: features, the Slack client and the server report into the
`Metrics` object their runtime owns, and the log context is set by the request's entry point.
"""

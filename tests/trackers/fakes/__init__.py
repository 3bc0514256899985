"""Local fakes of the trackers' APIs, written from their public documentation.

Each refuses what the real service refuses (the wrong auth scheme, a missing required field, a
malformed date...) and can be told to answer 5xx, to rate-limit, or to drop its answer after
doing the work, so the bot's retries can be tested against the exact failures that matter.
"""

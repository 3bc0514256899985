"""What the sandbox page's actions answer, without a browser."""

from __future__ import annotations

import pytest

from sandbox.server import Running


def test_the_digest_clock_answers_in_words(sandbox: Running,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTMORTEM_DIGEST_CHANNEL", "C0REVIEWS")
    clock = {"kind": "clock", "person": "U0ADMIN", "job": "digest", "at": "2026-12-01T08:00"}
    first = sandbox.sandbox.act(clock)["notice"]
    again = sandbox.sandbox.act(clock)["notice"]
    assert first.endswith(": posted the digest for the meeting on Wed 2 Dec 10:00 AEDT")
    assert again.endswith("was already posted (once per meeting), nothing sent")
    assert "already:" not in again

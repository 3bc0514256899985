"""How people read dates in Slack: one format everywhere."""

from __future__ import annotations

from datetime import date

from bot.slack.text import day_text


def test_a_date_this_year_has_no_year_and_another_year_does() -> None:
    today = date(2026, 12, 9)
    assert day_text(date(2026, 12, 11), today) == "Fri 11 Dec"
    assert day_text(date(2026, 1, 5), today) == "Mon 5 Jan"
    assert day_text(date(2027, 1, 4), today) == "Mon 4 Jan 2027"
    assert day_text(date(2025, 12, 31), today) == "Wed 31 Dec 2025"

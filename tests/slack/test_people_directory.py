"""Timezones for many people from users.list pages, read once a day and kept current by events."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from bot.directory.listeners import user_changed
from bot.slack.people import People

DAY = 24 * 3600


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Directory:
    """users.list in pages (cursor = offset, as Slack's opaque cursor), and users.info."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.calls: list[str] = []
        self.on_page: Callable[[int], None] = lambda n: None

    def member(self, user_id: str) -> dict[str, Any]:
        return {"id": user_id, "tz": self.users[user_id]}

    def users_list(self, *, limit: int, cursor: str | None = None) -> dict[str, Any]:
        self.calls.append("users.list")
        start = int(cursor or 0)
        ids = list(self.users)[start : start + limit]
        self.on_page(len([c for c in self.calls if c == "users.list"]))
        more = start + limit < len(self.users)
        return {
            "members": [self.member(u) for u in ids],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def users_info(self, *, user: str) -> dict[str, Any]:
        self.calls.append("users.info")
        return {"user": self.member(user)}


def people_with(users: dict[str, str]) -> tuple[People, Directory, Clock]:
    slack, clock = Directory(users), Clock()
    return People(slack, clock=clock, page_size=3), slack, clock  # type: ignore[arg-type]


OWNERS = {f"U{n}": "Australia/Perth" if n % 2 else "Australia/Sydney" for n in range(7)}


def test_many_timezones_come_from_users_list_pages_not_one_call_each() -> None:
    people, slack, _ = people_with(OWNERS)
    zones = people.timezones(list(OWNERS), "UTC")
    assert zones == OWNERS
    assert slack.calls == ["users.list"] * 3  # 7 people, 3 a page
    # The rest of the sweep asks one at a time: answered from the directory.
    assert [people.timezone(u, "UTC") for u in OWNERS] == list(OWNERS.values())
    assert slack.calls == ["users.list"] * 3


def test_the_directory_is_read_again_a_day_later_and_newcomers_are_looked_up() -> None:
    people, slack, clock = people_with(dict(OWNERS))
    people.timezones(["U0"], "UTC")
    slack.users["U9"] = "Australia/Darwin"  # joined after the directory was read
    assert people.timezones(["U0", "U9"], "UTC") == {
        "U0": "Australia/Sydney",
        "U9": "Australia/Darwin",
    }
    assert slack.calls == ["users.list"] * 3 + ["users.info"]
    clock.now += DAY - 1
    slack.users["U0"] = "Asia/Tokyo"
    assert people.timezones(["U0"], "UTC") == {"U0": "Australia/Sydney"}
    clock.now += 1
    assert people.timezones(["U0"], "UTC") == {"U0": "Asia/Tokyo"}
    assert slack.calls.count("users.list") == 3 + 3  # read again, with the newcomer


def test_a_user_change_event_is_seen_at_once_without_asking_slack() -> None:
    people, slack, _ = people_with(OWNERS)
    people.timezones(list(OWNERS), "UTC")
    rt = SimpleNamespace(people=people)
    event = {"type": "user_change", "user": {"id": "U1", "tz": "Europe/London"}}
    user_changed(event=event, rt=rt)  # type: ignore[arg-type]
    calls = len(slack.calls)
    assert people.timezone("U1", "UTC") == "Europe/London"
    assert people.timezones(["U1"], "UTC") == {"U1": "Europe/London"}
    assert people.info("U1") == {"id": "U1", "tz": "Europe/London"}  # admin checks see it too
    assert len(slack.calls) == calls


def test_a_change_heard_while_the_pages_are_read_is_not_undone_by_an_older_page() -> None:
    people, slack, _ = people_with(OWNERS)

    def move_u0(page: int) -> None:  # U0 was on page 1, already read
        if page == 2:
            people.user_changed({"id": "U0", "tz": "Pacific/Auckland"})

    slack.on_page = move_u0
    assert people.timezones(["U0"], "UTC") == {"U0": "Pacific/Auckland"}

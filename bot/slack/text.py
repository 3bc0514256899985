"""Safe text for Slack: user text is escaped before it goes into mrkdwn, and limits are kept."""

from __future__ import annotations

from datetime import UTC, date, datetime


def escape(text: str) -> str:
    """Slack's three control characters, so nobody pings <!channel> through a form."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Shorten cleanly: on a word boundary where one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def link(url: str, label: str) -> str:
    """A mrkdwn link whose label is user text (escaped; `|` would end the label early)."""
    return f"<{url}|{escape(label).replace('|', '¦')}>"


def chunks(text: str, size: int) -> list[str]:
    """Split on line ends where possible, each piece at most `size` characters (a section's
    3,000)."""
    out: list[str] = []
    while text:
        if len(text) <= size:
            out.append(text)
            break
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > size // 2 else size
        out.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return out


def day_text(day: date, today: date | None = None) -> str:
    """A date as people read it, the same everywhere in Slack: "Fri 11 Dec", with the year only
    when it is not `today`'s ("Mon 4 Jan 2027"). `today` is the reader's (their timezone, or the
    clock a job runs as of), so a December reminder about a January due date shows the year;
    without it, today in UTC. ISO dates are for exports and files, never for people."""
    today = today or datetime.now(UTC).date()
    text = f"{day:%a} {day.day} {day:%b}"
    return text if day.year == today.year else f"{text} {day.year}"

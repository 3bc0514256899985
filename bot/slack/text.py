"""Safe text for Slack: user text is escaped before it goes into mrkdwn, and limits are kept."""

from __future__ import annotations

from datetime import date


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


def day_label(d: date, today: date) -> str:
    """A day as people read it: "Fri 11 Dec", with the year only when it is not `today`'s year.

    The one date format for people in every message, form and report (exports keep ISO dates,
    which machines read). Pass a datetime already converted to the reader's time zone.
    """
    label = f"{d:%a} {d.day} {d:%b}"
    return label if d.year == today.year else f"{label} {d.year}"

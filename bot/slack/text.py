"""Safe text for Slack: user text is escaped before it goes into mrkdwn, and limits are kept."""

from __future__ import annotations


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

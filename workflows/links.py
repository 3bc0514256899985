"""Web links from outside (a helpdesk's ticket, a form's link field), checked before use.

Links end up inside Slack's `<url|label>` syntax and in exported pages, so a link that is not
plainly a web address can break out of it: `https://help.example.com/t/9><!channel>` would
ping a whole channel, and `…|click` would replace the label. Such a link is refused where it
comes in, not repaired where it is shown.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Whitespace, control characters, and what ends or splits a Slack link or an HTML attribute.
UNSAFE = re.compile(r"[\s\x00-\x1f\x7f<>|\"]")
HOST = re.compile(r"^[\w.-]+$")


def link_problem(text: str) -> str | None:
    """Why `text` is not a plain http(s) link with a host, or None when it is."""
    if UNSAFE.search(text):
        return 'must not contain spaces, control characters or the characters < > | "'
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # a bad port or an unclosed [IPv6 address
        return "is not a valid link"
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "must be a full link starting with https:// or http://"
    if "@" in parts.netloc:
        return "must not contain a user name or password"
    host = parts.hostname or ""
    if not (HOST.match(host) or parts.netloc.startswith("[")) or not port_ok:
        return "must name a host, e.g. https://help.example.com/…"
    return None

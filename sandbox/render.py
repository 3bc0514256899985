"""Block Kit to HTML for the sandbox page: messages, modals and the App Home.

Rendering happens here, in Python, so the page's script stays small and every view and message
the bot produces can be checked in a plain test (`UNSUPPORTED` marks anything not drawn). All
text is HTML-escaped; links only keep http(s) and mailto schemes, and the fake's permalinks
become in-page anchors.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.fake_slack.state import VALUE_KEYS, initial_entry
from sandbox.fake_slack.store import BOT_USER_ID, PERMALINK_HOST

UNSUPPORTED = "bk-unsupported"
EMOJI = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "arrow_forward": "▶️",
    "white_circle": "⚪",
    "tada": "🎉",
    "warning": "⚠️",
    "alarm_clock": "⏰",
    "calendar": "📆",
    "date": "📅",
    "bell": "🔔",
    "rotating_light": "🚨",
    "no_entry": "⛔",
    "x": "❌",
    "memo": "📝",
    "bulb": "💡",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "clipboard": "📋",
    "pushpin": "📌",
    "eyes": "👀",
    "+1": "👍",
    "thumbsup": "👍",
    "wave": "👋",
    "rocket": "🚀",
    "bar_chart": "📊",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "red_circle": "🔴",
    "information_source": "ℹ️",
    "lock": "🔒",
    "moneybag": "💰",
    "receipt": "🧾",
    "email": "📧",
    "link": "🔗",
    "speech_balloon": "💬",
    "checkered_flag": "🏁",
    "star": "⭐",
    "sparkles": "✨",
    "spiral_calendar_pad": "🗓️",
    "arrows_counterclockwise": "🔄",
    "mag": "🔍",
    "leftwards_arrow_with_hook": "↩️",
    "heavy_plus_sign": "➕",
    "hammer_and_wrench": "🛠️",
}
# What a machine without an emoji font shows instead (the page detects that and swaps these in
# with CSS): characters ordinary text fonts have, else the emoji's :name: as Slack writes it.
EMOJI_TEXT = {
    "white_check_mark": "✓",
    "heavy_check_mark": "✓",
    "arrow_forward": "▶",
    "white_circle": "○",
    "tada": "★",
    "warning": "⚠",
    "alarm_clock": "⏰",
    "calendar": "▦",
    "date": "▦",
    "bell": "♪",
    "rotating_light": "‼",
    "no_entry": "⛔",
    "x": "✗",
    "memo": "✎",
    "bulb": "☀",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⌛",
    "clipboard": "☰",
    "pushpin": "•",
    "eyes": "◉",
    "+1": "+1",
    "thumbsup": "+1",
    "wave": "~",
    "rocket": "➚",
    "bar_chart": "▤",
    "large_green_circle": "●",
    "large_yellow_circle": "●",
    "red_circle": "●",
    "information_source": "ℹ",
    "lock": "⚿",
    "moneybag": "$",
    "receipt": "▤",
    "email": "✉",
    "link": "⚭",
    "speech_balloon": "✉",
    "checkered_flag": "⚑",
    "star": "★",
    "sparkles": "✧",
    "spiral_calendar_pad": "▦",
    "arrows_counterclockwise": "↻",
    "mag": "⌕",
    "leftwards_arrow_with_hook": "↩",
    "heavy_plus_sign": "+",
    "hammer_and_wrench": "⚒",
}
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_SPECIAL = re.compile(r"<([^<>\n]+)>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_HOLD = re.compile(r"\x00(\d+)\x00")
_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
_PERMALINK = re.compile(re.escape(PERMALINK_HOST) + r"/archives/([A-Z0-9]+)/p(\d+?)(\d{6})$")


@dataclass
class Directory:
    """Names for ids, and the people and channels the select menus offer."""

    users: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    people: list[tuple[str, str]] = field(default_factory=list)
    conversations: list[tuple[str, str]] = field(default_factory=list)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Australia/Sydney"))

    @classmethod
    def of(cls, workspace: Any, tz: ZoneInfo | None = None) -> Directory:
        """From a FakeSlack workspace (call with the fake's lock held)."""
        users = {uid: u.get("real_name") or u["name"] for uid, u in workspace.users.items()}
        channels = {cid: c["name"] for cid, c in workspace.channels.items() if c.get("name")}
        people = [
            (uid, users[uid])
            for uid, u in workspace.users.items()
            if not u.get("is_bot") and not u.get("deleted")
        ]
        convs = [(cid, f"#{name}") for cid, name in channels.items()]
        return cls(users, channels, people, convs, tz or ZoneInfo("Australia/Sydney"))


def esc(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _unentity(text: str) -> str:
    """Slack's own three escapes, undone before HTML escaping."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _emoji(name: str) -> str:
    glyph = EMOJI.get(name)
    if glyph is None:
        return f":{name}:"
    text = esc(EMOJI_TEXT.get(name, f":{name}:"))
    return f'<span class="emoji" title=":{esc(name)}:" data-text="{text}">{glyph}</span>'


def emoji(text_html: str) -> str:
    """Slack's :names: as emoji, each carrying a text stand-in for machines without an emoji
    font (the page shows those when it finds no colour glyphs: static/app.js)."""
    return _EMOJI.sub(lambda m: _emoji(m[1]), text_html)


def _href(url: str) -> tuple[str, str] | None:
    """(href, extra attributes) for a URL the page may link to, or None."""
    found = _PERMALINK.match(url)
    if found:
        channel, ts = found[1], f"{found[2]}.{found[3]}"
        return f"#msg-{channel}-{ts}", f' class="permalink" data-channel="{esc(channel)}"'
    if _SAFE_URL.match(url):
        return url, ' target="_blank" rel="noopener noreferrer"'
    return None


def _special(token: str, d: Directory) -> str:
    target, _, label = token.partition("|")
    if target.startswith("@"):
        name = d.users.get(target[1:], label or target[1:])
        return f'<span class="mention">@{esc(name)}</span>'
    if target.startswith("#"):
        name = d.channels.get(target[1:], label or target[1:])
        return f'<span class="mention">#{esc(name)}</span>'
    if target.startswith("!"):
        word = target[1:].split("^")[0]
        shown = label or (f"@{word}" if word in ("here", "channel", "everyone") else word)
        return f'<span class="mention">{esc(_unentity(shown))}</span>'
    link = _href(_unentity(target))
    shown = emoji(esc(_unentity(label or target)))
    if link is None:
        return shown
    return f'<a href="{esc(link[0])}"{link[1]}>{shown}</a>'


def mrkdwn(text: str | None, d: Directory) -> str:
    """Slack mrkdwn as HTML: bold, italics, strike, code, links, mentions, emoji, quotes."""
    held: list[str] = []

    def hold(markup: str) -> str:
        held.append(markup)
        return f"\x00{len(held) - 1}\x00"

    text = (text or "").replace("\x00", "")
    text = re.sub(
        r"```(.+?)```", lambda m: hold(f"<pre>{esc(_unentity(m[1]))}</pre>"), text, flags=re.DOTALL
    )
    text = re.sub(r"`([^`\n]+)`", lambda m: hold(f"<code>{esc(_unentity(m[1]))}</code>"), text)
    text = _SPECIAL.sub(lambda m: hold(_special(m[1], d)), text)
    lines = []
    for line in text.split("\n"):
        # Slack quotes a line that starts with a raw ">" (a space after it is optional); a ">"
        # the user typed arrives escaped as "&gt;" and stays a character.
        quote = line.startswith(">")
        if quote:
            line = line[2:] if line.startswith("> ") else line[1:]
        out = esc(_unentity(line))
        out = _BOLD.sub(r"<b>\1</b>", out)
        out = _ITALIC.sub(r"<i>\1</i>", out)
        out = _STRIKE.sub(r"<s>\1</s>", out)
        out = emoji(out)
        lines.append(f'<span class="quote">{out}</span>' if quote else out)
    return _HOLD.sub(lambda m: held[int(m[1])], "<br>".join(lines))


def text_object(obj: Any, d: Directory) -> str:
    if isinstance(obj, str):
        return emoji(esc(obj))
    if not isinstance(obj, dict):
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn(obj.get("text"), d)
    return emoji(esc(obj.get("text")))


def plain(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return "" if obj is None else str(obj)


def unsupported(kind: str, name: Any) -> str:
    return (
        f'<div class="{UNSUPPORTED}" data-unsupported="{esc(kind)}:{esc(name)}">'
        f"Unsupported {esc(kind)}: {esc(name)}</div>"
    )


# -- elements ------------------------------------------------------------------------------
def _options(element: dict) -> Iterable[tuple[str | None, dict]]:
    for opt in element.get("options") or []:
        yield None, opt
    for group in element.get("option_groups") or []:
        for opt in group.get("options") or []:
            yield plain(group.get("label")), opt


def _chosen(element: dict, entry: dict | None) -> set[str]:
    """The values an element currently holds (typed state first, else its initial_*)."""
    etype = element.get("type", "")
    if etype not in VALUE_KEYS:
        return set()
    item = entry if entry is not None else initial_entry(element)
    value = item.get(VALUE_KEYS[etype])
    values = value if isinstance(value, list) else [value]
    out = set()
    for v in values:
        if isinstance(v, dict):
            v = v.get("value")
        if v not in (None, ""):
            out.add(str(v))
    return out


def has_value(element: dict, entry: dict | None) -> bool:
    """Does the element hold an answer (typed, or its initial value)?"""
    return bool(_chosen(element, entry))


def _attrs(block: dict, element: dict, fires: bool) -> str:
    out = (
        f' data-type="{esc(element.get("type"))}" data-block-id="{esc(block.get("block_id"))}"'
        f' data-action-id="{esc(element.get("action_id"))}"'
    )
    return out + (' data-fires="1"' if fires else "")


def _select(block: dict, element: dict, entry: dict | None, d: Directory, fires: bool) -> str:
    etype = element["type"]
    multi = etype.startswith("multi_")
    chosen = _chosen(element, entry)
    choices: list[tuple[str | None, dict]]
    if etype in ("users_select", "multi_users_select"):
        choices = [(None, {"value": uid, "text": name}) for uid, name in d.people]
    elif etype.endswith(("conversations_select", "channels_select")):
        choices = [(None, {"value": cid, "text": name}) for cid, name in d.conversations]
    else:
        choices = list(_options(element))
    parts, group_open = [], None
    if not multi:
        placeholder = plain(element.get("placeholder")) or "Select an item"
        parts.append(f'<option value="">{esc(placeholder)}</option>')
    for group, opt in choices:
        if group != group_open:
            if group_open is not None:
                parts.append("</optgroup>")
            if group is not None:
                parts.append(f'<optgroup label="{esc(group)}">')
            group_open = group
        value = str(opt.get("value"))
        selected = " selected" if value in chosen else ""
        parts.append(
            f'<option value="{esc(value)}"{selected}>{esc(plain(opt.get("text")))}</option>'
        )
    if group_open is not None:
        parts.append("</optgroup>")
    size = f' multiple size="{min(max(len(choices), 2), 5)}"' if multi else ""
    return (
        f'<select class="bk-select"{size}{_attrs(block, element, fires)}>{"".join(parts)}</select>'
    )


def _choices(block: dict, element: dict, entry: dict | None, d: Directory, fires: bool) -> str:
    etype = element["type"]
    kind = "radio" if etype == "radio_buttons" else "checkbox"
    name = f"{block.get('block_id')}::{element.get('action_id')}"
    chosen = _chosen(element, entry)
    rows = []
    for _, opt in _options(element):
        value = str(opt.get("value"))
        checked = " checked" if value in chosen else ""
        desc = opt.get("description")
        rows.append(
            f'<label class="bk-choice"><input type="{kind}" name="{esc(name)}" '
            f'value="{esc(value)}"{checked}> <span>{text_object(opt.get("text"), d)}'
            + (f"<small>{text_object(desc, d)}</small>" if desc else "")
            + "</span></label>"
        )
    return f'<div class="bk-choices"{_attrs(block, element, fires)}>{"".join(rows)}</div>'


def _text_input(block: dict, element: dict, entry: dict | None, fires: bool) -> str:
    etype = element["type"]
    current = next(iter(_chosen(element, entry)), "")
    if etype == "rich_text_input":
        current = _rich_text_plain(
            (entry or {}).get("rich_text_value") or element.get("initial_value")
        )
    placeholder = esc(plain(element.get("placeholder")))
    common = f'{_attrs(block, element, fires)} placeholder="{placeholder}"'
    if etype == "plain_text_input":
        limits = ""
        if element.get("max_length"):
            limits += f' maxlength="{int(element["max_length"])}"'
        if element.get("min_length"):
            limits += f' minlength="{int(element["min_length"])}"'
        if element.get("multiline"):
            return f'<textarea class="bk-input" rows="4"{common}{limits}>{esc(current)}</textarea>'
        return f'<input class="bk-input" type="text"{common}{limits} value="{esc(current)}">'
    if etype == "rich_text_input":
        return f'<textarea class="bk-input" rows="4"{common}>{esc(current)}</textarea>'
    if etype == "number_input":
        step = "any" if element.get("is_decimal_allowed") else "1"
        bounds = "".join(
            f' {attr}="{esc(element[key])}"'
            for key, attr in (("min_value", "min"), ("max_value", "max"))
            if key in element
        )
        return (
            f'<input class="bk-input" type="number" step="{step}"{bounds}{common} '
            f'value="{esc(current)}">'
        )
    kind = {"url_text_input": "url", "email_text_input": "email"}[etype]
    return f'<input class="bk-input" type="{kind}"{common} value="{esc(current)}">'


def _rich_text_plain(value: Any) -> str:
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                out.append(str(node.get("text", "")))
            for child in node.get("elements") or []:
                walk(child)

    walk(value)
    return "".join(out)


def element(
    block: dict, el: Any, d: Directory, *, entry: dict | None = None, fires: bool = True
) -> str:
    """One Block Kit element; `fires` sends a block_actions as soon as it is used."""
    if not isinstance(el, dict):
        return unsupported("element", type(el).__name__)
    etype = el.get("type")
    if etype in ("button", "workflow_button"):
        style = el.get("style") or "default"
        extra = f' data-value="{esc(el["value"])}"' if "value" in el else ""
        link = _href(el["url"]) if el.get("url") else None
        if link:
            extra += f' data-url="{esc(link[0])}"'
        return (
            f'<button type="button" class="bk-btn bk-btn-{esc(style)}"'
            f"{_attrs(block, el, True)}{extra}>{text_object(el.get('text'), d)}</button>"
        )
    if etype == "overflow":
        opts = "".join(
            f'<option value="{esc(o.get("value"))}">{esc(plain(o.get("text")))}</option>'
            for _, o in _options(el)
        )
        return (
            f'<select class="bk-overflow" title="More actions"{_attrs(block, el, True)}>'
            f'<option value="" selected>⋯</option>{opts}</select>'
        )
    if etype in (
        "static_select",
        "external_select",
        "multi_static_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
    ):
        return _select(block, el, entry, d, fires)
    if etype in ("radio_buttons", "checkboxes"):
        return _choices(block, el, entry, d, fires)
    if etype in (
        "plain_text_input",
        "number_input",
        "url_text_input",
        "email_text_input",
        "rich_text_input",
    ):
        return _text_input(block, el, entry, fires)
    if etype in ("datepicker", "timepicker"):
        kind = "date" if etype == "datepicker" else "time"
        current = next(iter(_chosen(el, entry)), "")
        label = esc(plain(el.get("placeholder")))
        return (
            f'<input class="bk-input bk-{kind}" type="{kind}" title="{label}"'
            f'{_attrs(block, el, fires)} value="{esc(current)}">'
        )
    if etype == "image":
        return f'<span class="bk-image" title="image">[{esc(el.get("alt_text"))}]</span>'
    return unsupported("element", etype)


# -- blocks --------------------------------------------------------------------------------
def _entry(state: dict, block: dict, el: dict) -> dict | None:
    return state.get(block.get("block_id"), {}).get(el.get("action_id"))


def block(
    b: Any, d: Directory, *, state: dict | None = None, errors: dict[str, str] | None = None
) -> str:
    if not isinstance(b, dict):
        return unsupported("block", type(b).__name__)
    state = state or {}
    btype = b.get("type")
    bid = esc(b.get("block_id"))
    opening = f'<div class="bk bk-{esc(btype)}" data-block-id="{bid}">'
    if btype == "header":
        return f"{opening}{text_object(b.get('text'), d)}</div>"
    if btype == "divider":
        return f'<hr class="bk bk-divider" data-block-id="{bid}">'
    if btype == "section":
        inner = ""
        if b.get("text"):
            inner += f'<div class="bk-text">{text_object(b["text"], d)}</div>'
        if b.get("fields"):
            inner += (
                '<div class="bk-fields">'
                + "".join(f"<div>{text_object(f, d)}</div>" for f in b["fields"])
                + "</div>"
            )
        accessory = ""
        if b.get("accessory"):
            acc = b["accessory"]
            accessory = (
                '<div class="bk-accessory">'
                + element(b, acc, d, entry=_entry(state, b, acc))
                + "</div>"
            )
        return f'{opening}<div class="bk-section-main">{inner}</div>{accessory}</div>'
    if btype == "context":
        parts = []
        for el in b.get("elements") or []:
            if isinstance(el, dict) and el.get("type") == "image":
                parts.append(element(b, el, d))
            elif isinstance(el, dict) and el.get("type") in ("mrkdwn", "plain_text"):
                parts.append(f"<span>{text_object(el, d)}</span>")
            else:
                parts.append(unsupported("element", el.get("type") if isinstance(el, dict) else el))
        return opening + "".join(parts) + "</div>"
    if btype == "actions":
        parts = [
            element(b, el, d, entry=_entry(state, b, el) if isinstance(el, dict) else None)
            for el in b.get("elements") or []
        ]
        return opening + "".join(parts) + "</div>"
    if btype == "input":
        return _input_block(b, d, state, errors or {})
    if btype == "image":
        title = f"<div>{text_object(b['title'], d)}</div>" if b.get("title") else ""
        return f'{opening}{title}<div class="bk-image">[{esc(b.get("alt_text"))}]</div></div>'
    if btype == "rich_text":
        return f"{opening}{esc(_rich_text_plain(b))}</div>"
    return unsupported("block", btype)


def _input_block(b: dict, d: Directory, state: dict, errors: dict[str, str]) -> str:
    el = b.get("element") or {}
    bid = b.get("block_id")
    optional = ' <span class="bk-optional">(optional)</span>' if b.get("optional") else ""
    hint = f'<div class="bk-hint">{text_object(b["hint"], d)}</div>' if b.get("hint") else ""
    error = f'<div class="bk-error" role="alert">{esc(errors[bid])}</div>' if bid in errors else ""
    invalid = " bk-invalid" if error else ""
    control = element(b, el, d, entry=_entry(state, b, el), fires=bool(b.get("dispatch_action")))
    return (
        f'<div class="bk bk-input-block{invalid}" data-block-id="{esc(bid)}" '
        f'data-input="1"><label class="bk-label">{text_object(b.get("label"), d)}'
        f"{optional}</label>{control}{hint}{error}</div>"
    )


def blocks(
    items: Any, d: Directory, *, state: dict | None = None, errors: dict[str, str] | None = None
) -> str:
    if not isinstance(items, list):
        return ""
    return "".join(block(b, d, state=state, errors=errors) for b in items)


# -- surfaces ------------------------------------------------------------------------------
def _initials(name: str) -> str:
    return "".join(w[0] for w in name.split()[:2]).upper() or "?"


def message(
    msg: dict,
    channel: str,
    d: Directory,
    *,
    replies: list[dict] | None = None,
    ephemeral: bool = False,
) -> str:
    """One message: author, time, blocks (or its text when it has none), thread replies."""
    user = msg.get("user") or BOT_USER_ID
    is_bot = user == BOT_USER_ID or bool(msg.get("bot_id"))
    name = "Postmortem Bot" if is_bot else d.users.get(user, user)
    ts = str(msg.get("ts", ""))
    try:
        when = datetime.fromtimestamp(float(ts), tz=UTC).astimezone(d.tz).strftime("%H:%M")
    except ValueError:
        when = ""
    meta = [f'<b class="msg-author">{esc(name)}</b>']
    if is_bot:
        meta.append('<span class="msg-app">APP</span>')
    meta.append(f'<time title="{esc(ts)}">{esc(when)}</time>')
    if msg.get("edited"):
        meta.append('<span class="msg-edited">(edited)</span>')
    if ephemeral:
        meta.append('<span class="msg-ephemeral">Only visible to you</span>')
    body = (
        blocks(msg["blocks"], d)
        if msg.get("blocks")
        else f'<div class="bk-text">{mrkdwn(msg.get("text"), d)}</div>'
    )
    body += "".join(file_card(f) for f in msg.get("files") or [] if isinstance(f, dict))
    thread = ""
    if replies:
        count = len(replies)
        noun = "reply" if count == 1 else "replies"
        thread = (
            f'<button type="button" class="thread-toggle" data-thread="{esc(ts)}">'
            f'{count} {noun}</button><div class="thread" data-thread-of="{esc(ts)}">'
            + "".join(message(r, channel, d) for r in replies)
            + "</div>"
        )
    avatar = "PB" if is_bot else _initials(name)
    classes = "msg" + (" msg-ephemeral-box" if ephemeral else "")
    return (
        f'<div class="{classes}" id="msg-{esc(channel)}-{esc(ts)}" '
        f'data-channel="{esc(channel)}" data-ts="{esc(ts)}"'
        + (' data-ephemeral="1"' if ephemeral else "")
        + ">"
        f'<div class="avatar{" avatar-bot" if is_bot else ""}">{esc(avatar)}</div>'
        f'<div class="msg-main"><div class="msg-meta">{" ".join(meta)}</div>{body}'
        f"{thread}</div></div>"
    )


def _size(size: Any) -> str:
    try:
        n = int(size)
    except (TypeError, ValueError):
        return ""
    return f"{n} bytes" if n < 1024 else f"{n / 1024:.1f} kB"


def file_card(info: dict) -> str:
    """A file shared in a message (an export, say): its title, name and a download link served
    by the sandbox (`/api/file`)."""
    name = str(info.get("name") or "file")
    title = str(info.get("title") or name)
    size = _size(info.get("size"))
    return (
        f'<div class="msg-file" data-file-id="{esc(info.get("id"))}">'
        f'<span class="file-icon" aria-hidden="true">&#128196;</span> '
        f'<a href="/api/file?id={esc(info.get("id"))}" download="{esc(name)}">'
        f"{esc(title)}</a> <small>{esc(name)}{' · ' + size if size else ''}</small></div>"
    )


def home(view: dict | None, d: Directory) -> str:
    if not view:
        return '<div class="empty">Opening the Home tab…</div>'
    return (
        f'<div class="surface surface-home" data-view-id="{esc(view.get("id"))}">'
        + blocks(view.get("blocks"), d, state=(view.get("state") or {}).get("values"))
        + "</div>"
    )


def modal(
    view: dict,
    d: Directory,
    *,
    errors: dict[str, str] | None = None,
    depth: int = 1,
    example: bool = False,
) -> str:
    """The top modal of a person's stack, filled with what they have typed so far."""
    state = (view.get("state") or {}).get("values") or {}
    title = text_object(view.get("title"), d)
    close = plain(view.get("close")) or ("Back" if depth > 1 else "Cancel")
    buttons = []
    if example:
        buttons.append(
            '<button type="button" class="btn-example" data-example="1">'
            "Fill with example answers</button>"
        )
    buttons.append(f'<button type="button" class="btn-close" data-close="1">{esc(close)}</button>')
    if view.get("submit"):
        buttons.append(
            f'<button type="button" class="btn-submit" data-submit="1">'
            f"{esc(plain(view['submit']))}</button>"
        )
    back = (
        f'<span class="modal-depth" title="views pushed on this one">{depth} of {depth}</span>'
        if depth > 1
        else ""
    )
    ids = f'data-view-id="{esc(view.get("id"))}" data-callback-id="{esc(view.get("callback_id"))}"'
    return (
        f'<div class="modal" role="dialog" aria-label="{esc(plain(view.get("title")))}" '
        f"{ids}>"
        f'<header class="modal-head"><h2>{title}</h2>{back}'
        f'<button type="button" class="modal-x" data-close="1" aria-label="Close">×</button>'
        f'</header><div class="modal-body">'
        + blocks(view.get("blocks"), d, state=state, errors=errors)
        + f'</div><footer class="modal-foot">{"".join(buttons)}</footer></div>'
    )

"""Block Kit limits, checked the way Slack checks them.

``problems(kind, payload)`` is a pure function: it returns a list of messages in
Slack's ``response_metadata.messages`` style, e.g.
``"[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"``.
An empty list means Slack would accept the payload.

``kind`` is ``"message"`` (payload: the chat.* arguments, or a bare block list),
``"modal"`` or ``"home"`` (payload: the view object). View pointers start with
``/view`` as Slack's do.
"""

from __future__ import annotations

import json
from typing import Any

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
MAX_MESSAGE_TEXT = 40000

BLOCK_TYPES = frozenset(
    {
        "section",
        "header",
        "divider",
        "context",
        "actions",
        "input",
        "image",
        "rich_text",
        "file",
        "video",
    }
)

SELECT_TYPES = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
TEXT_INPUT_TYPES = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input", "rich_text_input"}
)
PICKER_TYPES = frozenset({"datepicker", "timepicker", "datetimepicker"})

# Element types allowed in each place (Block Kit reference, "compatible blocks").
ACCESSORY_ELEMENTS = (
    SELECT_TYPES
    | PICKER_TYPES - {"datetimepicker"}
    | {"button", "checkboxes", "image", "overflow", "radio_buttons", "workflow_button"}
)
ACTIONS_ELEMENTS = (
    SELECT_TYPES
    | PICKER_TYPES
    | {
        "button",
        "checkboxes",
        "overflow",
        "plain_text_input",
        "radio_buttons",
        "rich_text_input",
        "workflow_button",
    }
)
INPUT_ELEMENTS = (
    SELECT_TYPES | PICKER_TYPES | TEXT_INPUT_TYPES | {"checkboxes", "radio_buttons", "file_input"}
)
ELEMENT_TYPES = ACCESSORY_ELEMENTS | ACTIONS_ELEMENTS | INPUT_ELEMENTS

MAX_OPTIONS = {
    "static_select": 100,
    "multi_static_select": 100,
    "radio_buttons": 10,
    "checkboxes": 10,
    "overflow": 5,
}
MIN_OPTIONS = {"overflow": 2}


class _Checker:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.problems: list[str] = []
        self.block_ids: set[str] = set()

    # -- reporting -----------------------------------------------------------------
    def error(self, message: str, pointer: str) -> None:
        self.problems.append(f"[ERROR] {message} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.error(f"must be less than {limit + 1} characters", pointer)

    def max_items(self, items: Any, limit: int, pointer: str) -> None:
        if isinstance(items, list) and len(items) > limit:
            self.error(f"no more than {limit} items allowed", pointer)

    def need_list(self, obj: dict, key: str, pointer: str, *, min_items: int = 1) -> list:
        value = obj.get(key)
        if value is None:
            self.error(f"missing required field: {key}", pointer)
            return []
        if not isinstance(value, list):
            self.error("must provide an array", f"{pointer}/{key}")
            return []
        if len(value) < min_items:
            self.error(f"must provide at least {min_items} items", f"{pointer}/{key}")
        return value

    # -- composition objects -------------------------------------------------------
    def text(
        self,
        obj: Any,
        pointer: str,
        *,
        limit: int,
        plain_only: bool = False,
    ) -> None:
        if not isinstance(obj, dict):
            self.error("must provide an object", pointer)
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.error(f"must be one of {', '.join(allowed)}", f"{pointer}/type")
        text = obj.get("text")
        if text is None:
            self.error("missing required field: text", pointer)
        elif not isinstance(text, str):
            self.error("must provide a string", f"{pointer}/text")
        elif not text:
            self.error("must be more than 0 characters", f"{pointer}/text")
        else:
            self.max_len(text, limit, f"{pointer}/text")

    def option(self, opt: Any, pointer: str, *, plain_only: bool) -> None:
        if not isinstance(opt, dict):
            self.error("must provide an object", pointer)
            return
        if "text" not in opt:
            self.error("missing required field: text", pointer)
        else:
            self.text(opt["text"], f"{pointer}/text", limit=75, plain_only=plain_only)
        if "value" not in opt:
            self.error("missing required field: value", pointer)
        else:
            self.max_len(opt["value"], 150, f"{pointer}/value")
        if "description" in opt:
            self.text(opt["description"], f"{pointer}/description", limit=75, plain_only=plain_only)

    # -- elements ------------------------------------------------------------------
    def element(self, el: Any, pointer: str, allowed: frozenset[str]) -> str | None:
        if not isinstance(el, dict):
            self.error("must provide an object", pointer)
            return None
        etype = el.get("type")
        if etype not in ELEMENT_TYPES:
            self.error(f"unsupported type: {etype}", f"{pointer}/type")
            return None
        if etype not in allowed:
            self.error(f"unsupported type: {etype}", f"{pointer}/type")
            return None
        action_id = el.get("action_id")
        if action_id is not None:
            self.max_len(action_id, 255, f"{pointer}/action_id")
        if "placeholder" in el:
            self.text(el["placeholder"], f"{pointer}/placeholder", limit=150, plain_only=True)
        if "confirm" in el:
            self.confirm(el["confirm"], f"{pointer}/confirm")

        if etype == "button":
            if "text" not in el:
                self.error("missing required field: text", pointer)
            else:
                self.text(el["text"], f"{pointer}/text", limit=75, plain_only=True)
            self.max_len(el.get("value"), 2000, f"{pointer}/value")
            self.max_len(el.get("url"), 3000, f"{pointer}/url")
            style = el.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.error("must be one of primary, danger", f"{pointer}/style")
        elif etype == "image":
            self.image_fields(el, pointer)
        elif etype in MAX_OPTIONS:
            self.options_of(el, etype, pointer)
        elif etype == "plain_text_input":
            self.plain_text_input(el, pointer)
        return etype

    def options_of(self, el: dict, etype: str, pointer: str) -> None:
        plain_only = etype not in ("radio_buttons", "checkboxes")
        groups = el.get("option_groups")
        if groups is not None and etype in ("static_select", "multi_static_select"):
            self.max_items(groups, 100, f"{pointer}/option_groups")
            for gi, group in enumerate(groups if isinstance(groups, list) else []):
                gp = f"{pointer}/option_groups/{gi}"
                if isinstance(group, dict):
                    self.text(group.get("label"), f"{gp}/label", limit=75, plain_only=True)
                    opts = self.need_list(group, "options", gp)
                    self.max_items(opts, 100, f"{gp}/options")
                    for oi, opt in enumerate(opts):
                        self.option(opt, f"{gp}/options/{oi}", plain_only=True)
            return
        opts = self.need_list(el, "options", pointer, min_items=MIN_OPTIONS.get(etype, 1))
        self.max_items(opts, MAX_OPTIONS[etype], f"{pointer}/options")
        for oi, opt in enumerate(opts):
            self.option(opt, f"{pointer}/options/{oi}", plain_only=plain_only)
        for key in ("initial_option",):
            if key in el:
                self.option(el[key], f"{pointer}/{key}", plain_only=plain_only)
        if "initial_options" in el and isinstance(el["initial_options"], list):
            for oi, opt in enumerate(el["initial_options"]):
                self.option(opt, f"{pointer}/initial_options/{oi}", plain_only=plain_only)

    def plain_text_input(self, el: dict, pointer: str) -> None:
        max_length = el.get("max_length")
        min_length = el.get("min_length")
        if max_length is not None:
            if not isinstance(max_length, int) or max_length > 3000:
                self.error("must be less than or equal to 3000", f"{pointer}/max_length")
            elif max_length < 1:
                self.error("must be greater than or equal to 1", f"{pointer}/max_length")
        if min_length is not None:
            if not isinstance(min_length, int) or min_length > 3000:
                self.error("must be less than or equal to 3000", f"{pointer}/min_length")
            elif isinstance(max_length, int) and min_length > max_length:
                self.error("must be less than or equal to max_length", f"{pointer}/min_length")
        initial = el.get("initial_value")
        if isinstance(initial, str):
            limit = max_length if isinstance(max_length, int) and max_length <= 3000 else 3000
            self.max_len(initial, limit, f"{pointer}/initial_value")

    def image_fields(self, obj: dict, pointer: str) -> None:
        if "image_url" not in obj and "slack_file" not in obj:
            self.error("missing required field: image_url", pointer)
        self.max_len(obj.get("image_url"), 3000, f"{pointer}/image_url")
        if "alt_text" not in obj:
            self.error("missing required field: alt_text", pointer)
        else:
            self.max_len(obj["alt_text"], 2000, f"{pointer}/alt_text")

    def confirm(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, dict):
            self.error("must provide an object", pointer)
            return
        for key, limit in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
            if key in obj:
                self.text(obj[key], f"{pointer}/{key}", limit=limit, plain_only=key != "text")

    # -- blocks --------------------------------------------------------------------
    def blocks(self, blocks: Any, pointer: str) -> None:
        if not isinstance(blocks, list):
            self.error("must provide an array", pointer)
            return
        self.max_items(blocks, MAX_BLOCKS[self.kind], pointer)
        for i, block in enumerate(blocks):
            self.block(block, f"{pointer}/{i}")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.error("must provide an object", pointer)
            return
        btype = block.get("type")
        if btype not in BLOCK_TYPES:
            self.error(f"unsupported type: {btype}", f"{pointer}/type")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not block_id:
                self.error("must be more than 0 characters", f"{pointer}/block_id")
            else:
                self.max_len(block_id, 255, f"{pointer}/block_id")
                if block_id in self.block_ids:
                    self.error(f'`block_id` "{block_id}" already exists', f"{pointer}/block_id")
                self.block_ids.add(block_id)
        getattr(self, f"block_{btype}")(block, pointer)

    def _unique_action_ids(self, elements: list, pointer: str) -> None:
        seen: set[str] = set()
        for i, el in enumerate(elements):
            if isinstance(el, dict) and isinstance(el.get("action_id"), str):
                aid = el["action_id"]
                if aid in seen:
                    self.error(
                        f'`action_id` "{aid}" already exists', f"{pointer}/elements/{i}/action_id"
                    )
                seen.add(aid)

    def block_section(self, block: dict, pointer: str) -> None:
        if "text" not in block and "fields" not in block:
            self.error("must provide either text or fields", pointer)
        if "text" in block:
            self.text(block["text"], f"{pointer}/text", limit=3000)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list):
                self.error("must provide an array", f"{pointer}/fields")
            else:
                self.max_items(fields, 10, f"{pointer}/fields")
                for i, field in enumerate(fields):
                    self.text(field, f"{pointer}/fields/{i}", limit=2000)
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory", ACCESSORY_ELEMENTS)

    def block_header(self, block: dict, pointer: str) -> None:
        if "text" not in block:
            self.error("missing required field: text", pointer)
            return
        self.text(block["text"], f"{pointer}/text", limit=150, plain_only=True)

    def block_divider(self, block: dict, pointer: str) -> None:
        return None

    def block_context(self, block: dict, pointer: str) -> None:
        elements = self.need_list(block, "elements", pointer)
        self.max_items(elements, 10, f"{pointer}/elements")
        for i, el in enumerate(elements):
            ep = f"{pointer}/elements/{i}"
            if isinstance(el, dict) and el.get("type") == "image":
                self.image_fields(el, ep)
            else:
                self.text(el, ep, limit=3000)

    def block_actions(self, block: dict, pointer: str) -> None:
        elements = self.need_list(block, "elements", pointer)
        self.max_items(elements, 25, f"{pointer}/elements")
        for i, el in enumerate(elements):
            self.element(el, f"{pointer}/elements/{i}", ACTIONS_ELEMENTS)
        self._unique_action_ids(elements, pointer)

    def block_input(self, block: dict, pointer: str) -> None:
        if "label" not in block:
            self.error("missing required field: label", pointer)
        else:
            self.text(block["label"], f"{pointer}/label", limit=2000, plain_only=True)
        if "hint" in block:
            self.text(block["hint"], f"{pointer}/hint", limit=2000, plain_only=True)
        if "element" not in block:
            self.error("missing required field: element", pointer)
        else:
            self.element(block["element"], f"{pointer}/element", INPUT_ELEMENTS)
        for flag in ("dispatch_action", "optional"):
            if flag in block and not isinstance(block[flag], bool):
                self.error("must be a boolean", f"{pointer}/{flag}")

    def block_image(self, block: dict, pointer: str) -> None:
        self.image_fields(block, pointer)
        if "title" in block:
            self.text(block["title"], f"{pointer}/title", limit=2000, plain_only=True)

    def block_rich_text(self, block: dict, pointer: str) -> None:
        self.need_list(block, "elements", pointer, min_items=0)

    def block_file(self, block: dict, pointer: str) -> None:
        if "external_id" not in block:
            self.error("missing required field: external_id", pointer)
        if block.get("source") != "remote":
            self.error("must be one of remote", f"{pointer}/source")

    def block_video(self, block: dict, pointer: str) -> None:
        for key in ("alt_text", "title", "thumbnail_url", "video_url"):
            if key not in block:
                self.error(f"missing required field: {key}", pointer)
        if "title" in block:
            self.text(block["title"], f"{pointer}/title", limit=200, plain_only=True)

    # -- surfaces ------------------------------------------------------------------
    def view(self, view: Any) -> None:
        root = "/view"
        if not isinstance(view, dict):
            self.error("must provide an object", root)
            return
        vtype = view.get("type")
        if vtype != self.kind:
            self.error(f"must be one of {self.kind}", f"{root}/type")
        if self.kind == "modal":
            if "title" not in view:
                self.error("missing required field: title", root)
            else:
                self.text(view["title"], f"{root}/title", limit=24, plain_only=True)
            for key in ("submit", "close"):
                if view.get(key) is not None:
                    self.text(view[key], f"{root}/{key}", limit=24, plain_only=True)
        self.max_len(view.get("private_metadata"), 3000, f"{root}/private_metadata")
        self.max_len(view.get("callback_id"), 255, f"{root}/callback_id")
        self.max_len(view.get("external_id"), 255, f"{root}/external_id")
        if "blocks" not in view:
            self.error("missing required field: blocks", root)
            return
        blocks = view["blocks"]
        self.blocks(blocks, f"{root}/blocks")
        if self.kind == "modal" and view.get("submit") is None and isinstance(blocks, list):
            for i, block in enumerate(blocks):
                if isinstance(block, dict) and block.get("type") == "input":
                    self.error(
                        "must define `submit` to use an `input` block in modals",
                        f"{root}/blocks/{i}/input",
                    )
                    break

    def message(self, payload: Any) -> None:
        if isinstance(payload, list):
            payload = {"blocks": payload}
        if not isinstance(payload, dict):
            self.error("must provide an object", "")
            return
        text = payload.get("text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            self.error(f"must be less than {MAX_MESSAGE_TEXT + 1} characters", "/text")
        blocks = payload.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                self.error("must provide valid JSON", "/blocks")
                return
        if blocks is not None:
            self.blocks(blocks, "/blocks")


def problems(kind: str, payload: Any) -> list[str]:
    """Everything Slack would refuse in ``payload``; empty when it would be accepted."""
    if kind not in MAX_BLOCKS:
        raise ValueError(f"kind must be one of {sorted(MAX_BLOCKS)}, not {kind!r}")
    checker = _Checker(kind)
    if kind == "message":
        checker.message(payload)
    else:
        checker.view(payload)
    return checker.problems

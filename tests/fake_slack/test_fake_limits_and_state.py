"""Block Kit limits and view-state building (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.fake_slack import StateError, problems
from sandbox.fake_slack.state import build_values, client_errors, full_state


def pt(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def opt(value: str, text: str | None = None) -> dict:
    return {"text": pt(text or value.title()), "value": value}


def inp(block_id: str, element: dict, label: str = "Label", **extra: object) -> dict:
    return {"type": "input", "block_id": block_id, "label": pt(label), "element": element, **extra}


def modal(*blocks: dict, **extra: object) -> dict:
    return {
        "type": "modal",
        "title": pt("Form"),
        "submit": pt("Save"),
        "blocks": list(blocks),
        **extra,
    }


def test_valid_message_has_no_problems() -> None:
    blocks = [
        {"type": "header", "text": pt("Post-mortem")},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*hi*"},
            "accessory": {"type": "button", "action_id": "go", "text": pt("Go"), "value": "1"},
        },
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "ctx"}]},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "action_id": "a", "text": pt("A")},
                {"type": "static_select", "action_id": "b", "options": [opt("x")]},
            ],
        },
    ]
    assert problems("message", {"text": "fallback", "blocks": blocks}) == []


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([{"type": "divider"}] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
        ([{"type": "tabel"}], "unsupported type: tabel [json-pointer:/blocks/0/type]"),
        (
            [{"type": "header", "text": pt("h" * 151)}],
            "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
            "must be one of plain_text [json-pointer:/blocks/0/text/type]",
        ),
        (
            [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}],
            "must be more than 0 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
            "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
        ),
        (
            [{"type": "divider", "block_id": "b" * 256}],
            "must be less than 256 characters [json-pointer:/blocks/0/block_id]",
        ),
        (
            [{"type": "divider", "block_id": "x"}, {"type": "divider", "block_id": "x"}],
            '`block_id` "x" already exists [json-pointer:/blocks/1/block_id]',
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "same", "text": pt("1")},
                        {"type": "button", "action_id": "same", "text": pt("2")},
                    ],
                }
            ],
            '`action_id` "same" already exists [json-pointer:/blocks/0/elements/1/action_id]',
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": f"b{i}", "text": pt("b")} for i in range(26)
                    ],
                }
            ],
            "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
        ),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
            "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [{"type": "button", "action_id": "b", "text": pt("b" * 76)}],
                }
            ],
            "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "b", "text": pt("b"), "value": "v" * 2001}
                    ],
                }
            ],
            "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "action_id": "b", "text": pt("b"), "url": "u" * 3001}
                    ],
                }
            ],
            "must be less than 3001 characters [json-pointer:/blocks/0/elements/0/url]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "static_select",
                            "action_id": "s",
                            "options": [opt(f"o{i}") for i in range(101)],
                        }
                    ],
                }
            ],
            "no more than 100 items allowed [json-pointer:/blocks/0/elements/0/options]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "radio_buttons",
                            "action_id": "r",
                            "options": [opt(f"o{i}") for i in range(11)],
                        }
                    ],
                }
            ],
            "no more than 10 items allowed [json-pointer:/blocks/0/elements/0/options]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "static_select",
                            "action_id": "s",
                            "options": [opt("v" * 151, "t")],
                        }
                    ],
                }
            ],
            "must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "static_select", "action_id": "s", "options": [opt("v", "t" * 76)]}
                    ],
                }
            ],
            "must be less than 76 characters "
            "[json-pointer:/blocks/0/elements/0/options/0/text/text]",
        ),
        (
            [{"type": "section", "text": {"type": "fancy", "text": "x"}}],
            "must be one of plain_text, mrkdwn [json-pointer:/blocks/0/text/type]",
        ),
    ],
)
def test_message_limits(blocks: list, expected: str) -> None:
    assert f"[ERROR] {expected}" in problems("message", {"text": "t", "blocks": blocks})


def test_message_text_limit() -> None:
    assert problems("message", {"text": "x" * 40000}) == []
    assert problems("message", {"text": "x" * 40001}) == [
        "[ERROR] must be less than 40001 characters [json-pointer:/text]"
    ]


def test_modal_limits() -> None:
    text_input = {"type": "plain_text_input", "action_id": "t"}
    assert problems("modal", modal(inp("b", text_input))) == []
    no_submit = modal(inp("b", text_input))
    del no_submit["submit"]
    assert problems("modal", no_submit) == [
        "[ERROR] must define `submit` to use an `input` block in modals "
        "[json-pointer:/view/blocks/0/input]"
    ]
    found = problems(
        "modal",
        modal(
            inp("b", dict(text_input, max_length=3001), label="l" * 2001, hint=pt("h" * 2001)),
            inp("c", dict(text_input, max_length=5, initial_value="too long")),
            private_metadata="m" * 3001,
            callback_id="c" * 256,
            close=pt("c" * 25),
        ),
    )
    assert found == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/close/text]",
        "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]",
        "[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]",
        "[ERROR] must be less than 2001 characters [json-pointer:/view/blocks/0/label/text]",
        "[ERROR] must be less than 2001 characters [json-pointer:/view/blocks/0/hint/text]",
        "[ERROR] must be less than or equal to 3000 "
        "[json-pointer:/view/blocks/0/element/max_length]",
        "[ERROR] must be less than 6 characters "
        "[json-pointer:/view/blocks/1/element/initial_value]",
    ]
    assert problems("modal", modal(dict(inp("b", text_input), dispatch_action=True))) == []
    assert problems("modal", modal(dict(inp("b", text_input), dispatch_action="yes"))) == [
        "[ERROR] must be a boolean [json-pointer:/view/blocks/0/dispatch_action]"
    ]
    assert problems("modal", modal(*[{"type": "divider"}] * 100)) == []
    assert problems("modal", modal(*[{"type": "divider"}] * 101)) == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    ]
    assert problems("home", {"type": "home", "blocks": [{"type": "divider"}] * 100}) == []


SELECT_OPTS = [opt("sev1", "SEV1"), opt("sev2", "SEV2")]
VIEW_BLOCKS = [
    inp("title", {"type": "plain_text_input", "action_id": "v"}),
    inp("count", {"type": "number_input", "action_id": "v", "is_decimal_allowed": False}),
    inp("link", {"type": "url_text_input", "action_id": "v"}, optional=True),
    inp("mail", {"type": "email_text_input", "action_id": "v"}, optional=True),
    inp("sev", {"type": "static_select", "action_id": "v", "options": SELECT_OPTS}),
    inp("radio", {"type": "radio_buttons", "action_id": "v", "options": SELECT_OPTS}),
    inp("multi", {"type": "multi_static_select", "action_id": "v", "options": SELECT_OPTS}),
    inp("boxes", {"type": "checkboxes", "action_id": "v", "options": SELECT_OPTS}, optional=True),
    inp("date", {"type": "datepicker", "action_id": "v"}),
    inp("time", {"type": "timepicker", "action_id": "v"}),
    inp("owner", {"type": "users_select", "action_id": "v"}),
    inp("people", {"type": "multi_users_select", "action_id": "v"}),
    inp("conv", {"type": "conversations_select", "action_id": "v"}),
    inp("chan", {"type": "channels_select", "action_id": "v"}),
    {"type": "section", "block_id": "info", "text": {"type": "mrkdwn", "text": "read me"}},
]


def test_build_values_for_every_element_type() -> None:
    values = build_values(
        VIEW_BLOCKS,
        {
            "title": {"v": "DB outage"},
            "count": {"v": 3},
            "link": {"v": "https://example.com/x"},
            "mail": {"v": "a@example.com"},
            "sev": {"v": "sev2"},
            "radio": {"v": "sev1"},
            "multi": {"v": ["sev1", "sev2"]},
            "boxes": {"v": ["sev2"]},
            "date": {"v": dt.date(2024, 5, 1)},
            "time": {"v": "09:30"},
            "owner": {"v": "U0BOB"},
            "people": {"v": ["U0ALICE", "U0BOB"]},
            "conv": {"v": "C0REVIEWS"},
            "chan": {"v": "C0REVIEWS"},
        },
    )
    assert values["title"]["v"] == {"type": "plain_text_input", "value": "DB outage"}
    assert values["count"]["v"] == {"type": "number_input", "value": "3"}
    assert values["link"]["v"] == {"type": "url_text_input", "value": "https://example.com/x"}
    assert values["mail"]["v"] == {"type": "email_text_input", "value": "a@example.com"}
    assert values["sev"]["v"] == {"type": "static_select", "selected_option": SELECT_OPTS[1]}
    assert values["radio"]["v"] == {"type": "radio_buttons", "selected_option": SELECT_OPTS[0]}
    assert values["multi"]["v"] == {"type": "multi_static_select", "selected_options": SELECT_OPTS}
    assert values["boxes"]["v"] == {"type": "checkboxes", "selected_options": [SELECT_OPTS[1]]}
    assert values["date"]["v"] == {"type": "datepicker", "selected_date": "2024-05-01"}
    assert values["time"]["v"] == {"type": "timepicker", "selected_time": "09:30"}
    assert values["owner"]["v"] == {"type": "users_select", "selected_user": "U0BOB"}
    assert values["people"]["v"] == {
        "type": "multi_users_select",
        "selected_users": ["U0ALICE", "U0BOB"],
    }
    assert values["conv"]["v"] == {
        "type": "conversations_select",
        "selected_conversation": "C0REVIEWS",
    }
    assert values["chan"]["v"] == {"type": "channels_select", "selected_channel": "C0REVIEWS"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"nope": {"v": "x"}}, "no block 'nope'"),
        ({"info": {"v": "x"}}, "no block 'info'"),
        ({"title": {"other": "x"}}, "has no element 'other'"),
        ({"sev": {"v": "sev9"}}, "no option with value 'sev9'"),
        ({"date": {"v": "01/05/2024"}}, "not a date"),
        ({"time": {"v": "9:30pm"}}, "not a time"),
        ({"count": {"v": 1.5}}, "does not allow decimals"),
        ({"owner": {"v": "alice"}}, "not a user id"),
        ({"title": {"v": 42}}, "takes text"),
    ],
)
def test_build_values_rejects_what_the_client_cannot_send(values: dict, message: str) -> None:
    with pytest.raises(StateError, match=message):
        build_values(VIEW_BLOCKS, values)


def test_full_state_reports_untouched_inputs_with_initial_values() -> None:
    blocks = [
        inp("a", {"type": "plain_text_input", "action_id": "x", "initial_value": "pre"}),
        inp(
            "b",
            {
                "type": "static_select",
                "action_id": "y",
                "options": SELECT_OPTS,
                "initial_option": SELECT_OPTS[0],
            },
        ),
        inp("c", {"type": "multi_users_select", "action_id": "z"}),
        inp("d", {"type": "datepicker", "action_id": "w"}),
    ]
    state = full_state(blocks, {})
    assert state == {
        "values": {
            "a": {"x": {"type": "plain_text_input", "value": "pre"}},
            "b": {"y": {"type": "static_select", "selected_option": SELECT_OPTS[0]}},
            "c": {"z": {"type": "multi_users_select", "selected_users": []}},
            "d": {"w": {"type": "datepicker", "selected_date": None}},
        }
    }
    errors = client_errors(blocks, state["values"])
    assert errors == {
        "c": "Please complete this required field.",
        "d": "Please complete this required field.",
    }

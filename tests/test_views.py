"""Block Kit built from workflow data stays inside Slack's limits and escapes user text."""

from __future__ import annotations

import json

import pytest

from bot.reviews.views import stage_modal as sm
from bot.reviews.views.answers import summary_blocks
from bot.reviews.views.review_message import status_message
from bot.reviews.views.start_modal import start_view
from bot.slack import menu
from bot.slack.text import clip, escape
from sandbox.fake_slack import problems
from sandbox.fake_slack.state import build_values
from workflows.engine import GST_KEY, applies, clean, controllers, rows_needed_now
from workflows.loader import Registry
from workflows.model import FieldType
from workflows.samples import sample_answers, sample_value

REGISTRY = Registry.load()
STAGES = [(w, s) for w in REGISTRY.all() for s in w.stages]
IDS = [f"{w.key}.{s.key}" for w, s in STAGES]


def full(stage):
    """Answers with every group at its maximum number of rows."""
    answers = sample_answers(stage)
    for f in stage.fields:
        if f.type == FieldType.GROUP:
            answers[f.key] = [
                {sub.key: sample_value(sub, i) for sub in f.fields} for i in range(f.max_items)
            ]
    return answers


@pytest.mark.parametrize(("workflow", "stage"), STAGES, ids=IDS)
def test_every_page_of_every_stage_is_a_valid_modal(workflow, stage) -> None:
    for values in ({}, sample_answers(stage), full(stage)):
        meta = sm.ModalMeta(1, stage.key)
        count = len(sm.pages(stage, values, meta))
        for page in range(count):
            meta.page = page
            view = sm.stage_view(stage, title="A review title " * 20, meta=meta, values=values)
            assert problems("modal", view) == []
            assert len(view["blocks"]) <= sm.MAX_BLOCKS
            assert len(view["title"]["text"]) <= 24
            assert view["submit"]["text"] == ("Submit" if page == count - 1 else "Next")
            assert view["notify_on_close"] is True


@pytest.mark.parametrize(("workflow", "stage"), STAGES, ids=IDS)
def test_answers_survive_the_round_trip_through_slack_state(workflow, stage) -> None:
    answers = sample_answers(stage)
    meta = sm.ModalMeta(1, stage.key)
    raw: dict = {}
    for page in range(len(sm.pages(stage, answers, meta))):
        meta.page = page
        # Drawn for the answers: the fields they open are on screen, as after each redraw.
        blocks = sm.stage_view(stage, title="t", meta=meta, values=answers)["blocks"]
        ids = {b.get("block_id") for b in blocks}
        entered = {k: v for k, v in sm.entered_values(stage, answers).items() if k in ids}
        raw = sm.raw_from_state(stage, build_values(blocks, entered), into=raw)
    slack = {True: "yes", False: "no"}  # how a yes/no answer comes back from Slack
    expected = {
        k: (slack[v] if isinstance(v, bool) else v)
        for k, v in answers.items()
        if v != []
        and (k not in {f.key for f in stage.fields} or applies(stage, stage.field(k), answers))
    }
    if any(f.type == FieldType.MONEY for f in stage.fields):
        expected[GST_KEY] = "inclusive"  # asked once for the stage's amounts
    for f in stage.fields:
        if f.type == FieldType.GROUP and f.key in expected:
            expected[f.key] = [
                {k: (slack[v] if isinstance(v, bool) else v) for k, v in row.items()}
                for row in answers[f.key]
            ]
    assert raw == expected


def test_a_long_stage_is_split_into_pages() -> None:
    stage = REGISTRY["service_delivery"].stage("closure")
    meta = sm.ModalMeta(1, "closure")
    assert len(sm.pages(stage, sample_answers(stage), meta)) == 1
    # The invoice number and date, then the ten invoice lines on a page of their own, then the rest.
    split = sm.pages(stage, full(stage), meta)
    assert [b.block_id for b in split[0]] == ["f.invoice_number", "f.invoice_date"]
    assert {b.block_id.split(".")[1] for b in split[1]} == {"invoice_lines"}
    assert len(split) == 3


def test_drafts_fill_the_modal() -> None:
    stage = REGISTRY["campaign_postmortem"].stage("data_gathering")
    view = sm.stage_view(
        stage,
        title="t",
        meta=sm.ModalMeta(1, stage.key),
        values={"budget": {"amount": "1200.00", "gst": "exclusive"}, "category": "email"},
    )
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["f.budget"]["element"]["initial_value"] == "1200.00"
    assert blocks["f.budget"]["label"]["text"] == "Budget (excl. GST)"
    assert blocks["gst"]["element"]["initial_option"]["value"] == "exclusive"
    assert blocks["f.category"]["element"]["initial_option"]["value"] == "email"


def test_modal_metadata_round_trips_within_slacks_limit() -> None:
    meta = sm.ModalMeta(123456, "action_items", 2, {"action_items": 10, "risks": 7})
    assert sm.ModalMeta.loads(meta.dumps()) == meta
    assert len(meta.dumps()) < 3000


def test_errors_map_to_their_blocks() -> None:
    stage = REGISTRY["support_postmortem"].stage("admin_review")
    assert sm.block_for_error(stage, "review_outcome") == "d.review_outcome"
    assert sm.block_for_error(stage, "review_comment") == "f.review_comment"
    assert sm.block_for_error(stage, "_outputs") == "o"
    assert sm.block_for_error(stage, "action_items.0.title") == "g.action_items.0.title"


def test_status_message_escapes_user_text_and_fits() -> None:
    workflow = REGISTRY["campaign_postmortem"]
    message = status_message(
        review_id=7,
        title="<!channel> & <@U123> " * 20,
        workflow=workflow,
        owner_id="U0ALICE",
        status="in_progress",
        current="team_sync",
        done={"data_gathering"},
        open_items=2,
    )
    assert problems("message", message) == []
    assert message["blocks"][0]["type"] == "header"  # plain_text: Slack never parses it
    progress = message["blocks"][2]["elements"][0]["text"]
    assert progress == (
        ":white_check_mark: Data Gathering  :arrow_forward: Post-Mortem Team Sync"
        "  :white_circle: Lessons Learned Documentation  :white_circle: Action "
        "Item Assignment and Follow-Up"
    )
    button = message["blocks"][3]["elements"][0]
    assert (button["text"]["text"], button["value"]) == ("Continue: Post-Mortem Team Sync", "7")


def test_summary_escapes_and_stays_within_limits() -> None:
    workflow = REGISTRY["campaign_postmortem"]
    answers = {s.key: full(s) for s in workflow.stages}
    answers["lessons_learned"]["lessons"] = "Ping <!channel> & <@U999> " + "x" * 2900
    summary = summary_blocks(workflow, "Black Friday", answers)
    assert problems("message", summary) == []
    text = "\n".join(b["text"]["text"] for b in summary["blocks"][1:])
    assert "Ping &lt;!channel&gt; &amp; &lt;@U999&gt;" in text
    assert "<!channel>" not in text
    assert "_Budget_: $1,100.00 incl. GST" in text
    assert "  • Action item 1 · <@U0ALICE> · 2026-12-01" in text


def test_start_modal_prefills_from_the_command() -> None:
    view = start_view(
        REGISTRY.all(),
        user_id="U1",
        channel_id="C1",
        workflow_key="support_postmortem",
        title="Order arrived broken",
    )
    assert problems("modal", view) == []
    blocks = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert blocks["workflow"]["initial_option"]["text"]["text"] == "Support ticket post-mortem"
    assert blocks["title"]["initial_value"] == "Order arrived broken"
    assert blocks["owner"]["initial_user"] == "U1"
    assert blocks["channel"]["initial_conversation"] == "C1"
    names = [o["text"]["text"] for o in blocks["workflow"]["options"]]
    assert names == ["Campaign post-mortem", "Service delivery", "Support ticket post-mortem"]


def test_escape_and_clip() -> None:
    assert escape("a & <b> c") == "a &amp; &lt;b&gt; c"
    assert clip("Action Item Assignment and Follow-Up", 24) == "Action Item Assignment…"
    assert clip("short", 24) == "short"


def _inputs_of(stage, values: dict) -> list[dict]:
    meta = sm.ModalMeta(1, stage.key)
    blocks = []
    for page in range(len(sm.pages(stage, values, meta))):
        meta.page = page
        blocks += sm.stage_view(stage, title="t", meta=meta, values=values)["blocks"]
    return blocks


def answer_sets(stage) -> list[dict]:
    """The sample answers, and one set for each option of each answer the form depends on."""
    sets = [sample_answers(stage)]
    for key in sorted(controllers(stage)):
        decision = next((d for d in stage.decisions if d.key == key), None)
        source = None if decision else stage.field(key)
        if decision is not None:
            choices = [o.value for o in decision.options]
        elif source.type == FieldType.YES_NO:
            choices = [True, False]
        elif source.type == FieldType.MULTI_CHOICE:
            choices = [[]] + [[o.value] for o in source.options]
        else:
            choices = [o.value for o in source.options]
        sets += [sample_answers(stage, **{key: choice}) for choice in choices]
    return sets


@pytest.mark.parametrize(("workflow", "stage"), STAGES, ids=IDS)
def test_labels_and_validation_agree_on_what_is_required(workflow, stage) -> None:
    """An input Slack shows without "(optional)" is one the engine refuses blank, and one shown
    as optional the engine accepts blank; no label says it itself. Fields are drawn for the
    answers given, as after each redraw, so this holds for every answer the form depends on;
    a field the engine needs for one answer only is drawn only then. Every row on screen is an
    item (no "fill it in or leave it blank" row Slack can't enforce): a row the group can do
    without has a Remove button."""
    for answers in answer_sets(stage) + [full(stage)]:
        _labels_agree(
            stage,
            {
                k: v
                for k, v in answers.items()
                if k not in {f.key for f in stage.fields} or applies(stage, stage.field(k), answers)
            },
        )


def _labels_agree(stage, answers: dict) -> None:
    blocks = _inputs_of(stage, answers)
    by_id = {b["block_id"]: b for b in blocks}
    for block in (b for b in blocks if b["type"] == "input"):
        label, block_id = block["label"]["text"], block["block_id"]
        assert "optional" not in label.lower(), label  # Slack adds "(optional)" itself
        parts = block_id.removesuffix(".gst").split(".")
        if parts[0] not in ("f", "g"):
            continue
        f = stage.field(parts[1])
        assert applies(stage, f, answers), block_id  # shown only when it applies
        sub = next((s for s in f.fields if s.key == parts[3]), None) if parts[0] == "g" else f
        raw = json.loads(json.dumps(answers))
        target = raw[f.key][int(parts[2])] if parts[0] == "g" else raw
        target.pop(sub.key, None)
        _, errors = clean(stage, raw)
        refused = block_id.removesuffix(".gst") in {sm.block_for_error(stage, k) for k in errors}
        assert refused is not bool(block.get("optional")), block_id
        if (
            parts[0] == "f"
            and block.get("optional")
            and any(c.any_of == (f.key,) for c in stage.checks)
        ):
            assert block["hint"]["text"].startswith("Needed if you answer “"), block_id
    for f in (f for f in stage.fields if f.type == FieldType.GROUP and applies(stage, f, answers)):
        needed = rows_needed_now(stage, f, answers)
        for index in range(len(answers.get(f.key) or [])):
            row = by_id.get(f"c.{f.key}.{index}", {})
            assert ("accessory" in row) is (index >= needed), (f.key, index)
    shown = {b["block_id"].split(".")[1] for b in blocks if b["block_id"][:2] in ("f.", "h.")}
    assert shown == {f.key for f in stage.fields if applies(stage, f, answers)}
    assert "fill in" not in json.dumps(blocks) and "blank" not in json.dumps(blocks)


def test_action_items_show_what_each_item_needs() -> None:
    campaign = REGISTRY["campaign_postmortem"].stage("action_items")
    blocks = {b["block_id"]: b for b in _inputs_of(campaign, {})}
    assert blocks["g.action_items.0.owner"]["label"]["text"] == "Owner"
    assert not blocks["g.action_items.0.owner"].get("optional")  # one item is required
    assert not blocks["g.action_items.0.due_date"].get("optional")
    assert blocks["g.action_items.0.tracking_link"]["label"]["text"] == "Tracking link"
    assert blocks["g.action_items.0.tracking_link"]["optional"] is True
    assert "c.action_items.0" not in blocks  # the one required item can't be removed


def test_rows_a_group_can_do_without_appear_when_added_and_can_be_removed() -> None:
    support = REGISTRY["support_postmortem"].stage("action_items")
    blocks = _inputs_of(support, {})
    assert not any(b["block_id"].startswith("g.action_items.") for b in blocks)
    add = next(b for b in blocks if b["block_id"] == "add.action_items")
    assert add["elements"][0]["text"]["text"] == "Add one"
    meta = sm.ModalMeta(1, support.key, rows={"action_items": 2})
    blocks = {
        b["block_id"]: b for b in sm.stage_view(support, title="t", meta=meta, values={})["blocks"]
    }
    for index in (0, 1):
        owner = blocks[f"g.action_items.{index}.owner"]
        assert owner["label"]["text"] == "Owner" and not owner.get("optional")
        row = blocks[f"c.action_items.{index}"]
        assert row["text"]["text"] == f"Action items: {index + 1} of 2"
        assert (
            row["accessory"]["text"]["text"],
            row["accessory"]["action_id"],
            row["accessory"]["value"],
        ) == ("Remove", sm.REMOVE_ROW, f"action_items.{index}")
    assert blocks["g.action_items.0.tracking_link"]["optional"] is True  # optional in any item
    assert blocks["add.action_items"]["elements"][0]["text"]["text"] == "Add another"
    assert "Leave this item blank" not in json.dumps(blocks)
    # After a removal the rows take new block ids (Slack keeps typed text by id), and what a
    # person enters there still lands in the right row.
    meta = sm.ModalMeta(1, support.key, rows={"action_items": 1}, removed={"action_items": 1})
    view = sm.stage_view(support, title="t", meta=meta, values={})
    assert sm.ModalMeta.loads(view["private_metadata"]).removed == {"action_items": 1}
    ids = {b["block_id"] for b in view["blocks"]}
    assert {"g.action_items.0.title~1", "g.action_items.0.owner~1"} <= ids
    assert sm.block_for_error(support, "action_items.0.owner", meta) == "g.action_items.0.owner~1"
    state = build_values(view["blocks"], {"g.action_items.0.title~1": {"v": "Fix the queue"}})
    assert sm.raw_from_state(support, state)["action_items"][0]["title"] == "Fix the queue"


def test_one_gst_basis_sits_above_the_amounts_and_beside_each() -> None:
    stage = REGISTRY["campaign_postmortem"].stage("data_gathering")
    blocks = _inputs_of(stage, {})
    ids = [b["block_id"] for b in blocks]
    assert not any(i.endswith(".gst") for i in ids)  # no select under each amount
    basis = blocks[ids.index("gst")]
    assert ids.index("gst") + 1 == ids.index("f.budget")
    assert basis["label"]["text"] == "The amounts below" and basis["dispatch_action"] is True
    assert basis["hint"]["text"] == (
        "One basis for Budget, Actual spend and Revenue attributed "
        "to the campaign, so they are compared like for like."
    )
    assert not basis.get("optional")  # the budget is required, so its basis is
    assert blocks[ids.index("f.budget")]["label"]["text"] == "Budget"
    drawn = {b["block_id"]: b for b in _inputs_of(stage, {"_gst": "inclusive"})}
    assert [drawn[f"f.{k}"]["label"]["text"] for k in ("budget", "actual_spend", "revenue")] == [
        "Budget (incl. GST)",
        "Actual spend (incl. GST)",
        "Revenue attributed to the campaign (incl. GST)",
    ]
    state = build_values(
        list(drawn.values()),
        {"gst": {"v": "exclusive"}, "f.budget": {"v": "1100"}, "f.actual_spend": {"v": "990"}},
    )
    answers, errors = clean(stage, {**sample_answers(stage), **sm.raw_from_state(stage, state)})
    assert errors == {}
    assert answers["budget"] == {"amount": "1100.00", "gst": "exclusive"}
    assert answers["actual_spend"] == {"amount": "990.00", "gst": "exclusive"}
    # Answers entered on two bases before: no basis is assumed, the person is asked.
    mixed = {
        b["block_id"]: b
        for b in _inputs_of(
            stage,
            {
                "budget": {"amount": "1.00", "gst": "inclusive"},
                "actual_spend": {"amount": "1.00", "gst": "exclusive"},
            },
        )
    }
    assert "initial_option" not in mixed["gst"]["element"]
    assert mixed["gst"]["hint"]["text"].startswith("These amounts were entered on different")


def test_data_gathering_asks_only_what_applies_to_the_campaign() -> None:
    """The usual campaign sees 14 inputs, not 20: one GST basis instead of three, and each
    consumer-law check only for a claim the campaign made, right under the question."""
    stage = REGISTRY["campaign_postmortem"].stage("data_gathering")
    inputs = [b for b in _inputs_of(stage, {}) if b["type"] == "input"]
    assert len(inputs) == 14
    assert not any(b["block_id"].startswith("f.acl_") for b in inputs)
    advertised = next(b for b in inputs if b["block_id"] == "f.advertised")
    assert advertised["dispatch_action"] is True and advertised["optional"] is True
    drawn = [
        b
        for b in _inputs_of(stage, {"advertised": ["two_price", "refund_terms"]})
        if b["type"] == "input"
    ]
    ids = [b["block_id"] for b in drawn]
    at = ids.index("f.advertised")
    assert ids[at + 1 : at + 3] == ["f.acl_two_price_genuine", "f.refund_policy_text"]
    assert not any(b.get("optional") for b in drawn[at + 1 : at + 3])  # required once asked
    assert len(drawn) == 16


def test_a_field_for_one_answer_appears_right_under_it_required() -> None:
    execution = REGISTRY["service_delivery"].stage("execution")
    blocks = {b["block_id"]: b for b in _inputs_of(execution, {})}
    assert "f.revised_timeline" not in blocks and "h.mitigation_actions" not in blocks
    assert blocks["d.on_track"]["dispatch_action"] is True
    assert blocks["d.risk_mitigation"]["dispatch_action"] is True
    drawn = _inputs_of(execution, {"on_track": "no", "risk_mitigation": "yes"})
    ids = [b["block_id"] for b in drawn]
    assert ids[ids.index("d.on_track") + 1] == "f.revised_timeline"
    assert ids[ids.index("d.risk_mitigation") + 1] == "h.mitigation_actions"
    timeline = drawn[ids.index("f.revised_timeline")]
    assert not timeline.get("optional")
    assert timeline["hint"]["text"].startswith("Communicated to the customer")
    owner = drawn[ids.index("g.mitigation_actions.0.owner")]
    assert not owner.get("optional")  # the one item the answer asks for
    assert "o" not in ids[: ids.index("d.risk_mitigation")]  # outputs stay last
    metadata = REGISTRY["support_postmortem"].stage("metadata")
    for trigger, required in (("low_ces", True), ("stale_ticket", True), ("process", False)):
        link = {b["block_id"]: b for b in _inputs_of(metadata, {"trigger": trigger})}[
            "f.ticket_link"
        ]
        assert bool(link.get("optional")) is not required, trigger
        assert ("hint" in link) is not required  # "Needed if you answer …" while optional


def test_status_message_has_one_primary_button_and_a_menu_for_the_rest() -> None:
    message = status_message(
        review_id=7,
        title="Kettle <b>",
        workflow=REGISTRY["support_postmortem"],
        owner_id="U0ALICE",
        status="in_progress",
        current="analysis",
        done={"metadata"},
        consumer_guarantees=True,
    )
    assert problems("message", message) == []
    actions = message["blocks"][-1]["elements"]
    # The next stage, the review's people (the "People" button), and the rest: six
    # secondary actions are more than an overflow menu takes, so they are a select.
    assert [(e["type"], e.get("style")) for e in actions] == [
        ("button", "primary"),
        ("button", None),
        ("static_select", None),
    ]
    assert actions[1]["text"]["text"] == "People" and actions[1]["value"] == "7"
    assert [(o["text"]["text"], o["value"]) for o in actions[2]["options"]] == [
        ("Edit a stage", "stage_edit|7"),
        ("Add action item", "item_add|7"),
        ("Export", "export_review|7"),
        ("Consumer guarantees", "acl_open|7"),
        ("Add to team sync", "team_sync_add|7"),  # the analysis takes the team's items
        ("Assign stage", "stage_assign|7"),
    ]
    assert message["text"] == "Kettle &lt;b&gt;: In progress, next: Ticket analysis"
    fresh = status_message(
        review_id=8,
        title="t",
        workflow=REGISTRY["campaign_postmortem"],
        owner_id="U0ALICE",
        status="open",
        current="data_gathering",
        done=set(),
    )
    assert [e.get("text", {}).get("text") for e in fresh["blocks"][-1]["elements"]] == [
        "Continue: Data Gathering",
        "People",
        None,  # the menu: the team sync ahead takes items from now on
    ]
    assert menu_labels(fresh) == ["Add action item", "Add to team sync", "Assign stage"]
    # Past the team sync, the offer goes.
    plain = REGISTRY["campaign_postmortem"].model_copy(
        update={
            "stages": tuple(
                s.model_copy(update={"async_input": None})
                for s in REGISTRY["campaign_postmortem"].stages
            )
        }
    )
    fresh = status_message(
        review_id=8,
        title="t",
        workflow=plain,
        owner_id="U0ALICE",
        status="open",
        current="data_gathering",
        done=set(),
    )
    assert menu_labels(fresh) == ["Add action item", "Assign stage"]


def menu_labels(message: dict) -> list[str]:
    return [
        o["text"]["text"]
        for e in message["blocks"][-1]["elements"]
        if e["type"] == "overflow"
        for o in e["options"]
    ]


def test_the_team_sync_offer_goes_once_its_stage_is_submitted() -> None:
    past = status_message(
        review_id=9,
        title="t",
        workflow=REGISTRY["campaign_postmortem"],
        owner_id="U0ALICE",
        status="in_progress",
        current="lessons_learned",
        done={"data_gathering", "team_sync"},
    )
    assert "Add to team sync" not in menu_labels(past)
    during = status_message(
        review_id=9,
        title="t",
        workflow=REGISTRY["campaign_postmortem"],
        owner_id="U0ALICE",
        status="in_progress",
        current="team_sync",
        done={"data_gathering"},
    )
    assert "Add to team sync" in menu_labels(during)


def test_a_menu_choice_reaches_the_listener_of_the_button_it_stands_for() -> None:
    body = {
        "type": "block_actions",
        "actions": [
            {
                "type": "overflow",
                "action_id": menu.MENU,
                "block_id": "actions",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Export"},
                    "value": "export_review|12",
                },
            }
        ],
    }
    called = []
    menu.as_button(body, lambda: called.append(True))
    assert called == [True]
    assert body["actions"][0]["action_id"] == "export_review"
    assert body["actions"][0]["value"] == "12" and body["actions"][0]["type"] == "button"


def test_forms_say_which_stage_of_how_many() -> None:
    workflow = REGISTRY["campaign_postmortem"]
    meta = sm.ModalMeta.of(1, workflow, "team_sync")
    view = sm.stage_view(workflow.stage("team_sync"), title="t", meta=meta, values={})
    notes = next(b for b in view["blocks"] if b["block_id"] == "notes")["elements"]
    assert notes[0]["text"] == "Stage 2 of 4"
    assert sm.ModalMeta.loads(meta.dumps()).step == (2, 4)


def test_posted_labels_leave_form_hints_in_the_form() -> None:
    workflow = REGISTRY["campaign_postmortem"]
    answers = {s.key: sample_answers(s) for s in workflow.stages}
    text = str(summary_blocks(workflow, "t", answers))
    assert "_Tags_: Tags (comma-separated) 1" in text  # the sample answer, not the label
    assert "_Tags (comma-separated)_" not in text


def test_more_than_five_secondary_actions_become_a_select_that_keeps_every_one() -> None:
    items = [(f"Action {n}", f"act_{n}", str(n)) for n in range(7)]
    [element] = menu.secondary(items)
    assert element["type"] == "static_select" and element["action_id"] == menu.MENU
    assert [o["value"] for o in element["options"]] == [f"act_{n}|{n}" for n in range(7)]
    assert problems("message", {"blocks": [{"type": "actions", "elements": [element]}]}) == []
    body = {
        "type": "block_actions",
        "actions": [
            {
                "type": "static_select",
                "action_id": menu.MENU,
                "block_id": "actions",
                "selected_option": element["options"][6],
            }
        ],
    }
    menu.as_button(body, lambda: None)
    assert (body["actions"][0]["action_id"], body["actions"][0]["value"]) == ("act_6", "6")

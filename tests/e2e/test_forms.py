"""Stage forms that follow the answers: through the fake Slack, as a person fills them."""

from __future__ import annotations

from helpers.slack_walk import (
    ALICE,
    BOB,
    CHANNEL,
    REGISTRY,
    complete_stage,
    review_row,
    start,
    status_message,
)
from sqlalchemy import select

from sandbox.fake_slack import FakeSlack
from storage import reviews as store
from storage.db import transaction
from storage.models import ActionItem


def open_stage(slack: FakeSlack, bot) -> dict:
    slack.click(
        ALICE,
        "continue_review",
        str(review_row(bot).id),
        channel_id=CHANNEL,
        message_ts=status_message(slack)["ts"],
    )
    return slack.wait_for(lambda: slack.top_view(ALICE))


def redrawn(slack: FakeSlack, old: dict) -> dict:
    """The form once the bot has drawn it again (it acks the click, then views.update)."""
    return slack.wait_for(lambda: (view := slack.top_view(ALICE))["hash"] != old["hash"] and view)


def inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def latest(bot, stage: str) -> dict:
    with transaction(bot.rt.sessions) as session:
        return store.latest_answers(session, review_row(bot).id)[stage]


def test_data_gathering_asks_one_gst_basis_and_only_the_checks_that_apply(
    slack: FakeSlack, bot
) -> None:
    start(slack, "campaign Black Friday email")
    view = open_stage(slack, bot)
    assert len(inputs(view)) == 14  # was 20: three GST selects and five ACL questions
    slack.fill(
        ALICE,
        view["id"],
        {"f.performance_data": {"v": "Open rate 31%"}, "f.budget": {"v": "12000"}},
    )
    assert slack.click(ALICE, "v", "exclusive", block_id="gst").ok
    view = redrawn(slack, view)
    fields = inputs(view)
    assert fields["f.budget"]["label"]["text"] == "Budget (excl. GST)"
    assert fields["f.actual_spend"]["label"]["text"] == "Actual spend (excl. GST)"
    state = view["state"]["values"]
    assert state["f.budget"]["v"]["value"] == "12000"  # what was typed stays
    assert state["f.performance_data"]["v"]["value"] == "Open rate 31%"

    assert slack.click(ALICE, "v", ["two_price", "refund_terms"], block_id="f.advertised").ok
    view = redrawn(slack, view)
    fields = inputs(view)
    ids = list(fields)
    at = ids.index("f.advertised")
    assert ids[at + 1 : at + 3] == ["f.acl_two_price_genuine", "f.refund_policy_text"]
    assert len(fields) == 16
    reply = slack.submit(
        ALICE,
        view["id"],
        {
            "f.category": {"v": "email"},
            "f.actual_spend": {"v": "11800"},
            "f.survey_responses": {"v": "214"},
            "f.initial_themes": {"v": "Subject line cut off"},
            "f.acl_two_price_genuine": {"v": "yes"},
            "o": {"v": ["compiled_data"]},
        },
    )
    # Slack itself refuses the refund wording left blank: once asked, it is required.
    assert not reply.sent
    assert reply.client_errors == {"f.refund_policy_text": "Please complete this required field."}

    assert slack.click(ALICE, "v", ["two_price"], block_id="f.advertised").ok
    view = redrawn(slack, view)
    assert "f.refund_policy_text" not in inputs(view)
    assert slack.submit(ALICE, view["id"]).ok
    slack.wait_for(lambda: review_row(bot).current_stage == "team_sync")
    answers = latest(bot, "data_gathering")
    assert answers["budget"] == {"amount": "12000.00", "gst": "exclusive"}
    assert answers["actual_spend"] == {"amount": "11800.00", "gst": "exclusive"}
    assert answers["advertised"] == ["two_price"]
    assert answers["acl_two_price_genuine"] is True
    assert "acl_gifts_rebates_delivered" not in answers


def test_a_decision_opens_its_comment_and_closing_it_drops_the_text(slack: FakeSlack, bot) -> None:
    start(slack, "service Spring catalogue")
    complete_stage(slack, bot)  # kickoff
    complete_stage(slack, bot)  # planning
    view = open_stage(slack, bot)
    assert "f.revised_timeline" not in inputs(view)
    assert slack.click(ALICE, "v", "no", block_id="d.on_track").ok
    view = redrawn(slack, view)
    ids = list(inputs(view))
    assert ids[ids.index("d.on_track") + 1] == "f.revised_timeline"
    assert not inputs(view)["f.revised_timeline"].get("optional")
    slack.fill(ALICE, view["id"], {"f.revised_timeline": {"v": "Two weeks late: re-plan"}})
    assert slack.click(ALICE, "v", "yes", block_id="d.on_track").ok
    view = redrawn(slack, view)
    assert "f.revised_timeline" not in inputs(view)
    assert slack.click(ALICE, "v", "no", block_id="d.on_track").ok
    view = redrawn(slack, view)  # back again: the text typed before is still there
    assert inputs(view)["f.revised_timeline"]["element"]["initial_value"] == (
        "Two weeks late: re-plan"
    )
    assert slack.click(ALICE, "v", "yes", block_id="d.on_track").ok
    view = redrawn(slack, view)
    stage = REGISTRY["service_delivery"].stage("execution")
    reply = slack.submit(
        ALICE,
        view["id"],
        {
            "f.deliverables": {"v": "Photos"},
            "f.progress_report": {"v": "On schedule"},
            "d.risk_mitigation": {"v": "no"},
            "o": {"v": [o.key for o in stage.outputs if o.field is None]},
        },
    )
    assert reply.ok and not reply.errors, reply.errors
    slack.wait_for(lambda: review_row(bot).current_stage == "quality_review")
    assert "revised_timeline" not in latest(bot, "execution")  # asked for "no" only


def test_items_are_added_required_and_removed_without_mixing_rows(slack: FakeSlack, bot) -> None:
    start(slack, "support Late refund")
    for _ in range(3):  # ticket details, analysis, report
        complete_stage(slack, bot)
    view = open_stage(slack, bot)
    assert not any(k.startswith("g.action_items.") for k in inputs(view))  # none until added
    rows = [
        ("Alert the lead after 2 days", BOB),
        ("Check the queue daily", ALICE),
        ("Write the refund runbook", BOB),
    ]
    for index, (title, owner) in enumerate(rows):
        button = "Add one" if index == 0 else "Add another"
        add = next(b for b in view["blocks"] if b["block_id"] == "add.action_items")
        assert add["elements"][0]["text"]["text"] == button
        assert slack.click(ALICE, "add_row", "action_items", view_id=view["id"]).ok
        view = redrawn(slack, view)
        slack.fill(
            ALICE,
            view["id"],
            {
                f"g.action_items.{index}.title": {"v": title},
                f"g.action_items.{index}.owner": {"v": owner},
                f"g.action_items.{index}.due_date": {"v": "2026-12-18"},
            },
        )
    assert not inputs(view)["g.action_items.2.owner"].get("optional")  # an added item's owner
    assert slack.click(ALICE, "remove_row", "action_items.1", view_id=view["id"]).ok
    view = redrawn(slack, view)
    state = view["state"]["values"]
    titles = {
        k: v["v"]["value"]
        for k, v in state.items()
        if k.startswith("g.action_items.") and ".title" in k
    }
    # Slack keeps typed text by block id: the rows took new ids, so the third item's text is
    # not shown in the second's old place.
    assert titles == {
        "g.action_items.0.title~1": "Alert the lead after 2 days",
        "g.action_items.1.title~1": "Write the refund runbook",
    }
    reply = slack.submit(
        ALICE, view["id"], {"f.action_point_needed": {"v": "yes"}, "f.missing_feature": {"v": "no"}}
    )
    assert reply.ok and not reply.errors, (reply.errors, reply.client_errors)
    slack.wait_for(lambda: review_row(bot).current_stage == "one_on_one")
    with transaction(bot.rt.sessions) as session:
        items = session.scalars(select(ActionItem).order_by(ActionItem.position)).all()
        assert [(i.title, i.owner_id) for i in items] == [
            ("Alert the lead after 2 days", BOB),
            ("Write the refund runbook", BOB),
        ]

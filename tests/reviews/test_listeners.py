"""The review listeners (bot/reviews/listeners.py), each called directly with mocks.

Starting a review, walking its stages in modals, closing a modal with a draft, and the owner-only
buttons: what the user sees in the ack or the opened modal, and what the database keeps.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from helpers.slack_unit import (
    ADMIN,
    ALICE,
    BOB,
    CHANNEL,
    block_actions,
    button,
    fake_client,
    make_runtime,
    opened_view,
    owner_only_workflows,
    recording_ack,
    save_stage,
    seed_review,
    slack_calls,
    slack_error,
    submit_current,
    view_closed,
    view_submission,
    view_text,
)
from sqlalchemy import Engine, select

from bot.app import effect_handlers, review_hooks
from bot.delivery.service import deliver_due
from bot.features import StageSaved
from bot.reviews import listeners
from bot.reviews.views import stage_modal as sm
from bot.reviews.views.review_message import CONTINUE, EDIT_STAGE
from bot.reviews.views.start_modal import start_view
from bot.runtime import Runtime
from storage import reviews as store
from storage.db import transaction
from storage.models import Review
from storage.outbox import PENDING, Effect
from storage.types import utcnow
from workflows.samples import sample_answers

SUPPORT = "support_postmortem"


def reviews(rt: Runtime) -> list[Review]:
    with transaction(rt.sessions) as session:
        rows = list(session.scalars(select(Review).order_by(Review.id)))
        session.expunge_all()
        return rows


def draft(rt: Runtime, review_id: int, stage: str, user: str) -> dict[str, Any] | None:
    with transaction(rt.sessions) as session:
        return store.get_draft(session, review_id, stage, user)


def answers(rt: Runtime, review_id: int) -> dict[str, dict[str, Any]]:
    with transaction(rt.sessions) as session:
        return store.latest_answers(session, review_id)


def stage_form(
    rt: Runtime, review_id: int, *, edit: bool = False, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The current stage's modal as the bot renders it (what Continue opens; with `values`,
    as drawn again once those answers were given)."""
    review = next(r for r in reviews(rt) if r.id == review_id)
    stage = rt.registry[review.workflow_key].stage(review.current_stage)
    return sm.stage_view(
        stage,
        title=review.title,
        meta=sm.ModalMeta(review_id, stage.key, edit=edit),
        values=values or {},
    )


def valid_form(rt: Runtime, review_id: int) -> dict[str, Any]:
    """The support review's first form as drawn once its valid answers are chosen (the
    low-CES score field shows)."""
    return stage_form(rt, review_id, values=sample_answers(rt.registry[SUPPORT].stage("metadata")))


def valid_entries(rt: Runtime, stage_key: str, **overrides: Any) -> dict[str, Any]:
    """What a person enters for a valid stage, as {block_id: value}."""
    stage = rt.registry[SUPPORT].stage(stage_key)
    return {
        block: actions["v"]
        for block, actions in sm.entered_values(stage, sample_answers(stage, **overrides)).items()
    }


# --- start_submitted ------------------------------------------------------------------------


def start_form(rt: Runtime, **kwargs: Any) -> dict[str, Any]:
    return start_view(
        rt.registry.all(), user_id=ALICE, channel_id=kwargs.pop("channel", CHANNEL), **kwargs
    )


def test_start_without_a_title_is_refused_next_to_the_title(
    rt: Runtime, ack: MagicMock, client: MagicMock, hooks: MagicMock
) -> None:
    body, view = view_submission(start_form(rt), {"workflow": SUPPORT, "title": "  "})

    listeners.start_submitted(ack=ack, body=body, view=view, client=client, rt=rt, hooks=hooks)

    ack.assert_called_once_with(
        response_action="errors", errors={"title": "Give the review a title."}
    )
    assert reviews(rt) == []
    assert slack_calls(client) == []
    hooks.started.assert_not_called()


def test_start_names_every_missing_choice(
    rt: Runtime, ack: MagicMock, client: MagicMock, hooks: MagicMock
) -> None:
    body, view = view_submission(start_form(rt, channel=""), {"title": "Refund delay"})

    listeners.start_submitted(ack=ack, body=body, view=view, client=client, rt=rt, hooks=hooks)

    assert ack.call_args.kwargs["response_action"] == "errors"
    assert set(ack.call_args.kwargs["errors"]) == {"workflow", "channel"}
    assert reviews(rt) == []


def test_start_saves_the_review_acks_then_posts_its_message(
    rt: Runtime, ack: MagicMock, client: MagicMock, hooks: MagicMock
) -> None:
    body, view = view_submission(
        start_form(rt), {"workflow": SUPPORT, "title": "Refund took three weeks", "owner": BOB}
    )

    listeners.start_submitted(ack=ack, body=body, view=view, client=client, rt=rt, hooks=hooks)

    [review] = reviews(rt)
    assert (review.title, review.workflow_key, review.channel_id) == (
        "Refund took three weeks",
        SUPPORT,
        CHANNEL,
    )
    assert (review.owner_id, review.started_by, review.current_stage) == (BOB, ALICE, "metadata")
    ack.assert_called_once_with()
    assert ack.slack_calls_before == [[]]  # saved and acked before any Slack call
    hooks.started.assert_called_once_with(review.id, rt.registry[SUPPORT])
    assert pending_effects(rt) == ["reviews.status"]  # promised with the review, not yet sent
    client.chat_postMessage.assert_not_called()

    deliver(rt)
    client.chat_postMessage.assert_called_once()
    message = client.chat_postMessage.call_args.kwargs
    assert message["channel"] == CHANNEL
    assert "Refund took three weeks" in view_text(message)
    assert "Continue: Ticket details" in view_text(message)


def test_a_start_records_only_the_effects_that_can_apply(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    """The campaign's first stage sends no survey on opening and takes no async input: no
    surveys.open nor team_sync.invite_all is recorded for the worker to find nothing to do."""
    body, view = view_submission(
        start_form(rt), {"workflow": "campaign_postmortem", "title": "Black Friday"}
    )

    listeners.start_submitted(
        ack=ack, body=body, view=view, client=client, rt=rt, hooks=review_hooks()
    )

    ack.assert_called_once_with()
    assert pending_effects(rt) == ["reviews.status", "knowledge.similar"]


def test_start_keeps_the_message_it_posted(
    rt: Runtime, ack: MagicMock, client: MagicMock, hooks: MagicMock
) -> None:
    body, view = view_submission(start_form(rt), {"workflow": SUPPORT, "title": "Refund"})

    listeners.start_submitted(ack=ack, body=body, view=view, client=client, rt=rt, hooks=hooks)
    deliver(rt)

    [review] = reviews(rt)
    posted = client.chat_postMessage.call_args
    assert review.message_ts is not None
    client.chat_getPermalink.assert_called_once_with(channel=CHANNEL, message_ts=review.message_ts)
    assert review.permalink and review.permalink.startswith("https://example.slack.com/")
    assert posted.kwargs["channel"] == review.channel_id


def test_start_of_a_process_review_keeps_its_first_answer_as_a_draft(
    rt: Runtime, ack: MagicMock, client: MagicMock, hooks: MagicMock
) -> None:
    form = start_form(rt, workflow_key=SUPPORT, title="Returns form", draft={"trigger": "process"})
    body, view = view_submission(form)

    listeners.start_submitted(ack=ack, body=body, view=view, client=client, rt=rt, hooks=hooks)

    [review] = reviews(rt)
    assert draft(rt, review.id, "metadata", ALICE) == {"trigger": "process"}


def test_start_in_a_channel_without_the_bot_tells_the_starter_privately(
    rt: Runtime, ack: MagicMock, client: MagicMock, hooks: MagicMock
) -> None:
    post = client.chat_postMessage.side_effect

    def refuse_channel(**kwargs: Any) -> dict[str, Any]:
        if kwargs["channel"] == CHANNEL:
            raise slack_error("chat.postMessage", "not_in_channel")
        return post(**kwargs)

    client.chat_postMessage.side_effect = refuse_channel
    body, view = view_submission(start_form(rt), {"workflow": SUPPORT, "title": "Refund"})

    listeners.start_submitted(ack=ack, body=body, view=view, client=client, rt=rt, hooks=hooks)
    deliver(rt)

    ack.assert_called_once_with()
    assert len(reviews(rt)) == 1  # the review is kept
    dm = client.chat_postMessage.call_args.kwargs
    assert dm["channel"] == ALICE
    assert "is saved, but I couldn't post in <#C0REVIEWS> (not_in_channel)" in dm["text"]
    assert pending_effects(rt) == []  # told once, not retried against a channel it cannot use


# --- stage_submitted ------------------------------------------------------------------------


def test_a_stage_with_missing_answers_shows_errors_next_to_the_fields(
    rt: Runtime, ack: MagicMock, hooks: MagicMock
) -> None:
    review_id = seed_review(rt)
    form = stage_form(rt, review_id, values={"trigger": "low_ces"})  # as redrawn for it
    body, view = view_submission(form, {"f.trigger": "low_ces"})

    listeners.stage_submitted(ack=ack, body=body, view=view, rt=rt, hooks=hooks)

    ack.assert_called_once()
    assert ack.call_args.kwargs["response_action"] == "errors"
    errors = ack.call_args.kwargs["errors"]
    # Required fields, and the two a low CES score makes required, each under its own block.
    assert {"f.category", "f.ticket_owner", "f.ticket_link", "f.ces_score"} <= set(errors)
    assert set(errors) <= {b["block_id"] for b in form["blocks"]}
    assert reviews(rt)[0].current_stage == "metadata"
    assert answers(rt, review_id) == {}
    assert draft(rt, review_id, "metadata", ALICE)["trigger"] == "low_ces"  # kept for later
    hooks.stage_saved.assert_not_called()


def test_a_valid_stage_is_saved_acked_and_announced_once(
    rt: Runtime, ack: MagicMock, client: MagicMock, hooks: MagicMock
) -> None:
    review_id = seed_review(rt)
    body, view = view_submission(valid_form(rt, review_id), valid_entries(rt, "metadata"))
    order = MagicMock()
    order.attach_mock(ack, "ack")
    order.attach_mock(hooks.stage_saved, "stage_saved")

    listeners.stage_submitted(ack=ack, body=body, view=view, rt=rt, hooks=hooks)

    ack.assert_called_once_with()  # closes the modal
    # The hooks decide what to promise inside the saving transaction, before the ack.
    assert [name for name, _, _ in order.mock_calls if "()" not in name] == ["stage_saved", "ack"]
    assert reviews(rt)[0].current_stage == "analysis"
    assert answers(rt, review_id)["metadata"]["category"] == "delivery"
    hooks.stage_saved.assert_called_once()
    [saved] = hooks.stage_saved.call_args.args
    assert isinstance(saved, StageSaved)
    assert (saved.review_id, saved.stage_key, saved.user_id) == (review_id, "metadata", ALICE)
    assert saved.result.ok and saved.result.transition.next_stage == "analysis"
    assert slack_calls(client) == []  # the channel message is the hooks' business


def test_saving_a_stage_clears_everyone_s_drafts_of_it_and_keeps_other_stages_drafts(
    rt: Runtime, ack: MagicMock, hooks: MagicMock
) -> None:
    """A draft of a stage already submitted would greet its writer with stale answers if the
    stage were ever sent back; drafts of other stages are still to come."""
    review_id = seed_review(rt)
    with transaction(rt.sessions) as session:
        store.save_draft(session, review_id, "metadata", BOB, {"category": "billing"})
        store.save_draft(session, review_id, "analysis", BOB, {"root_cause": "half written"})
    body, view = view_submission(valid_form(rt, review_id), valid_entries(rt, "metadata"))

    listeners.stage_submitted(ack=ack, body=body, view=view, rt=rt, hooks=hooks)

    ack.assert_called_once_with()
    assert draft(rt, review_id, "metadata", BOB) is None
    assert draft(rt, review_id, "analysis", BOB) == {"root_cause": "half written"}


CAMPAIGN_SAVED = ["knowledge.report", "people.stage_saved", "reviews.escalate", "reviews.status"]


def test_a_campaign_stage_records_only_the_effects_that_can_apply(rt: Runtime) -> None:
    """Data gathering opens the team sync (async input: the team is invited); the team sync
    opens Lessons Learned, which uses neither. No stage is an admin's and none moves the review
    In Review, so nothing of the support loop is recorded either."""
    review_id = seed_review(rt, workflow="campaign_postmortem")

    assert sorted(save_stage(rt, review_id)) == sorted([*CAMPAIGN_SAVED, "team_sync.invite_all"])
    assert sorted(save_stage(rt, review_id, systemic_issues="no")) == CAMPAIGN_SAVED


def test_a_systemic_issue_is_still_escalated(rt: Runtime, client: MagicMock) -> None:
    review_id = seed_review(rt, workflow="campaign_postmortem")
    save_stage(rt, review_id)  # data gathering

    kinds = save_stage(rt, review_id, systemic_issues="yes", systemic_issue="Approvals take a week")
    deliver(rt)

    assert "reviews.escalate" in kinds
    [told] = [
        c.kwargs
        for c in client.chat_postMessage.call_args_list
        if c.kwargs["text"].startswith("Systemic issue escalated")
    ]
    assert told["channel"] == ADMIN  # no escalation channel set: the admins hear
    assert "Approvals take a week" in view_text(told)


def test_a_stage_submitted_twice_is_refused_the_second_time(
    rt: Runtime, client: MagicMock, hooks: MagicMock
) -> None:
    review_id = seed_review(rt)
    form = valid_form(rt, review_id)
    for user in (ALICE, BOB):  # two people had the same form open
        ack = recording_ack(client)
        body, view = view_submission(form, valid_entries(rt, "metadata"), user=user)
        listeners.stage_submitted(ack=ack, body=body, view=view, rt=rt, hooks=hooks)

    assert ack.call_args.kwargs["response_action"] == "update"
    notice = ack.call_args.kwargs["view"]
    assert notice["title"]["text"] == "Not saved"
    assert "already been submitted" in view_text(notice)
    assert hooks.stage_saved.call_count == 1
    with transaction(rt.sessions) as session:
        assert len(store.stage_history(session, review_id, "metadata")) == 1


def test_a_stage_of_a_deleted_review_says_so(rt: Runtime, ack: MagicMock, hooks: MagicMock) -> None:
    review_id = seed_review(rt)
    form = valid_form(rt, review_id)
    with transaction(rt.sessions) as session:
        session.delete(store.get_review(session, review_id))
    body, view = view_submission(form, valid_entries(rt, "metadata"))

    listeners.stage_submitted(ack=ack, body=body, view=view, rt=rt, hooks=hooks)

    assert ack.call_args.kwargs["response_action"] == "update"
    assert ack.call_args.kwargs["view"]["title"]["text"] == "Review gone"
    hooks.stage_saved.assert_not_called()


def test_an_edit_by_someone_else_is_refused_and_changes_nothing(
    rt: Runtime, ack: MagicMock, hooks: MagicMock
) -> None:
    review_id = seed_review(rt)
    submit_current(rt, review_id)
    before = answers(rt, review_id)["metadata"]
    form = sm.stage_view(
        rt.registry[SUPPORT].stage("metadata"),
        title="x",
        meta=sm.ModalMeta(review_id, "metadata", edit=True),
        values=before,
    )
    body, view = view_submission(form, {"f.product": "Someone else's words"}, user=BOB)

    listeners.stage_submitted(ack=ack, body=body, view=view, rt=rt, hooks=hooks)

    notice = ack.call_args.kwargs["view"]
    assert notice["title"]["text"] == "Not saved"
    assert "Only the review's owner or an admin can edit a stage." in view_text(notice)
    assert answers(rt, review_id)["metadata"] == before
    hooks.stage_saved.assert_not_called()


def test_a_form_submitted_without_its_redraw_is_drawn_again_with_what_it_needs(
    rt: Runtime, ack: MagicMock, hooks: MagicMock
) -> None:
    """The answer that opens the score field changed but the form was not drawn again (a
    dispatch lost on the way): errors can't point at a field the form lacks, so the form is
    drawn for the answers with the first problem on top."""
    review_id = seed_review(rt)
    form = stage_form(rt, review_id)  # drawn before the low-CES answer
    entries = {k: v for k, v in valid_entries(rt, "metadata").items() if k not in ("f.ces_score",)}
    body, view = view_submission(form, entries)

    listeners.stage_submitted(ack=ack, body=body, view=view, rt=rt, hooks=hooks)

    assert ack.call_args.kwargs["response_action"] == "update"
    redrawn = ack.call_args.kwargs["view"]
    blocks = {b["block_id"]: b for b in redrawn["blocks"]}
    assert not blocks["f.ces_score"].get("optional")
    assert blocks["notice"]["text"]["text"] == (
        ":warning: This is required for the answer you gave above."
    )
    assert reviews(rt)[0].current_stage == "metadata"


def modal_action(
    form: dict[str, Any], values: dict[str, Any], action: dict[str, Any], user: str = ALICE
) -> dict[str, Any]:
    """A block_actions body from an open modal: the view, with what was entered, in it."""
    _, view = view_submission(form, values, user=user)
    body = block_actions(action, user=user)
    body.update(view=view, container={"type": "view", "view_id": view["id"]})
    return body


def test_an_answer_others_depend_on_redraws_the_form_keeping_what_was_typed(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    form = stage_form(rt, review_id)
    assert "f.ces_score" not in {b["block_id"] for b in form["blocks"]}
    chosen = {
        "type": "static_select",
        "action_id": sm.VALUE,
        "block_id": "f.trigger",
        "selected_option": {"text": {"type": "plain_text", "text": "CES"}, "value": "low_ces"},
        "action_ts": "1700000002.000100",
    }
    body = modal_action(form, {"f.trigger": "low_ces", "f.product": "Kettle K2"}, chosen)

    listeners.answer_changed(ack=ack, body=body, action=chosen, client=client, rt=rt)

    ack.assert_called_once_with()
    update = client.views_update.call_args.kwargs
    assert (update["view_id"], update["hash"]) == (body["view"]["id"], body["view"]["hash"])
    blocks = {b["block_id"]: b for b in update["view"]["blocks"]}
    ids = list(blocks)
    assert ids[ids.index("f.trigger") + 1] == "f.ces_score"  # right under the answer
    assert not blocks["f.ces_score"].get("optional")
    assert not blocks["f.ticket_link"].get("optional")  # a low score needs the ticket too
    assert blocks["f.product"]["element"]["initial_value"] == "Kettle K2"
    assert draft(rt, review_id, "metadata", ALICE)["product"] == "Kettle K2"
    assert answers(rt, review_id) == {}


def test_a_redraw_that_lost_to_a_newer_one_is_dropped(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    client.views_update.side_effect = slack_error("views.update", "hash_conflict")
    chosen = {
        "type": "static_select",
        "action_id": sm.VALUE,
        "block_id": "f.trigger",
        "selected_option": {"text": {"type": "plain_text", "text": "Process"}, "value": "process"},
        "action_ts": "1700000002.000100",
    }
    body = modal_action(stage_form(rt, review_id), {"f.trigger": "process"}, chosen)

    listeners.answer_changed(ack=ack, body=body, action=chosen, client=client, rt=rt)

    client.views_update.assert_called_once()
    assert draft(rt, review_id, "metadata", ALICE)["trigger"] == "process"  # kept anyway


def at_action_items(rt: Runtime) -> int:
    """A support review at its Action items stage, whose items the group may do without."""
    review_id = seed_review(rt)
    for _ in range(3):  # ticket details, analysis, report
        submit_current(rt, review_id)
    return review_id


def test_add_one_shows_an_item_whose_fields_are_required_and_that_can_be_removed(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = at_action_items(rt)
    form = stage_form(rt, review_id)
    assert not any(b["block_id"].startswith("g.action_items.") for b in form["blocks"])
    body = modal_action(
        form,
        {"f.proposed_solution": "Alert the lead"},
        button(sm.ADD_ROW, "action_items", block_id="add.action_items"),
    )

    listeners.add_row(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    ack.assert_called_once_with()
    view = client.views_update.call_args.kwargs["view"]
    blocks = {b["block_id"]: b for b in view["blocks"]}
    for field in ("title", "owner", "due_date"):
        assert not blocks[f"g.action_items.0.{field}"].get("optional"), field
    assert blocks["c.action_items.0"]["accessory"]["text"]["text"] == "Remove"
    assert blocks["f.proposed_solution"]["element"]["initial_value"] == "Alert the lead"
    assert sm.ModalMeta.loads(view["private_metadata"]).rows == {"action_items": 1}


def test_remove_drops_that_item_and_the_others_keep_what_was_typed(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = at_action_items(rt)
    review = next(r for r in reviews(rt) if r.id == review_id)
    stage = rt.registry[review.workflow_key].stage("action_items")
    meta = sm.ModalMeta(review_id, stage.key, rows={"action_items": 3})
    form = sm.stage_view(stage, title=review.title, meta=meta, values={})
    typed = {f"g.action_items.{i}.title": title for i, title in enumerate("ABC")}
    body = modal_action(
        form, typed, button(sm.REMOVE_ROW, "action_items.1", block_id="c.action_items.1")
    )

    listeners.remove_row(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    ack.assert_called_once_with()
    view = client.views_update.call_args.kwargs["view"]
    titles = [
        b["element"].get("initial_value")
        for b in view["blocks"]
        if b["block_id"].startswith("g.action_items.") and ".title" in b["block_id"]
    ]
    assert titles == ["A", "C"]
    ids = {b["block_id"] for b in view["blocks"]}
    # New ids: Slack would otherwise show B's text in the row C moved into.
    assert {"g.action_items.0.title~1", "g.action_items.1.title~1"} <= ids
    assert "g.action_items.2.title~1" not in ids
    assert [row.get("title") for row in draft(rt, review_id, stage.key, ALICE)["action_items"]] == [
        "A",
        "C",
    ]


def test_a_stale_remove_changes_nothing(rt: Runtime, ack: MagicMock, client: MagicMock) -> None:
    review_id = seed_review(rt, workflow="campaign_postmortem")
    for _ in range(3):
        submit_current(rt, review_id)
    form = stage_form(rt, review_id)  # one action item is required: it has no Remove
    body = modal_action(
        form,
        {"g.action_items.0.title": "Keep me"},
        button(sm.REMOVE_ROW, "action_items.0", block_id="c.action_items.0"),
    )

    listeners.remove_row(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)

    view = client.views_update.call_args.kwargs["view"]
    title = next(b for b in view["blocks"] if b["block_id"] == "g.action_items.0.title")
    assert title["element"]["initial_value"] == "Keep me"


def test_a_stage_anyone_may_complete_is_saved_without_asking_slack_who_submits(
    rt: Runtime, ack: MagicMock, client: MagicMock, hooks: MagicMock
) -> None:
    """users.info before the ack took as long as Slack did (a second, under load), so the
    submission's ack did too (bench/ack_latency.py: p99 over 1 s). It matters only where
    admin rights decide; there it is still asked, on the server."""
    review_id = seed_review(rt)
    body, view = view_submission(
        valid_form(rt, review_id), valid_entries(rt, "metadata"), user=BOB
    )  # not the owner, and no admin: anyone may
    listeners.stage_submitted(ack=ack, body=body, view=view, rt=rt, hooks=hooks)
    ack.assert_called_once_with()
    client.users_info.assert_not_called()

    for _ in range(4):  # on to the admin-only stage
        submit_current(rt, review_id)
    assert reviews(rt)[0].current_stage == "admin_review"
    body, view = view_submission(stage_form(rt, review_id), valid_entries(rt, "admin_review"))
    refused = recording_ack(client)
    listeners.stage_submitted(ack=refused, body=body, view=view, rt=rt, hooks=hooks)
    assert refused.call_args.kwargs["view"]["title"]["text"] == "Not saved"  # Alice: no admin
    client.users_info.assert_called()
    assert reviews(rt)[0].current_stage == "admin_review"


# --- stage_closed ---------------------------------------------------------------------------


def test_closing_a_stage_keeps_what_was_typed_as_a_draft(
    rt: Runtime, ack: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    body, view = view_closed(
        stage_form(rt, review_id), {"f.trigger": "stale_ticket", "f.product": "Kettle K2"}, user=BOB
    )

    listeners.stage_closed(ack=ack, body=body, view=view, rt=rt)

    ack.assert_called_once_with()
    saved = draft(rt, review_id, "metadata", BOB)
    assert saved is not None
    assert (saved["trigger"], saved["product"]) == ("stale_ticket", "Kettle K2")
    assert draft(rt, review_id, "metadata", ALICE) is None  # a draft is per person
    assert answers(rt, review_id) == {}  # a draft is not a submission
    assert slack_calls(client) == []


def test_closing_a_stage_that_moved_on_keeps_no_draft(rt: Runtime, ack: MagicMock) -> None:
    review_id = seed_review(rt)
    form = stage_form(rt, review_id)
    submit_current(rt, review_id)
    body, view = view_closed(form, {"f.product": "Kettle K2"})

    listeners.stage_closed(ack=ack, body=body, view=view, rt=rt)

    ack.assert_called_once_with()
    assert draft(rt, review_id, "metadata", ALICE) is None


# --- continue_clicked -----------------------------------------------------------------------


@pytest.fixture
def owner_rt(unit_engine: Engine, client: MagicMock, rt: Runtime, tmp_path: Path) -> Runtime:
    """A runtime whose registry has `owner_signoff`: its second stage is the owner's alone."""
    folder = owner_only_workflows(tmp_path / "workflows")
    return make_runtime(unit_engine, client, POSTMORTEM_WORKFLOWS_DIR=str(folder))


def click_continue(rt: Runtime, client: MagicMock, review_id: int, user: str) -> MagicMock:
    ack = recording_ack(client)
    body = block_actions(button(CONTINUE, str(review_id)), user=user, channel=CHANNEL)
    listeners.continue_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    return ack


def test_continue_on_an_owners_stage_refuses_someone_else(
    owner_rt: Runtime, client: MagicMock
) -> None:
    review_id = seed_review(owner_rt, workflow="owner_signoff")
    submit_current(owner_rt, review_id, user=BOB)  # anyone may write the draft stage

    ack = click_continue(owner_rt, client, review_id, BOB)

    ack.assert_called_once_with()
    view = opened_view(client)
    assert view["title"]["text"] == "Waiting on the owner"
    assert "Only the review's owner or an admin can complete “Sign-off”." in view_text(view)
    assert "callback_id" not in view  # a notice, not a form that could be submitted


@pytest.mark.parametrize("user", [ALICE, ADMIN])
def test_continue_opens_the_stage_for_its_owner_or_an_admin(
    owner_rt: Runtime, client: MagicMock, user: str
) -> None:
    review_id = seed_review(owner_rt, workflow="owner_signoff", title="Kettle recall")
    submit_current(owner_rt, review_id, user=BOB)

    ack = click_continue(owner_rt, client, review_id, user)

    ack.assert_called_once_with()
    assert ack.slack_calls_before == [[]]
    view = opened_view(client)
    assert view["callback_id"] == sm.CALLBACK_ID
    assert view["title"]["text"] == "Sign-off"
    assert sm.ModalMeta.loads(view["private_metadata"]).stage == "signoff"
    assert "*Kettle recall*" in view_text(view)
    assert "f.verdict" in {b.get("block_id") for b in view["blocks"]}


def test_continue_fills_the_form_with_the_users_draft(rt: Runtime, client: MagicMock) -> None:
    review_id = seed_review(rt)
    with transaction(rt.sessions) as session:
        store.save_draft(session, review_id, "metadata", BOB, {"product": "Kettle K2"})

    click_continue(rt, client, review_id, BOB)

    product = next(b for b in opened_view(client)["blocks"] if b.get("block_id") == "f.product")
    assert product["element"]["initial_value"] == "Kettle K2"


def test_continue_on_a_finished_review_says_there_is_nothing_to_do(
    owner_rt: Runtime, client: MagicMock
) -> None:
    review_id = seed_review(owner_rt, workflow="owner_signoff")
    submit_current(owner_rt, review_id)
    submit_current(owner_rt, review_id)

    click_continue(owner_rt, client, review_id, ALICE)

    view = opened_view(client)
    assert view["title"]["text"] == "Nothing to do"
    assert "That review is complete." in view_text(view)


# --- edit_clicked / edit_picked -------------------------------------------------------------


def click_edit(rt: Runtime, client: MagicMock, review_id: int, user: str) -> MagicMock:
    ack = recording_ack(client)
    body = block_actions(button(EDIT_STAGE, str(review_id)), user=user, channel=CHANNEL)
    listeners.edit_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    return ack


def test_edit_by_someone_else_is_refused_with_a_notice(rt: Runtime, client: MagicMock) -> None:
    review_id = seed_review(rt)
    submit_current(rt, review_id)

    ack = click_edit(rt, client, review_id, BOB)

    ack.assert_called_once_with()
    view = opened_view(client)
    assert view["title"]["text"] == "Not for you"
    assert "Only the review's owner or an admin can edit a stage." in view_text(view)
    assert "callback_id" not in view


@pytest.mark.parametrize("user", [ALICE, ADMIN])
def test_edit_offers_the_submitted_stages_to_the_owner_or_an_admin(
    rt: Runtime, client: MagicMock, user: str
) -> None:
    review_id = seed_review(rt, title="Refund <delay>")
    submit_current(rt, review_id)
    submit_current(rt, review_id)

    click_edit(rt, client, review_id, user)

    view = opened_view(client)
    assert view["callback_id"] == listeners.EDIT_PICKER
    assert view["private_metadata"] == str(review_id)
    assert "*Refund &lt;delay&gt;*" in view_text(view)
    picker = next(b for b in view["blocks"] if b.get("block_id") == "stage")
    assert [o["value"] for o in picker["element"]["options"]] == ["metadata", "analysis"]


def test_a_slack_workspace_admin_may_edit_too(unit_engine: Engine, rt: Runtime) -> None:
    client = fake_client(admins={BOB})  # an admin in Slack, not in POSTMORTEM_ADMINS
    slack_rt = make_runtime(unit_engine, client)
    review_id = seed_review(slack_rt)
    submit_current(slack_rt, review_id)

    click_edit(slack_rt, client, review_id, BOB)

    assert opened_view(client)["callback_id"] == listeners.EDIT_PICKER


def test_picking_a_stage_to_edit_shows_it_filled_with_the_latest_answers(
    rt: Runtime, ack: MagicMock
) -> None:
    review_id = seed_review(rt)
    submit_current(rt, review_id, product="Kettle K2")
    picker = listeners.edit_picker(review_id, "Refund", [("metadata", "Ticket metadata")])
    body, view = view_submission(picker, {"stage": "metadata"})

    listeners.edit_picked(ack=ack, body=body, view=view, rt=rt)

    assert ack.call_args.kwargs["response_action"] == "update"
    form = ack.call_args.kwargs["view"]
    assert form["submit"]["text"] == "Save changes"
    assert sm.ModalMeta.loads(form["private_metadata"]).edit is True
    product = next(b for b in form["blocks"] if b.get("block_id") == "f.product")
    assert product["element"]["initial_value"] == "Kettle K2"


def test_picking_a_stage_of_a_review_deleted_meanwhile_says_so(rt: Runtime, ack: MagicMock) -> None:
    review_id = seed_review(rt)
    submit_current(rt, review_id)
    picker = listeners.edit_picker(review_id, "Refund", [("metadata", "Ticket metadata")])
    with transaction(rt.sessions) as session:
        session.delete(store.get_review(session, review_id))
    body, view = view_submission(picker, {"stage": "metadata"})

    listeners.edit_picked(ack=ack, body=body, view=view, rt=rt)

    assert ack.call_args.kwargs["response_action"] == "update"
    assert ack.call_args.kwargs["view"]["title"]["text"] == "Review gone"


def deliver(rt: Runtime) -> None:
    """What the bot's delivery worker does after the request: carry out the promised effects."""
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(minutes=1))


def pending_effects(rt: Runtime) -> list[str]:
    with rt.sessions() as session:
        return list(
            session.scalars(select(Effect.kind).where(Effect.status == PENDING).order_by(Effect.id))
        )

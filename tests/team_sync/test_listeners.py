"""The team sync listeners, called directly with a mocked Slack client (tests/helpers/slack_unit).

What a person notices: the modal that opens (or the refusal that says why), what the ack says,
what lands in the thread and what the +1 button shows, and what the facilitator's form opens with.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

from helpers.slack_unit import (
    ALICE,
    BOB,
    CHANNEL,
    STATUS_TS,
    block_actions,
    button,
    make_runtime,
    opened_view,
    posted_with,
    save_stage,
    seed_review,
    submit_current,
    view_closed,
    view_submission,
    view_text,
)
from sqlalchemy import Engine

from bot.app import effect_handlers, review_hooks
from bot.delivery.service import deliver_due, record
from bot.features import StageSaved
from bot.reviews import listeners as review_listeners
from bot.reviews import service as review_service
from bot.reviews.views.review_message import CONTINUE, TEAM_SYNC_ADD
from bot.runtime import Runtime
from bot.team_sync import listeners, service, views
from storage import participants
from storage import reviews as store
from storage import team_sync as items_store
from storage.db import transaction
from storage.outbox import Claimed
from storage.types import utcnow
from workflows.samples import sample_answers

CAROL, DAN = "U0CAROL", "U0DAN"  # Carol takes part; Dan is not on the review


def campaign_at_team_sync(rt: Runtime) -> int:
    review_id = seed_review(rt, workflow="campaign_postmortem", title="Black Friday <email>")
    with transaction(rt.sessions) as session:
        participants.add(session, review_id, [BOB, CAROL], participants.PARTICIPANT, ALICE)
    submit_current(rt, review_id)  # data gathering
    return review_id


def deliver(rt: Runtime) -> None:
    deliver_due(rt, effect_handlers(), utcnow() + timedelta(minutes=1))


def open_add(rt: Runtime, client: MagicMock, ack: MagicMock, review_id: int, user: str) -> dict:
    client.views_open.reset_mock()
    body = block_actions(button(TEAM_SYNC_ADD, str(review_id)), user=user, channel=CHANNEL)
    listeners.add_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    return opened_view(client)


def add(
    rt: Runtime, client: MagicMock, review_id: int, user: str, column: str, text: str
) -> MagicMock:
    ack = MagicMock(name="ack")
    view = open_add(rt, client, ack, review_id, user)
    body, submitted = view_submission(
        view, {views.COLUMN_BLOCK: column, views.TEXT_BLOCK: text}, user=user
    )
    ack = MagicMock(name="ack")
    listeners.add_submitted(ack=ack, body=body, view=submitted, rt=rt)
    return ack


def vote(rt: Runtime, client: MagicMock, item_id: int, user: str) -> None:
    body = block_actions(
        button(views.VOTE, str(item_id), block_id="vote"), user=user, channel=CHANNEL
    )
    body["message"]["thread_ts"] = STATUS_TS
    listeners.vote_clicked(
        ack=MagicMock(), body=body, action=body["actions"][0], client=client, rt=rt
    )


def thread_posts(client: MagicMock) -> list[dict[str, Any]]:
    return [c.kwargs for c in client.chat_postMessage.call_args_list if c.kwargs.get("thread_ts")]


def item_ids(rt: Runtime, review_id: int) -> list[int]:
    with transaction(rt.sessions) as session:
        return [i.id for i, _ in items_store.items(session, review_id, "team_sync")]


def test_a_participant_adds_an_item_and_it_is_posted_in_the_thread_escaped(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign_at_team_sync(rt)
    view = open_add(rt, client, ack, review_id, BOB)
    assert view["callback_id"] == views.CALLBACK_ID
    column = next(b for b in view["blocks"] if b["block_id"] == views.COLUMN_BLOCK)
    assert [o["text"]["text"] for o in column["element"]["options"]] == [
        "Went well",
        "Did not go well",
        "Ideas",
    ]
    assert "Black Friday &lt;email&gt;" in view_text(view)

    done = add(rt, client, review_id, BOB, "went_well", "Launch <!channel> copy & tone")
    assert done.call_args.kwargs["response_action"] == "update"
    assert "Added" in view_text(done.call_args.kwargs["view"])
    client.chat_postMessage.assert_not_called()  # promised in the outbox, posted by the worker
    deliver(rt)
    [post] = thread_posts(client)
    assert post["channel"] == CHANNEL and post["thread_ts"] == STATUS_TS
    assert post["text"] == (
        "Team sync, Went well: Launch &lt;!channel&gt; copy &amp; tone (0 votes)"
    )
    assert "Launch &lt;!channel&gt; copy &amp; tone" in view_text(post)
    assert post["metadata"]["event_type"] == views.ITEM_EVENT
    [vote_button] = [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert (vote_button["text"]["text"], vote_button["action_id"]) == ("+1", views.VOTE)


def test_someone_not_on_the_review_is_refused_clearly(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign_at_team_sync(rt)
    refusal = open_add(rt, client, ack, review_id, DAN)
    assert refusal["title"]["text"] == "Not open to you"
    assert "Only the review's participants, its owner or an admin" in view_text(refusal)
    # A form submitted anyway (an old modal, a crafted request) is checked again on the server.
    view = views.add_modal(
        review_id=review_id,
        title="t",
        stage_name="Team sync",
        spec=rt.registry["campaign_postmortem"].stage("team_sync").async_input,  # type: ignore[arg-type]
    )
    body, submitted = view_submission(
        view, {views.COLUMN_BLOCK: "ideas", views.TEXT_BLOCK: "Sneaky"}, user=DAN
    )
    sent = MagicMock()
    listeners.add_submitted(ack=sent, body=body, view=submitted, rt=rt)
    assert sent.call_args.kwargs["response_action"] == "update"
    assert "Only the review's participants" in view_text(sent.call_args.kwargs["view"])
    assert item_ids(rt, review_id) == []


def test_the_owner_may_add_and_an_empty_column_is_an_error_next_to_the_field(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign_at_team_sync(rt)
    view = open_add(rt, client, ack, review_id, ALICE)
    body, submitted = view_submission(view, {views.TEXT_BLOCK: "No column"}, user=ALICE)
    sent = MagicMock()
    listeners.add_submitted(ack=sent, body=body, view=submitted, rt=rt)
    assert sent.call_args.kwargs == {
        "response_action": "errors",
        "errors": {views.COLUMN_BLOCK: "Choose where it goes."},
    }
    assert (
        add(rt, client, review_id, ALICE, "ideas", "Owner's idea").call_args.kwargs[
            "response_action"
        ]
        == "update"
    )
    assert len(item_ids(rt, review_id)) == 1


def test_closing_the_modal_keeps_what_was_typed(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign_at_team_sync(rt)
    view = open_add(rt, client, ack, review_id, BOB)
    body, closed = view_closed(
        view, {views.COLUMN_BLOCK: "ideas", views.TEXT_BLOCK: "Half a thought"}, user=BOB
    )
    listeners.add_closed(ack=MagicMock(), body=body, view=closed, rt=rt)
    again = open_add(rt, client, ack, review_id, BOB)
    blocks = {b["block_id"]: b for b in again["blocks"]}
    assert blocks[views.TEXT_BLOCK]["element"]["initial_value"] == "Half a thought"
    assert blocks[views.COLUMN_BLOCK]["element"]["initial_option"]["value"] == "ideas"
    add(rt, client, review_id, BOB, "ideas", "A whole thought")
    assert (
        "initial_value"
        not in {b["block_id"]: b for b in open_add(rt, client, ack, review_id, BOB)["blocks"]}[
            views.TEXT_BLOCK
        ]["element"]
    )  # once added, the next item starts empty


def test_one_vote_per_person_and_the_count_follows(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign_at_team_sync(rt)
    add(rt, client, review_id, BOB, "went_well", "Copy")
    deliver(rt)
    [item_id] = item_ids(rt, review_id)
    vote(rt, client, item_id, CAROL)
    vote(rt, client, item_id, BOB)
    client.chat_postEphemeral.assert_not_called()
    deliver(rt)
    last = client.chat_update.call_args_list[-1].kwargs
    assert last["text"].endswith("(2 votes)")
    assert "+1 (2)" in view_text(last)

    vote(rt, client, item_id, CAROL)  # again
    said = client.chat_postEphemeral.call_args.kwargs
    assert (said["user"], said["thread_ts"]) == (CAROL, STATUS_TS)
    assert "already +1'd this item" in said["text"]
    vote(rt, client, item_id, DAN)  # not on the review
    assert "Only the people on this review" in client.chat_postEphemeral.call_args.kwargs["text"]
    with transaction(rt.sessions) as session:
        assert items_store.vote_count(session, item_id) == 2


def test_the_facilitators_form_opens_with_the_items_by_votes(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign_at_team_sync(rt)
    add(rt, client, review_id, BOB, "went_well", "Launch email copy")
    add(rt, client, review_id, CAROL, "went_well", "Fast approvals")
    add(rt, client, review_id, CAROL, "ideas", "Try SMS")
    first, second, _ = item_ids(rt, review_id)
    for voter in (BOB, CAROL, ALICE):
        vote(rt, client, second, voter)
    vote(rt, client, first, BOB)
    client.views_open.reset_mock()
    body = block_actions(button(CONTINUE, str(review_id)), channel=CHANNEL)
    review_listeners.continue_clicked(
        ack=ack, body=body, action=body["actions"][0], client=client, rt=rt
    )
    form = opened_view(client)
    notes = next(b for b in form["blocks"] if b["block_id"] == "f.discussion_notes")
    assert notes["element"]["initial_value"] == (
        "Went well:\n• Fast approvals (3 votes)\n• Launch email copy (1 vote)\n\nIdeas:\n• Try SMS"
    )


def test_adding_after_the_stage_is_done_is_refused(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = campaign_at_team_sync(rt)
    add(rt, client, review_id, BOB, "went_well", "Copy")
    [item_id] = item_ids(rt, review_id)
    submit_current(rt, review_id)  # the team sync itself
    refusal = open_add(rt, client, ack, review_id, BOB)
    assert "done: items can no longer be added" in view_text(refusal)
    vote(rt, client, item_id, CAROL)
    assert "votes are closed" in client.chat_postEphemeral.call_args.kwargs["text"]


def test_participants_are_invited_once_when_the_stage_before_is_saved(
    rt: Runtime, client: MagicMock
) -> None:
    client.conversations_history.return_value = {"ok": True, "messages": [], "has_more": False}
    review_id = seed_review(rt, workflow="campaign_postmortem")
    with transaction(rt.sessions) as session:
        participants.add(session, review_id, [BOB, CAROL], participants.PARTICIPANT, ALICE)
        participants.add(session, review_id, [DAN], participants.STAKEHOLDER, ALICE)
        review = store.get_review(session, review_id)
        assert review is not None
        result = review_service.submit_stage(
            session,
            review,
            "data_gathering",
            sample_answers(review_service.workflow_of(review).stage("data_gathering")),
            user_id=ALICE,
            is_admin=False,
        )
        record(
            session,
            review_hooks().stage_saved(StageSaved(review_id, "data_gathering", ALICE, result)),
        )
    deliver(rt)
    deliver(rt)  # the per-participant effects the first pass recorded
    dms = posted_with(client, views.INVITE_EVENT)
    assert sorted(d["channel"] for d in dms) == ["D0BOB", "D0CAROL"]  # not the stakeholder
    assert all(TEAM_SYNC_ADD in str(d["blocks"]) and "blameless" in view_text(d) for d in dms)


def test_the_team_is_invited_by_the_save_that_opens_the_async_stage_only(
    rt: Runtime, client: MagicMock
) -> None:
    client.conversations_history.return_value = {"ok": True, "messages": [], "has_more": False}
    review_id = seed_review(rt, workflow="campaign_postmortem")
    with transaction(rt.sessions) as session:
        participants.add(session, review_id, [BOB, CAROL], participants.PARTICIPANT, ALICE)

    assert service.INVITE_ALL in save_stage(rt, review_id)  # data gathering: team sync opens
    deliver(rt)
    deliver(rt)  # the per-participant effects the first pass recorded
    assert sorted(m["channel"] for m in posted_with(client, views.INVITE_EVENT)) == [
        "D0BOB",
        "D0CAROL",
    ]
    # The team sync opens Lessons Learned, which takes no async input: nothing to record.
    assert service.INVITE_ALL not in save_stage(rt, review_id, systemic_issues="no")


ASYNC_FIRST = """\
key: quick_retro
name: Quick retro
description: The team adds items before the only stage opens.
stages:
  - key: board
    name: Board
    purpose: Discuss what the team added.
    async_input:
      columns: [went_well, did_not_go_well]
      prefill: notes
    fields:
      - {key: notes, label: Notes, type: long_text}
"""


def test_a_workflow_whose_first_stage_takes_async_input_invites_on_start(
    unit_engine: Engine, client: MagicMock, tmp_path: Path
) -> None:
    (tmp_path / "quick_retro.yaml").write_text(ASYNC_FIRST)
    rt = make_runtime(unit_engine, client, POSTMORTEM_WORKFLOWS_DIR=str(tmp_path))
    client.conversations_history.return_value = {"ok": True, "messages": [], "has_more": False}
    review_id = seed_review(rt, workflow="quick_retro")
    assert service.after_start(review_id, rt.registry["campaign_postmortem"]) == []
    with transaction(rt.sessions) as session:
        participants.add(session, review_id, [BOB], participants.PARTICIPANT, ALICE)
        effects = service.after_start(review_id, rt.registry["quick_retro"])
        record(session, effects)

    assert [e.kind for e in effects] == [service.INVITE_ALL]
    deliver(rt)
    deliver(rt)
    assert [m["channel"] for m in posted_with(client, views.INVITE_EVENT)] == ["D0BOB"]


def test_a_retried_invitation_or_item_post_finds_the_message_instead_of_posting_twice(
    rt: Runtime, client: MagicMock
) -> None:
    """Slack accepted the message but the worker died before recording it: the retry reads the
    conversation back and finds the message by its metadata."""
    review_id = campaign_at_team_sync(rt)
    invite = Claimed(
        1, service.INVITE, {"review_id": review_id, "stage": "team_sync", "user_id": BOB}, 2
    )
    client.conversations_history.return_value = {
        "ok": True,
        "has_more": False,
        "messages": [
            {
                "ts": "1700000000.000001",
                "metadata": {
                    "event_type": views.INVITE_EVENT,
                    "event_payload": {"review_id": review_id, "stage": "team_sync"},
                },
            }
        ],
    }
    service.deliver_invite(rt, invite)
    client.chat_postMessage.assert_not_called()

    add(rt, client, review_id, BOB, "ideas", "SMS")
    [item_id] = item_ids(rt, review_id)
    client.conversations_replies.return_value = {
        "ok": True,
        "messages": [
            {
                "ts": "1700000000.000077",
                "metadata": {"event_type": views.ITEM_EVENT, "event_payload": {"item_id": item_id}},
            }
        ],
    }
    service.deliver_post(rt, Claimed(2, service.POST, {"item_id": item_id}, 2))
    client.chat_postMessage.assert_not_called()
    with transaction(rt.sessions) as session:
        item = items_store.get_item(session, item_id)
        assert item is not None and item.message_ts == "1700000000.000077"

"""The people listeners (bot/people/listeners.py), each called directly with a mocked client.

Who may change a review's people or hand a stage over (the server decides, whatever the message
showed), what the forms save, which DMs the outbox then sends, and the user group picker.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import MagicMock

from helpers.slack_unit import (
    ADMIN,
    ALICE,
    BOB,
    CHANNEL,
    STATUS_TS,
    block_actions,
    button,
    opened_view,
    seed_review,
    submit_current,
    view_submission,
    view_text,
)
from sqlalchemy import select

from bot.app import effect_handlers
from bot.delivery.service import deliver_due, record
from bot.features import PeopleAdded, ReviewHooks, SideEffect, StageSaved
from bot.people import listeners, service, views
from bot.people.listeners import NOT_YOURS_ASSIGN
from bot.people.service import ASSIGNED, INVITATION, LESSON
from bot.people.views import NOBODY
from bot.reviews import listeners as review_listeners
from bot.reviews import service as reviews
from bot.reviews.views.review_message import ASSIGN_STAGE, PEOPLE
from bot.reviews.views.start_modal import start_view
from bot.runtime import Runtime
from storage import assignments, participants
from storage import reviews as store
from storage.db import transaction
from storage.outbox import Claimed, Effect
from storage.types import utcnow
from workflows.samples import sample_answers

CAROL, DAN, FRANK = "U0CAROL", "U0DAN", "U0FRANK"
CAMPAIGN = "campaign_postmortem"


def effects(rt: Runtime, kind: str) -> list[dict[str, Any]]:
    with transaction(rt.sessions) as session:
        return [e.payload for e in session.scalars(select(Effect).where(Effect.kind == kind))]


def deliver(rt: Runtime) -> None:
    """Run the outbox until it is empty (a fixed clock delivers one batch per pass, and a
    fan-out's effects come in the next)."""
    for _ in range(5):
        if not deliver_due(rt, effect_handlers(), utcnow() + timedelta(minutes=1)):
            return


def dms_to(client: MagicMock, user: str) -> list[dict[str, Any]]:
    return [c.kwargs for c in client.chat_postMessage.call_args_list if c.kwargs["channel"] == user]


def people_form(rt: Runtime, client: MagicMock, ack: MagicMock, review_id: int) -> dict:
    body = block_actions(button(PEOPLE, str(review_id)), channel=CHANNEL)
    listeners.people_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    return opened_view(client)


def test_only_the_owner_or_an_admin_opens_the_people_form(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = seed_review(rt, workflow=CAMPAIGN)
    body = block_actions(button(PEOPLE, str(review_id)), channel=CHANNEL, user=CAROL)
    listeners.people_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    ack.assert_called_once_with()
    assert "Only the review's owner or an admin can change who takes part." in view_text(
        opened_view(client)
    )
    client.views_open.reset_mock()
    body = block_actions(button(PEOPLE, str(review_id)), channel=CHANNEL, user=ADMIN)
    listeners.people_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    assert opened_view(client)["callback_id"] == views.PEOPLE_MODAL


def test_saving_people_invites_only_the_new_participants(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = seed_review(rt, workflow=CAMPAIGN)
    form = people_form(rt, client, ack, review_id)
    body, view = view_submission(form, {"participants": [BOB, DAN], "stakeholders": [CAROL]})
    listeners.people_saved(ack=ack, body=body, view=view, rt=rt, hooks=ReviewHooks())
    ack.assert_called_with()
    assert ack.slack_calls_before[-1] == ["views_open"]  # nothing sent before the ack
    assert [e["user"] for e in effects(rt, INVITATION)] == [BOB, DAN]

    client.views_open.reset_mock()
    form = people_form(rt, client, ack, review_id)
    assert form["blocks"][1]["element"]["initial_users"] == [BOB, DAN]
    body, view = view_submission(form, {"participants": [BOB, DAN, FRANK], "stakeholders": [CAROL]})
    listeners.people_saved(ack=ack, body=body, view=view, rt=rt, hooks=ReviewHooks())
    assert [e["user"] for e in effects(rt, INVITATION)] == [BOB, DAN, FRANK]

    deliver(rt)
    for person in (BOB, DAN, FRANK):
        [dm] = dms_to(client, person)
        assert dm["metadata"]["event_type"] == "postmortem_invitation"
        assert "Refund took three weeks" in dm["text"] and "<@U0ALICE>" in dm["text"]
        assert "blameless" in str(dm["blocks"])
    assert dms_to(client, CAROL) == []  # a stakeholder hears the lessons, not an invitation


def test_someone_else_saving_the_people_form_is_refused_on_the_server(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = seed_review(rt, workflow=CAMPAIGN)
    form = people_form(rt, client, ack, review_id)
    body, view = view_submission(form, {"participants": [CAROL]}, user=CAROL)
    listeners.people_saved(ack=ack, body=body, view=view, rt=rt, hooks=ReviewHooks())
    response = ack.call_args.kwargs
    assert response["response_action"] == "update"
    assert "Only the review's owner or an admin" in view_text(response["view"])
    with transaction(rt.sessions) as session:
        assert participants.user_ids(session, review_id) == []


def test_the_start_form_stores_people_and_expands_user_groups(
    rt: Runtime, client: MagicMock, ack: MagicMock, hooks: MagicMock
) -> None:
    hooks.started.return_value = []
    client.usergroups_users_list.return_value = {"ok": True, "users": [DAN, FRANK]}
    form = start_view(rt.registry.all(), user_id=ALICE, channel_id=CHANNEL)
    body, view = view_submission(
        form,
        {
            "workflow": CAMPAIGN,
            "title": "Spring sale",
            "channel": CHANNEL,
            "participants": [BOB, DAN],
            "people_groups": ["S0DESIGN"],
            "stakeholders": [CAROL],
        },
    )
    review_listeners.start_submitted(
        ack=ack, body=body, view=view, client=client, rt=rt, hooks=hooks
    )
    ack.assert_called_once_with()
    deliver(rt)
    client.usergroups_users_list.assert_called_once_with(usergroup="S0DESIGN")
    for person in (BOB, DAN, FRANK):  # Dan is named and in the group: invited once
        assert len(dms_to(client, person)) == 1, person
    assert dms_to(client, CAROL) == []


def test_assigning_the_open_stage_dms_the_assignee_a_start_button(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = seed_review(rt, workflow=CAMPAIGN)
    body = block_actions(button(ASSIGN_STAGE, str(review_id)), channel=CHANNEL, user=BOB)
    listeners.assign_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    assert "Only the review's owner or an admin can assign a stage." in view_text(
        opened_view(client)
    )
    client.views_open.reset_mock()
    body = block_actions(button(ASSIGN_STAGE, str(review_id)), channel=CHANNEL)
    listeners.assign_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    form = opened_view(client)
    body, view = view_submission(form, {"stage": "data_gathering", "assignee": BOB})
    listeners.assign_saved(ack=ack, body=body, view=view, rt=rt)
    assert "is assigned to <@U0BOB>. They have a DM to start it." in view_text(
        ack.call_args.kwargs["view"]
    )
    assert [e["user"] for e in effects(rt, ASSIGNED)] == [BOB]
    deliver(rt)
    [dm] = dms_to(client, BOB)
    start = dm["blocks"][-1]["elements"][0]
    assert start["text"]["text"] == "Start Data Gathering"
    assert start["value"] == f"{review_id}|data_gathering"


def test_a_done_stage_cannot_be_assigned(rt: Runtime, client: MagicMock, ack: MagicMock) -> None:
    review_id = seed_review(rt, workflow=CAMPAIGN)
    submit_current(rt, review_id)
    body = block_actions(button(ASSIGN_STAGE, str(review_id)), channel=CHANNEL)
    listeners.assign_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    form = opened_view(client)
    options = [o["value"] for o in form["blocks"][1]["element"]["options"]]
    assert "data_gathering" not in options and options[0] == "team_sync"
    body, view = view_submission(form, {"stage": "team_sync", "assignee": BOB})
    view["state"]["values"]["stage"]["v"]["selected_option"]["value"] = "data_gathering"
    listeners.assign_saved(ack=ack, body=body, view=view, rt=rt)
    assert ack.call_args.kwargs["response_action"] == "errors"
    assert "stage" in ack.call_args.kwargs["errors"]


def test_only_the_owner_an_admin_or_the_assignee_may_submit_an_assigned_stage(
    rt: Runtime,
) -> None:
    review_id = seed_review(rt, workflow=CAMPAIGN)
    with transaction(rt.sessions) as session:
        assignments.assign(session, review_id, "data_gathering", BOB, ALICE)
    for user, allowed in ((CAROL, False), (BOB, True)):
        with transaction(rt.sessions) as session:
            review = store.get_review(session, review_id)
            assert review is not None
            stage = reviews.workflow_of(review).stage("data_gathering")
            result = reviews.submit_stage(
                session, review, stage.key, sample_answers(stage), user_id=user, is_admin=False
            )
        assert result.ok is allowed, user
        if not allowed:
            assert result.refused == (
                "“Data Gathering” is assigned to someone else: only they, the review's owner "
                "or an admin can complete it."
            )


def test_the_start_button_of_a_stage_no_longer_open_says_where_the_review_is(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = seed_review(rt, workflow=CAMPAIGN)
    submit_current(rt, review_id)
    body = block_actions(
        button(views.START_STAGE, f"{review_id}|data_gathering"), channel="D0BOB", user=BOB
    )
    listeners.start_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    text = view_text(opened_view(client))
    assert "*Data Gathering* is not open: the review is at Post-Mortem Team Sync." in text


def test_the_group_picker_offers_matching_user_groups(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    client.usergroups_list.return_value = {
        "ok": True,
        "usergroups": [
            {"id": "S1", "handle": "design", "name": "Design team", "date_delete": 0},
            {"id": "S2", "handle": "ops", "name": "Operations", "date_delete": 0},
            {"id": "S3", "handle": "old-design", "name": "Old", "date_delete": 1700000000},
        ],
    }
    listeners.group_options(ack=ack, payload={"value": "@des"}, rt=rt)
    assert ack.call_args.kwargs["options"] == [
        {"text": {"type": "plain_text", "text": "@design (Design team)"}, "value": "S1"}
    ]


def test_the_people_form_adds_everyone_in_a_user_group(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    client.usergroups_users_list.return_value = {"ok": True, "users": [DAN, FRANK]}
    review_id = seed_review(rt, workflow=CAMPAIGN)
    form = people_form(rt, client, ack, review_id)
    body, view = view_submission(form, {"people_groups": ["S0DESIGN"]})
    listeners.people_saved(ack=ack, body=body, view=view, rt=rt, hooks=ReviewHooks())
    ack.assert_called_with()
    client.usergroups_users_list.assert_not_called()  # expanded by the worker, after the ack
    deliver(rt)
    with transaction(rt.sessions) as session:
        assert participants.user_ids(session, review_id) == [DAN, FRANK]
    assert len(dms_to(client, DAN)) == len(dms_to(client, FRANK)) == 1


def test_only_the_group_pickers_options_requests_reach_its_listener() -> None:
    assert listeners.asks_for_groups({"type": "block_suggestion", "block_id": "people_groups"})
    assert not listeners.asks_for_groups({"type": "block_suggestion", "block_id": "f.owner"})


def test_a_500_person_user_group_is_500_paced_invitations_none_sent_in_the_request(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    members = [f"U{n:04d}" for n in range(500)]
    client.usergroups_users_list.return_value = {"ok": True, "users": members}
    review_id = seed_review(rt, workflow=CAMPAIGN)
    form = people_form(rt, client, ack, review_id)
    body, view = view_submission(form, {"people_groups": ["S0ALL"]})
    listeners.people_saved(ack=ack, body=body, view=view, rt=rt, hooks=ReviewHooks())
    assert ack.slack_calls_before[-1] == ["views_open"]
    with transaction(rt.sessions) as session:
        [invite] = session.scalars(select(Effect).where(Effect.kind == "people.invite")).all()
        claimed = Claimed(invite.id, invite.kind, invite.payload, 1)
    service.deliver_invite(rt, claimed, ReviewHooks())  # the fan-out, as the worker runs it
    invitations = effects(rt, INVITATION)
    assert len(invitations) == 500 and {e["user"] for e in invitations} == set(members)
    # Each names its recipient's DM as its lane: the paced sender takes them in turn.
    assert all(e["channel"] == e["user"] for e in invitations)
    client.chat_postMessage.assert_not_called()
    service.deliver_invite(rt, claimed, ReviewHooks())  # a retried fan-out invites nobody twice
    assert len(effects(rt, INVITATION)) == 500


def test_people_added_from_a_user_group_are_told_to_the_features_once(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    """The group's members join in the worker, not the request: the `people_added` hook hears
    them there (so an open survey reaches them), and a retried fan-out tells it nobody new."""
    heard: list[tuple[int, tuple[str, ...]]] = []

    def hook(added: PeopleAdded) -> list[SideEffect]:
        heard.append((added.review_id, added.user_ids))
        return []

    hooks = ReviewHooks(people_added=(hook,))
    client.usergroups_users_list.return_value = {"ok": True, "users": [DAN, FRANK]}
    review_id = seed_review(rt, workflow=CAMPAIGN)
    form = people_form(rt, client, ack, review_id)
    body, view = view_submission(form, {"people_groups": ["S0DESIGN"]})
    listeners.people_saved(ack=ack, body=body, view=view, rt=rt, hooks=hooks)
    assert heard == []  # nobody chosen by name: the group is expanded later
    with transaction(rt.sessions) as session:
        [invite] = session.scalars(select(Effect).where(Effect.kind == "people.invite")).all()
        claimed = Claimed(invite.id, invite.kind, invite.payload, 1)
    service.deliver_invite(rt, claimed, hooks)
    service.deliver_invite(rt, claimed, hooks)
    assert heard == [(review_id, (DAN, FRANK))]


def _assign_form(rt: Runtime, client: MagicMock, ack: MagicMock, review_id: int) -> dict:
    client.views_open.reset_mock()
    body = block_actions(button(ASSIGN_STAGE, str(review_id)), channel=CHANNEL)
    listeners.assign_clicked(ack=ack, body=body, action=body["actions"][0], client=client, rt=rt)
    return opened_view(client)


def _status_text(client: MagicMock) -> str:
    """The status message as last posted or updated."""
    calls = client.chat_update.call_args_list or client.chat_postMessage.call_args_list
    return str([c.kwargs.get("blocks") for c in calls if c.kwargs.get("ts") == STATUS_TS][-1:])


def test_nobody_gives_an_assigned_stage_back_to_the_owner_and_stops_its_nudges(
    rt: Runtime, client: MagicMock, ack: MagicMock
) -> None:
    review_id = seed_review(rt, workflow=CAMPAIGN)
    form = _assign_form(rt, client, ack, review_id)
    body, view = view_submission(form, {"stage": "data_gathering", "assignee": BOB})
    listeners.assign_saved(ack=ack, body=body, view=view, rt=rt)
    deliver(rt)
    assert "Waiting on <@U0BOB>" in _status_text(client)
    with transaction(rt.sessions) as session:  # Bob has sat on it for a week and a half
        row = assignments.get(session, review_id, "data_gathering")
        assert row is not None
        row.waiting_since = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    nudges = service.sweep(rt, datetime(2026, 12, 9, 0, 0, tzinfo=UTC))  # Wed 11:00 Sydney
    assert str(nudges) == "stage nudges: 1 to assignees, 1 to owners"  # not delivered yet

    # Only the owner or an admin may un-assign (checked on submit, not only on opening).
    body, view = view_submission(form, {"stage": "data_gathering", NOBODY: [NOBODY]}, user=CAROL)
    listeners.assign_saved(ack=ack, body=body, view=view, rt=rt)
    assert NOT_YOURS_ASSIGN in view_text(ack.call_args.kwargs["view"])
    with transaction(rt.sessions) as session:
        assert assignments.assignee(session, review_id, "data_gathering") == BOB

    # A person and Nobody at once is refused on the form.
    both = {"stage": "data_gathering", "assignee": BOB, NOBODY: [NOBODY]}
    body, view = view_submission(form, both)
    listeners.assign_saved(ack=ack, body=body, view=view, rt=rt)
    assert ack.call_args.kwargs["response_action"] == "errors"
    assert NOBODY in ack.call_args.kwargs["errors"]

    body, view = view_submission(form, {"stage": "data_gathering", NOBODY: [NOBODY]})
    listeners.assign_saved(ack=ack, body=body, view=view, rt=rt)
    assert "is back with the review's owner" in view_text(ack.call_args.kwargs["view"])
    with transaction(rt.sessions) as session:
        assert assignments.get(session, review_id, "data_gathering") is None
    client.chat_postMessage.reset_mock()
    deliver(rt)
    assert "Waiting on" not in _status_text(client)
    assert not [
        m for m in client.chat_postMessage.call_args_list if "waiting on" in str(m.kwargs)
    ]  # the nudges recorded before are dropped
    assert str(service.sweep(rt, datetime(2026, 12, 10, 0, 0, tzinfo=UTC))) == (
        "stage nudges: 0 to assignees, 0 to owners"
    )


def _lessons_submitted_by(rt: Runtime, review_id: int, user: str) -> None:
    """Walk the campaign review to its lessons stage and have `user` submit it, as the stage
    form would (the people feature hears it through its StageSaved hook)."""
    while submit_current(rt, review_id) != "team_sync":
        pass
    with transaction(rt.sessions) as session:
        assignments.assign(session, review_id, "lessons_learned", BOB, ALICE)
    assert submit_current(rt, review_id, user=user) == "lessons_learned"
    saved = StageSaved(review_id, "lessons_learned", user, MagicMock(edited=False))
    with transaction(rt.sessions) as session:
        record(session, service.after_stage(saved))
    deliver(rt)


def lessons_to(rt: Runtime) -> list[str]:
    """Who the lessons DMs are for (delivering them needs the report in the thread)."""
    return sorted(e["user"] for e in effects(rt, LESSON))


def test_the_owner_gets_the_lessons_an_assignee_wrote_without_being_a_participant(
    rt: Runtime, client: MagicMock
) -> None:
    review_id = seed_review(rt, workflow=CAMPAIGN)
    with transaction(rt.sessions) as session:
        participants.add(session, review_id, [BOB], participants.PARTICIPANT, ALICE)
        participants.add(session, review_id, [CAROL], participants.STAKEHOLDER, ALICE)
    _lessons_submitted_by(rt, review_id, BOB)
    assert lessons_to(rt) == sorted([ALICE, BOB, CAROL])


def test_an_owner_who_wrote_the_lessons_is_not_sent_them(rt: Runtime, client: MagicMock) -> None:
    review_id = seed_review(rt, workflow=CAMPAIGN)
    with transaction(rt.sessions) as session:
        participants.add(session, review_id, [ALICE, BOB], participants.PARTICIPANT, ALICE)
    _lessons_submitted_by(rt, review_id, ALICE)
    assert lessons_to(rt) == [BOB]

"""`/postmortem search` and the Export button (bot/knowledge/listeners.py), called directly."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

from helpers.slack_unit import (
    CHANNEL,
    STATUS_TS,
    TEAM,
    block_actions,
    button,
    seed_review,
    slack_calls,
    slack_error,
    slash_command,
    view_text,
)

from bot.knowledge import listeners
from bot.reviews.views.review_message import EXPORT_ACTION
from bot.runtime import Runtime
from storage import knowledge as kb
from storage import reviews as store
from storage.db import transaction


def search(rt: Runtime, client: MagicMock, text: str) -> dict[str, Any]:
    respond = MagicMock()
    listeners.search(rt, slash_command(f"search {text}"), text, respond, client)
    respond.assert_called_once()
    return respond.call_args.kwargs


def lesson(rt: Runtime, title: str, lessons: str, team: str = TEAM) -> int:
    review_id = seed_review(rt, title=title)
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        review.workspace_id = store.workspace(session, team).id
        kb.upsert_entry(
            session,
            workspace_id=review.workspace_id,
            review_id=review_id,
            workflow_key="support_postmortem",
            title=title,
            lessons=lessons,
        )
    return review_id


def test_an_empty_search_explains_how_to_search(rt: Runtime, client: MagicMock) -> None:
    answer = search(rt, client, "   ")

    assert answer["text"].startswith("Search past lessons: `/postmortem search refund delay`")
    assert "`workflow:support`" in answer["text"]
    assert slack_calls(client) == []


def test_a_search_finds_this_workspaces_lessons_only(rt: Runtime, client: MagicMock) -> None:
    lesson(rt, "Refund took three weeks", "Refunds wait on a manual finance step.")
    lesson(rt, "Courier lost a parcel", "Track parcels daily.")
    lesson(rt, "Another company's refund", "Refunds elsewhere.", team="T0OTHER")

    shown = view_text(search(rt, client, "refunds"))

    assert "Lessons learned matching “refunds”" in shown
    assert "Refund took three weeks" in shown
    assert "Courier lost a parcel" not in shown
    assert "Another company's refund" not in shown


def test_an_unknown_workflow_filter_is_pointed_out(rt: Runtime, client: MagicMock) -> None:
    shown = view_text(search(rt, client, "workflow:nonsense refund"))

    assert "Nothing found for “workflow:nonsense refund”" in shown
    assert ":warning: workflow:nonsense matches no workflow" in shown


def click_export(rt: Runtime, ack: MagicMock, respond: MagicMock, review_id: int) -> None:
    body = block_actions(button(EXPORT_ACTION, str(review_id)), channel=CHANNEL)
    listeners.export_clicked(ack=ack, body=body, action=body["actions"][0], respond=respond, rt=rt)


def test_export_of_a_deleted_review_says_so(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    click_export(rt, ack, respond, 424242)

    ack.assert_called_once_with()
    respond.assert_called_once_with(
        text="That review no longer exists.", response_type="ephemeral", replace_original=False
    )
    assert slack_calls(client) == []


def test_export_uploads_the_record_to_the_reviews_thread(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt, title="Refund took three weeks")

    click_export(rt, ack, respond, review_id)

    client.files_upload_v2.assert_called_once()
    upload = client.files_upload_v2.call_args.kwargs
    assert (upload["channel"], upload["thread_ts"]) == (CHANNEL, STATUS_TS)
    assert "Refund took three weeks" in upload["content"]
    assert upload["filename"].endswith(".md")
    respond.assert_not_called()


def test_export_where_files_are_not_allowed_posts_the_record_as_text(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt, title="Refund took three weeks")
    client.files_upload_v2.side_effect = slack_error("files.upload", "file_uploads_disabled")

    click_export(rt, ack, respond, review_id)

    posted = client.chat_postMessage.call_args.kwargs
    assert (posted["channel"], posted["thread_ts"]) == (CHANNEL, STATUS_TS)
    assert posted["text"].startswith("Review record")
    assert "Refund took three weeks" in view_text(posted)
    respond.assert_not_called()


def test_an_export_slack_refuses_is_explained(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    review_id = seed_review(rt)
    client.files_upload_v2.side_effect = slack_error("files.upload", "channel_not_found")

    click_export(rt, ack, respond, review_id)

    respond.assert_called_once_with(
        text="The export could not be posted (channel_not_found).",
        response_type="ephemeral",
        replace_original=False,
    )
    client.chat_postMessage.assert_not_called()

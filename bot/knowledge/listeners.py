"""`/postmortem search` and the report's Export button.

Export uploads the Markdown record to the review's thread with Slack's files upload v2 flow; where
the workspace forbids files (or the app lacks files:write), the record goes in the thread as text.
The thread is visible to the whole channel, so admin-only answers are left out there.
"""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.knowledge.export import export_review, filename
from bot.knowledge.service import hit_lines
from bot.knowledge.views import chunks, search_results
from bot.reviews.views.review_message import EXPORT_ACTION
from bot.runtime import Runtime
from bot.slack.text import clip
from storage import knowledge as kb
from storage import reviews as store
from storage.db import transaction
from workflows.reports import parse_query

log = logging.getLogger(__name__)
RESULTS = 5
# Errors after which a file will not work here; the record is posted as text instead.
NO_FILES = frozenset(
    {
        "missing_scope",
        "not_allowed_token_type",
        "file_uploads_disabled",
        "file_uploads_except_images_disabled",
        "not_allowed",
        "restricted_action",
        "method_not_supported_for_channel_type",
    }
)


def search(rt: Runtime, command: dict, rest: str, respond: Respond, client: WebClient) -> None:
    query = parse_query(rest)
    if query.empty:
        respond(
            text="Search past lessons: `/postmortem search refund delay` (every word must "
            "match), with filters `workflow:support`, `tag:returns`, "
            "`after:2026-01-31`."
        )
        return
    problems = list(query.problems)
    workflow_key = None
    if query.workflow:
        found = rt.registry.find(query.workflow)
        if found is None:
            problems.append(f"workflow:{query.workflow} matches no workflow")
        else:
            workflow_key = found.key
    with transaction(rt.sessions) as session:
        ws = store.workspace(session, command["team_id"])
        hits = kb.search(
            session,
            ws.id,
            query.words,
            workflow_key=workflow_key,
            tags=query.tags,
            after=query.after,
            limit=RESULTS,
        )
        lines = hit_lines(session, rt, hits, query.words)
    respond(**search_results(rest, lines, problems=tuple(problems)))


class SlackNames(dict[str, str]):
    """User ids to display names, asked of Slack (cached by People) as the export needs them."""

    def __init__(self, rt: Runtime):
        super().__init__()
        self._rt = rt

    def get(self, user_id: str, default: str | None = None) -> str | None:  # type: ignore[override]
        info = self._rt.people.info(user_id) or {}
        profile = info.get("profile") or {}
        return (
            profile.get("display_name")
            or info.get("real_name")
            or profile.get("real_name")
            or default
        )


def post_export(rt: Runtime, review_id: int, user_id: str) -> str:
    """Upload the review's Markdown record to its thread; "file", "text" or "gone"."""
    with transaction(rt.sessions) as session:
        review = store.get_review(session, review_id)
        if review is None:
            return "gone"
        text = export_review(
            session,
            review_id,
            "markdown",
            include_private=False,
            names=SlackNames(rt),
            templates_dir=rt.settings.templates_dir,
        )
        name, title = filename(review, "markdown"), review.title
        channel, thread = review.channel_id, review.message_ts
        store.audit(
            session, review.workspace_id, user_id, "review.exported", review.id, format="markdown"
        )
    try:
        rt.client.files_upload_v2(
            channel=channel,
            thread_ts=thread,
            content=text,
            filename=name,
            title=clip(f"Review record: {title}", 200),
            initial_comment=f"Export requested by <@{user_id}>.",
        )
        return "file"
    except SlackApiError as exc:
        if exc.response.get("error") not in NO_FILES:
            raise
        log.info(
            "files are not allowed here (%s): posting the export as text", exc.response.get("error")
        )
    parts = chunks(text, 2900)
    for index, part in enumerate(parts[:20]):
        more = f" (part {index + 1} of {len(parts)})" if len(parts) > 1 else ""
        rt.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            text=f"Review record{more}",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": f"```{part}```"}}],
        )
    return "text"


def export_clicked(ack: Ack, body: dict, action: dict, respond: Respond, rt: Runtime) -> None:
    ack()
    user_id = body["user"]["id"]
    try:
        done = post_export(rt, int(action["value"]), user_id)
    except SlackApiError as exc:
        respond(
            text=f"The export could not be posted ({exc.response.get('error')}).",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    if done == "gone":
        respond(
            text="That review no longer exists.", response_type="ephemeral", replace_original=False
        )


def register(app: App) -> None:
    """Route this feature's Slack requests to its listener functions."""
    app.action(EXPORT_ACTION)(export_clicked)

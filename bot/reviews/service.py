"""Review operations: where the pure engine's verdicts become database rows.

Slack listeners, the CLI and the webhook all go through here, so a rule (roles, stale submits,
action-item sync) is enforced once, on the server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.config import Settings
from storage import assignments, participants
from storage import reviews as store
from storage import team_sync as team_sync_store
from storage.models import Review
from workflows import team_sync
from workflows.engine import Earlier, Transition, clean, may_act, role_refusal, transition
from workflows.model import FieldType, Role, Stage, Workflow
from workflows.rules import RuleContext

ACTION_ITEMS_ROLE = "action_items"
PARTICIPANTS_ROLE = "participants"  # a `users` field that starts as the review's participants
PREFILLED_PEOPLE_MAX = 100


def rule_context(settings: Settings) -> RuleContext:
    """What the domain rules need from the deployment (the seller on tax invoices)."""
    return RuleContext(seller_name=settings.seller_name, seller_abn=settings.seller_abn)


_PINNED: dict[tuple[str, str], Workflow] = {}


def workflow_of(review: Review) -> Workflow:
    """The definition the review started with (not today's YAML).

    Parsed once per process: a pinned definition never changes (it is found by its content's
    digest), and validating it again cost a millisecond or more of every request's ack.
    """
    version = review.workflow_version
    found = _PINNED.get((version.key, version.digest))
    if found is None:
        found = _PINNED[(version.key, version.digest)] = Workflow.model_validate(version.definition)
    return found


def start_review(
    session: Session,
    workflow: Workflow,
    *,
    team_id: str,
    title: str,
    channel_id: str,
    owner_id: str,
    started_by: str,
    trigger: str = "manual",
    trigger_ref: str | None = None,
) -> Review:
    digest = workflow.digest  # (computed from the whole definition: once)
    # The stored definition is this one (found by its digest): it needs no reading back.
    _PINNED.setdefault((workflow.key, digest), workflow)
    new = store.NewReview(
        title=title.strip(),
        channel_id=channel_id,
        owner_id=owner_id,
        started_by=started_by,
        first_stage=workflow.stages[0].key,
        trigger=trigger,
        trigger_ref=trigger_ref,
    )
    review = store.insert_review(session, team_id, workflow.key, digest, workflow.version, new)
    if review is not None:
        return review
    ws = store.workspace(session, team_id)  # a workspace's first review, a definition's first use
    version = store.pin_workflow(
        session,
        workflow.key,
        workflow.version,
        digest,
        lambda: workflow.model_dump(mode="json"),  # only for a definition not stored yet
    )
    return store.create_review(session, ws, version, new)


@dataclass
class SubmitResult:
    errors: dict[str, str] = field(default_factory=dict)
    refused: str | None = None
    transition: Transition | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    # (item id, created, previous owner) for each action item the stage touched.
    item_changes: list[tuple[int, bool, str | None]] = field(default_factory=list)
    invoice: bool = False  # the stage produced a tax invoice to post
    edited: bool = False

    @property
    def ok(self) -> bool:
        return self.transition is not None


def assigned_to(session: Session, review: Review, stage_key: str, user_id: str) -> bool | None:
    """None when the stage is handed to nobody; else whether it is handed to `user_id`."""
    who = assignments.assignee(session, review.id, stage_key)
    return None if who is None else who == user_id


def editable_stages(session: Session, review: Review) -> list[Stage]:
    """Submitted stages, which the review's owner (or an admin) may correct."""
    answered = store.latest_answers(session, review.id)
    return [s for s in workflow_of(review).stages if s.key in answered]


def submit_stage(
    session: Session,
    review: Review,
    stage_key: str,
    raw: dict[str, Any],
    *,
    user_id: str,
    is_admin: bool,
    context: RuleContext | None = None,
    edit: bool = False,
    state: store.StageState | None = None,
) -> SubmitResult:
    """Validate and save one stage; refuse stale or unauthorised submissions.

    `edit` corrects a submitted stage: only its owner or an admin, recorded as a new revision,
    and the review does not move (decisions already taken keep their effect). `state`: what
    the caller read in this transaction (`store.stage_state`), so it is not read again.
    """
    workflow = workflow_of(review)
    stage = workflow.stage(stage_key)
    if edit:
        if user_id != review.owner_id and not is_admin:
            return SubmitResult(refused="Only the review's owner or an admin can edit a stage.")
    elif review.current_stage != stage_key:
        return SubmitResult(
            refused="This stage has already been submitted (perhaps by someone "
            "else); the review has moved on."
        )
    # stage -> (revision, answers)
    submitted = state.latest if state is not None else store.latest_submissions(session, review.id)
    if edit and stage_key not in submitted:
        return SubmitResult(refused="That stage has not been submitted yet.")
    # Whom the stage is handed to matters only to someone who is neither the review's owner
    # nor an admin (and not at all on an admin's stage): the owner's own submissions, most of
    # them, skip the query (the ack waits for every one).
    is_owner = user_id == review.owner_id
    assigned = (
        None
        if stage.role == Role.ADMIN or is_admin or is_owner
        else assigned_to(session, review, stage_key, user_id)
    )
    if not may_act(stage, is_admin=is_admin, is_owner=is_owner, assigned=assigned):
        return SubmitResult(refused=role_refusal(stage, assigned=assigned))
    latest = {key: answers for key, (_, answers) in submitted.items()}
    answers, errors = clean(stage, raw, context, Earlier(workflow, latest))
    if errors:
        return SubmitResult(errors=errors, answers=answers)
    result = transition(workflow, stage_key, answers, context)
    comments = {
        d.key: answers.get(d.comment_field, "") if d.comment_field else "" for d in stage.decisions
    }
    follow_ups: list[tuple[str, str, str, str | None]] = [
        (fu.kind, fu.title, comments[key], None) for key, fu in result.follow_ups
    ]
    follow_ups += [(f.kind, f.title, f.detail, f.suggested_action) for f in result.findings]
    store.record_submission(
        session,
        review,
        stage_key=stage_key,
        answers=answers,
        user_id=user_id,
        decisions=result.decisions,
        follow_ups=[] if edit else follow_ups,
        next_stage=result.next_stage,
        status=result.status,
        edit=edit,
        revision=submitted.get(stage_key, (0, {}))[0] + 1,
        clear_drafts=state is None or state.drafts,
    )
    changes: list[tuple[int, bool, str | None]] = []
    for f in stage.fields:
        if f.role == ACTION_ITEMS_ROLE:
            needed = answers.get("action_point_needed")
            synced = store.sync_action_items(
                session,
                review,
                stage_key=stage_key,
                rows=answers[f.key],
                actor=user_id,
                action_point_needed=needed if isinstance(needed, bool) else None,
            )
            changes += [(c.item.id, c.created, c.previous_owner) for c in synced]
    return SubmitResult(
        transition=result,
        answers=answers,
        item_changes=changes,
        invoice="tax_invoice" in stage.rules and not edit,
        edited=edit,
    )


def prefill(session: Session, review: Review, stage: Stage) -> dict[str, Any]:
    """First-time values for a stage: action items the review's findings suggest, the review's
    participants for a `users` field with role `participants`, and the earlier answers its
    fields name in `prefill_from` (the customer at kickoff is the buyer at closure)."""
    suggestions = [
        f.suggested_action
        for f in store.follow_ups(session, review.id)
        if f.suggested_action and f.status == "open"
    ]
    earlier = store.latest_answers(session, review.id)
    values: dict[str, Any] = {}
    for f in stage.fields:
        if f.role == ACTION_ITEMS_ROLE and suggestions:
            values[f.key] = [{"title": s[:150]} for s in suggestions[: f.max_items]]
        if f.role == PARTICIPANTS_ROLE and f.type == FieldType.USERS:
            people = participants.user_ids(session, review.id, participants.PARTICIPANT)
            if people:
                values[f.key] = people[:PREFILLED_PEOPLE_MAX]
        if f.prefill_from:
            stage_key, field_key = f.prefill_from.split(".")
            value = (earlier.get(stage_key) or {}).get(field_key)
            if value not in (None, "", []):
                values[f.key] = value
    return values


def async_input_prefill(session: Session, review: Review, stage: Stage) -> str | None:
    """The field a stage's `async_input` names, as the team left it (bot/team_sync): items by
    column, most votes first, clipped to what the field (and Slack's input) can hold."""
    spec = stage.async_input
    if spec is None:
        return None
    found = [
        team_sync.Item(i.id, i.column, i.text, votes)
        for i, votes in team_sync_store.items(session, review.id, stage.key)
    ]
    if not found:
        return None
    limit = min(stage.field(spec.prefill).max_length or team_sync.INPUT_MAX, team_sync.INPUT_MAX)
    return team_sync.compiled(found, spec, limit)

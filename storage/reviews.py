"""Queries and writes for reviews, their stage answers, drafts, action items and the audit log.

Functions take a Session and plain data; the caller owns the transaction. Every write that changes
a review records who did it through `audit`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from storage.claims import updated_rows
from storage.models import (
    ActionItem,
    AuditEntry,
    Decision,
    Draft,
    FollowUp,
    Review,
    StageSubmission,
    WorkflowVersion,
    Workspace,
)
from storage.types import utcnow

OPEN_ITEM_STATUSES = ("open", "in_progress", "blocked")


def audit(
    session: Session,
    workspace_id: int,
    actor: str,
    action: str,
    review_id: int | None = None,
    **detail: Any,
) -> None:
    # Written at once by a statement built once, rather than added for the ORM's flush at
    # commit, which cost a form's ack several times as much for one row. The row refers only to
    # rows that have ids already; the session's autoflush writes anything pending first.
    session.execute(
        _AUDIT_INSERT,
        {
            "workspace_id": workspace_id,
            "review_id": review_id,
            "actor": actor,
            "action": action,
            "detail": detail,
            "at": utcnow(),
        },
    )


_AUDIT_INSERT = insert(cast(Table, AuditEntry.__table__))


def workspace(session: Session, team_id: str, name: str = "") -> Workspace:
    """The workspace row for a Slack team, created on first sight.

    Race-free: listeners and the webhook meet a new team at the same moment on a fresh
    database, so the row is inserted with ON CONFLICT DO NOTHING and then read; a concurrent
    creator waits for the other's commit and shares its row instead of failing on
    uq_workspaces_team_id.
    """
    by_team = select(Workspace).where(Workspace.team_id == team_id)
    found = session.scalar(by_team)
    if found is not None:
        return found
    insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else (sqlite.insert)
    )
    session.execute(
        insert(Workspace)
        .values(team_id=team_id, name=name, settings={}, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["team_id"])
    )
    return session.scalars(by_team.execution_options(populate_existing=True)).one()


def pin_workflow(
    session: Session,
    key: str,
    version: int,
    digest: str,
    definition: dict[str, Any] | Callable[[], dict[str, Any]],
) -> WorkflowVersion:
    """The stored copy of this definition, created on first use.

    Race-free like `workspace`: replicas starting the first reviews of a new definition at the
    same moment share one row instead of failing on uq_workflow_versions_key_digest.
    `definition` may be a function, called only when the row is created: the row is almost
    always there already, and building (and reading back) the whole definition cost every
    start form's ack a millisecond or more. The stored definition is loaded when first read.
    """
    by_digest = select(WorkflowVersion).where(
        WorkflowVersion.key == key, WorkflowVersion.digest == digest
    )
    found = session.scalar(by_digest)  # the definition is deferred (models.py)
    if found is not None:
        return found
    if callable(definition):
        definition = definition()
    insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else (sqlite.insert)
    )
    session.execute(
        insert(WorkflowVersion)
        .values(
            key=key,
            version=version,
            digest=digest,
            definition=definition,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["key", "digest"])
    )
    return session.scalars(by_digest.execution_options(populate_existing=True)).one()


@dataclass(frozen=True)
class NewReview:
    """What a review starts with, besides its workspace and pinned definition."""

    title: str
    channel_id: str
    owner_id: str
    started_by: str
    first_stage: str
    trigger: str = "manual"
    trigger_ref: str | None = None  # what started it (e.g. "ticket:T-1234"): one review each

    def row(self) -> dict[str, Any]:
        """The review's columns, as first stored."""
        now = utcnow()
        return {
            "title": self.title,
            "status": "open",
            "current_stage": self.first_stage,
            "channel_id": self.channel_id,
            "owner_id": self.owner_id,
            "started_by": self.started_by,
            "trigger": self.trigger,
            "trigger_ref": self.trigger_ref,
            "created_at": now,
            "updated_at": now,
        }


def create_review(
    session: Session, ws: Workspace, version: WorkflowVersion, new: NewReview
) -> Review:
    review = Review(
        workspace_id=ws.id, workflow_version_id=version.id, workflow_key=version.key, **new.row()
    )
    session.add(review)
    session.flush()
    _audit_started(session, review, version.version)
    return review


def insert_review(
    session: Session,
    team_id: str,
    workflow_key: str,
    digest: str,
    workflow_version: int,
    new: NewReview,
) -> Review | None:
    """The new review, written by one statement that finds its workspace and pinned definition
    itself; None, with nothing written, when either row is not stored yet (a workspace's first
    review, a definition's first use: `workspace`, `pin_workflow` and `create_review` then).

    Finding the two rows first and inserting after were three statements and most of a start
    form's ack (bench/ack_latency.py); this is the path every other start takes.
    """
    values = {"workflow_key": workflow_key, **new.row()}
    found = {"team": team_id, "key": workflow_key, "digest": digest}
    statement = _insert_review(tuple(values))
    row = session.execute(statement, {**found, **values}).mappings().one_or_none()
    if row is None:
        return None
    # The row as the session would have loaded it: persistent, its other columns read on access.
    review = Review(**row, **values)
    make_transient_to_detached(review)
    session.add(review)
    _audit_started(session, review, workflow_version)
    return review


@cache
def _insert_review(values: tuple[str, ...]) -> Any:
    """`insert_review`'s statement for these columns (always the same ones), with a bound
    parameter for each: built once, as building it took longer than running it."""
    reviews = cast(Table, Review.__table__)
    found = (
        select(
            Workspace.id,
            WorkflowVersion.id,
            *(bindparam(name, type_=reviews.c[name].type) for name in values),
        )
        .select_from(Workspace)
        .join(WorkflowVersion, true())
        .where(
            Workspace.team_id == bindparam("team"),
            WorkflowVersion.key == bindparam("key"),
            WorkflowVersion.digest == bindparam("digest"),
        )
    )
    return (
        insert(reviews)
        .from_select(["workspace_id", "workflow_version_id", *values], found)
        .returning(reviews.c.id, reviews.c.workspace_id, reviews.c.workflow_version_id)
    )


def _audit_started(session: Session, review: Review, workflow_version: int) -> None:
    audit(
        session,
        review.workspace_id,
        review.started_by,
        "review.started",
        review.id,
        title=review.title,
        workflow=review.workflow_key,
        workflow_version=workflow_version,
        channel=review.channel_id,
        owner=review.owner_id,
    )


def get_review(session: Session, review_id: int, *, for_update: bool = False) -> Review | None:
    """The review; `for_update` locks its row (PostgreSQL) for a change to it.

    A change almost always needs the review's pinned definition (`bot.reviews.service.
    workflow_of`), so it is read in the same statement rather than by a second, lazy one: every
    statement in a form's saving transaction lengthens the ack, and on SQLite the write lock
    other submissions wait for. Only the review's row is locked.
    """
    return session.scalar(_review_by_id(for_update), {"review_id": review_id})


@cache
def _review_by_id(for_update: bool) -> Any:
    """`get_review`'s statement, built once (building a statement costs more than running it)."""
    query = select(Review).where(Review.id == bindparam("review_id"))
    if for_update:
        query = query.options(joinedload(Review.workflow_version, innerjoin=True)).with_for_update(
            of=Review
        )
    return query


def latest_answers(session: Session, review_id: int) -> dict[str, dict[str, Any]]:
    """The current answers of every submitted stage (the newest revision of each)."""
    return {key: answers for key, (_, answers) in latest_submissions(session, review_id).items()}


def latest_submissions(session: Session, review_id: int) -> dict[str, tuple[int, dict[str, Any]]]:
    """Each submitted stage's newest revision: stage key -> (revision, answers).

    One statement over the review's submissions (a review has a few dozen at most), read on
    every save: the revision numbers the next one, the answers are what later stages check
    against."""
    rows = session.execute(_LATEST_SUBMISSIONS, {"review_id": review_id})
    return {stage_key: (revision, answers) for stage_key, revision, answers in rows}


_LATEST_SUBMISSIONS = (
    select(StageSubmission.stage_key, StageSubmission.revision, StageSubmission.answers)
    .where(StageSubmission.review_id == bindparam("review_id"))
    .order_by(StageSubmission.revision)
)


@dataclass(frozen=True)
class StageState:
    """What saving a stage form reads, in one statement (`stage_state`)."""

    latest: dict[str, tuple[int, dict[str, Any]]]  # as `latest_submissions`
    draft: dict[str, Any] | None  # the submitter's draft of the stage, if any
    drafts: bool  # whether anyone has a draft of the stage (a save clears them all)


def stage_state(session: Session, review_id: int, stage_key: str, user_id: str) -> StageState:
    """The review's latest submissions and the stage's drafts, read together.

    A stage form's save needs both, and the round trip it saves is one its ack waits for (on
    PostgreSQL, each statement of a burst of saves queues for the server and the
    interpreter); knowing that nobody has a draft of the stage also spares the save its
    DELETE of them (`record_submission(clear_drafts=False)`)."""
    latest: dict[str, tuple[int, dict[str, Any]]] = {}
    draft: dict[str, Any] | None = None
    drafts = False
    rows = session.execute(
        _STAGE_STATE, {"review_id": review_id, "stage_key": stage_key, "user_id": user_id}
    )
    for stage, revision, values, is_draft, mine in rows:
        if not is_draft:
            latest[stage] = (revision, values)
            continue
        drafts = True
        if mine:
            draft = values
    return StageState(latest, draft, drafts)


_STAGE_STATE = union_all(
    select(
        StageSubmission.stage_key,
        StageSubmission.revision,
        StageSubmission.answers.label("values"),
        literal(False).label("is_draft"),
        literal(False).label("mine"),
    ).where(StageSubmission.review_id == bindparam("review_id")),
    select(
        Draft.stage_key,
        literal(0),
        Draft.values,
        literal(True),
        Draft.user_id == bindparam("user_id"),
    ).where(Draft.review_id == bindparam("review_id"), Draft.stage_key == bindparam("stage_key")),
).order_by("is_draft", "revision")


def stage_history(session: Session, review_id: int, stage_key: str) -> list[StageSubmission]:
    return list(
        session.scalars(
            select(StageSubmission)
            .where(
                StageSubmission.review_id == review_id,
                StageSubmission.stage_key == stage_key,
            )
            .order_by(StageSubmission.revision)
        )
    )


def passes(session: Session, review_id: int) -> list[tuple[str, dict[str, Any]]]:
    """Every submission that moved the review, oldest first: (stage key, answers).

    A stage sent back and submitted again counts twice, so its first decision is not lost. An
    owner's edit corrects the pass it edits (that stage's latest) instead of adding one.
    """
    edits = {
        (a.get("stage"), a.get("revision"))
        for a in session.scalars(
            select(AuditEntry.detail).where(
                AuditEntry.review_id == review_id, AuditEntry.action == "stage.edited"
            )
        )
    }
    out: list[tuple[str, dict[str, Any]]] = []
    for sub in session.scalars(
        select(StageSubmission)
        .where(StageSubmission.review_id == review_id)
        .order_by(StageSubmission.id)
    ):
        if (sub.stage_key, sub.revision) in edits:
            index = next(
                (i for i in range(len(out) - 1, -1, -1) if out[i][0] == sub.stage_key), None
            )
            if index is not None:
                out[index] = (sub.stage_key, sub.answers)
                continue
        out.append((sub.stage_key, sub.answers))
    return out


@dataclass(frozen=True)
class LastMove:
    """The newest submission that moved the review: who, when, from and to which stage."""

    by: str
    at: datetime
    from_stage: str | None
    to_stage: str | None
    answers: dict[str, Any]


def last_move(session: Session, review_id: int) -> LastMove | None:
    """The newest submission that moved the review (an edit moves nothing), or None."""
    entry = session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.review_id == review_id,
            AuditEntry.action == "stage.submitted",
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        return None
    detail = entry.detail or {}
    answers = session.scalar(
        select(StageSubmission.answers).where(
            StageSubmission.review_id == review_id,
            StageSubmission.stage_key == detail.get("stage"),
            StageSubmission.revision == detail.get("revision"),
        )
    )
    return LastMove(
        entry.actor, entry.at, detail.get("from_stage"), detail.get("to_stage"), answers or {}
    )


def record_submission(
    session: Session,
    review: Review,
    *,
    stage_key: str,
    answers: dict[str, Any],
    user_id: str,
    decisions: dict[str, str],
    follow_ups: Iterable[tuple[str, str, str, str | None]],
    next_stage: str | None,
    status: str,
    edit: bool = False,
    revision: int | None = None,
    clear_drafts: bool = True,
) -> int:
    """Store a stage's answers as a new revision and move the review on (unless an edit); the
    new submission's id. `revision`: the new one's number, when the caller has just read the
    stage's latest (`latest_submissions`); else it is read here. Everyone's drafts of the stage
    are deleted, unless the caller has just read that there are none (`clear_drafts=False`).

    The rows are written with plain INSERTs rather than through the ORM's unit of work: this
    runs in the transaction a form's ack waits for, and nothing reads the new rows back as
    objects in it.
    """
    if revision is None:
        revision = (
            session.scalar(
                select(func.max(StageSubmission.revision)).where(
                    StageSubmission.review_id == review.id, StageSubmission.stage_key == stage_key
                )
            )
            or 0
        ) + 1
    now = utcnow()
    # The session's own connection, in its transaction: the rows go in without the ORM's
    # statement handling, and nothing is pending in the session for them to wait for. The
    # statements are built once (`_submission_writes`): building them cost more than running.
    conn = session.connection()
    writes = _submission_writes()
    follow_ups = list(follow_ups)
    if conn.dialect.name == "postgresql" and not (edit or decisions or follow_ups):
        if clear_drafts:
            conn.execute(writes.clear_drafts, {"the_review": review.id, "the_stage": stage_key})
        return _submit_and_move(
            session, review, stage_key, answers, user_id, revision, next_stage, status, now
        )
    submission_id = conn.execute(
        writes.submission,
        {
            "review_id": review.id,
            "stage_key": stage_key,
            "revision": revision,
            "answers": answers,
            "submitted_by": user_id,
            "submitted_at": now,
        },
    ).scalar_one()
    if decisions:
        conn.execute(
            writes.decisions,
            [
                {
                    "review_id": review.id,
                    "submission_id": submission_id,
                    "decision_key": key,
                    "option": option,
                    "decided_by": user_id,
                    "decided_at": now,
                }
                for key, option in decisions.items()
            ],
        )
    rows = [
        {
            "review_id": review.id,
            "submission_id": submission_id,
            "kind": kind,
            "title": title,
            "detail": detail,
            "suggested_action": suggested,
            "status": "open",
            "created_at": now,
        }
        for kind, title, detail, suggested in follow_ups
    ]
    if rows:
        conn.execute(writes.follow_ups, rows)
    if clear_drafts:
        conn.execute(writes.clear_drafts, {"the_review": review.id, "the_stage": stage_key})
    if edit:  # an owner's correction: history grows, the review stays where it is
        detail: dict[str, Any] = {"stage": stage_key, "revision": revision}
        action = "stage.edited"
    else:
        detail = _moved_detail(review, stage_key, revision, decisions, next_stage, status)
        moved = _moved(next_stage, status, now)
        conn.execute(writes.move_review, {"the_review": review.id, **moved})  # SETs what it names
        _mark_moved(review, moved)
        action = "stage.submitted"
    conn.execute(
        _AUDIT_INSERT,
        {
            "workspace_id": review.workspace_id,
            "review_id": review.id,
            "actor": user_id,
            "action": action,
            "detail": detail,
            "at": now,
        },
    )
    return submission_id


def _submit_and_move(
    session: Session,
    review: Review,
    stage_key: str,
    answers: dict[str, Any],
    user_id: str,
    revision: int,
    next_stage: str | None,
    status: str,
    now: datetime,
) -> int:
    """`record_submission` for the usual case on PostgreSQL (a stage submitted, no decision or
    finding to record): the submission, the review's move and its audit entry in one statement
    (`_submit_and_move_statement`), one round trip where there were three. Each round trip of
    a burst of saves waits for the database server and then for the interpreter, and the form's
    ack waits for them all; SQLite has no data-modifying CTEs and no round trips to save."""
    moved = _moved(next_stage, status, now)
    submission_id: int = (
        session.connection()
        .execute(
            _submit_and_move_statement(),
            {
                "p_review": review.id,
                "p_stage": stage_key,
                "p_revision": revision,
                "p_answers": answers,
                "p_by": user_id,
                "p_at": now,
                "p_next": next_stage,
                "p_status": status,
                "p_completed": moved.get("completed_at"),
                "p_workspace": review.workspace_id,
                "p_detail": _moved_detail(review, stage_key, revision, {}, next_stage, status),
            },
        )
        .scalar_one()
    )
    _mark_moved(review, moved)
    return submission_id


def _moved(next_stage: str | None, status: str, now: datetime) -> dict[str, Any]:
    """The review's columns a submission that moves it sets."""
    moved: dict[str, Any] = {"current_stage": next_stage, "status": status, "updated_at": now}
    if next_stage is None:
        moved["completed_at"] = now
    return moved


def _mark_moved(review: Review, moved: dict[str, Any]) -> None:
    """The loaded review says what was written, with nothing left for the ORM to flush."""
    for name, value in moved.items():
        set_committed_value(review, name, value)


def _moved_detail(
    review: Review,
    stage_key: str,
    revision: int,
    decisions: dict[str, str],
    next_stage: str | None,
    status: str,
) -> dict[str, Any]:
    """The audit entry's detail of a submission that moves the review (read before it moves)."""
    return {
        "stage": stage_key,
        "revision": revision,
        "decisions": decisions,
        "from_stage": review.current_stage,
        "to_stage": next_stage,
        "status": status,
    }


@cache
def _submit_and_move_statement() -> Any:
    """WITH new_submission AS (INSERT … RETURNING id), logged AS (INSERT INTO audit_log …)
    UPDATE reviews … RETURNING (SELECT id FROM new_submission); built once."""
    submissions = cast(Table, StageSubmission.__table__)
    reviews = cast(Table, Review.__table__)
    audit = cast(Table, AuditEntry.__table__)
    at = submissions.c.submitted_at.type
    new = (
        insert(submissions)
        .values(
            review_id=bindparam("p_review"),
            stage_key=bindparam("p_stage"),
            revision=bindparam("p_revision"),
            answers=bindparam("p_answers", type_=submissions.c.answers.type),
            submitted_by=bindparam("p_by"),
            submitted_at=bindparam("p_at", type_=at),
        )
        .returning(submissions.c.id)
        .cte("new_submission")
    )
    logged = (
        insert(audit)
        .values(
            workspace_id=bindparam("p_workspace"),
            review_id=bindparam("p_review"),
            actor=bindparam("p_by"),
            action=literal("stage.submitted"),
            detail=bindparam("p_detail", type_=audit.c.detail.type),
            at=bindparam("p_at", type_=at),
        )
        .cte("logged")
    )
    return (
        update(reviews)
        .where(reviews.c.id == bindparam("p_review"))
        .values(
            current_stage=bindparam("p_next"),
            status=bindparam("p_status"),
            updated_at=bindparam("p_at", type_=at),
            completed_at=func.coalesce(bindparam("p_completed", type_=at), reviews.c.completed_at),
        )
        .add_cte(new)
        .add_cte(logged)
        .returning(select(new.c.id).scalar_subquery())
    )


@dataclass(frozen=True)
class _SubmissionWrites:
    submission: Any
    decisions: Any
    follow_ups: Any
    clear_drafts: Any
    move_review: Any


@cache
def _submission_writes() -> _SubmissionWrites:
    """`record_submission`'s statements; each row's values are bound when it runs."""
    submissions = cast(Table, StageSubmission.__table__)
    drafts = cast(Table, Draft.__table__)
    reviews = cast(Table, Review.__table__)
    return _SubmissionWrites(
        submission=insert(submissions).returning(submissions.c.id),
        decisions=insert(cast(Table, Decision.__table__)),
        follow_ups=insert(cast(Table, FollowUp.__table__)),
        clear_drafts=delete(drafts).where(
            drafts.c.review_id == bindparam("the_review"),
            drafts.c.stage_key == bindparam("the_stage"),
        ),
        move_review=update(reviews).where(reviews.c.id == bindparam("the_review")),
    )


@dataclass(frozen=True)
class ItemChange:
    """What a stage submission did to one action item (the reminders tell owners about it)."""

    item: ActionItem
    created: bool = False
    previous_owner: str | None = None


def sync_action_items(
    session: Session,
    review: Review,
    *,
    stage_key: str,
    rows: Sequence[dict[str, Any]],
    actor: str,
    action_point_needed: bool | None = None,
) -> list[ItemChange]:
    """Make the action items entered in a stage match its rows; a removed row is cancelled.

    Items keep their id (and their reminders and status) when a stage is edited.
    """
    existing = {
        item.position: item
        for item in session.scalars(
            select(ActionItem).where(
                ActionItem.review_id == review.id, ActionItem.source_stage == stage_key
            )
        )
    }
    kept: list[ItemChange] = []
    for position, row in enumerate(rows):
        item = existing.pop(position, None)
        due = date.fromisoformat(row["due_date"]) if row.get("due_date") else None
        if item is None:
            item = ActionItem(
                review_id=review.id,
                source_stage=stage_key,
                position=position,
                title=row["title"],
                owner_id=row["owner"],
                due_date=due,
                tracking_link=row.get("tracking_link"),
                action_point_needed=action_point_needed,
            )
            session.add(item)
            session.flush()
            audit(
                session,
                review.workspace_id,
                actor,
                "action_item.created",
                review.id,
                item=item.id,
                title=item.title,
                owner=item.owner_id,
                due_date=row.get("due_date"),
            )
            change = ItemChange(item, created=True)
        else:
            change = ItemChange(item)
            if item.owner_id != row["owner"]:
                change = ItemChange(item, previous_owner=item.owner_id)
                item.assigned_at = utcnow()
            changes = {
                k: v
                for k, v in (
                    ("title", row["title"]),
                    ("owner_id", row["owner"]),
                    ("due_date", due),
                    ("tracking_link", row.get("tracking_link")),
                )
                if getattr(item, k) != v
            }
            for key, value in changes.items():
                setattr(item, key, value)
            if item.status == "cancelled":
                item.status = "open"
                changes["status"] = "open"
            if changes:
                audit(
                    session,
                    review.workspace_id,
                    actor,
                    "action_item.updated",
                    review.id,
                    item=item.id,
                    **{k: str(v) for k, v in changes.items()},
                )
        kept.append(change)
    for item in existing.values():
        if item.status != "cancelled":
            item.status = "cancelled"
            audit(
                session,
                review.workspace_id,
                actor,
                "action_item.cancelled",
                review.id,
                item=item.id,
            )
    session.flush()
    return kept


def add_action_item(
    session: Session,
    review: Review,
    *,
    title: str,
    owner_id: str,
    due: date,
    tracking_link: str | None,
    actor: str,
) -> ActionItem:
    """An action item added after the stages (from the review's message), not tied to a form."""
    item = ActionItem(
        review_id=review.id,
        title=title,
        owner_id=owner_id,
        due_date=due,
        tracking_link=tracking_link,
    )
    session.add(item)
    session.flush()
    audit(
        session,
        review.workspace_id,
        actor,
        "action_item.created",
        review.id,
        item=item.id,
        title=title,
        owner=owner_id,
        due_date=due.isoformat(),
    )
    return item


def set_message(session: Session, review: Review, channel_id: str, ts: str) -> None:
    review.channel_id, review.message_ts = channel_id, ts


def list_reviews(
    session: Session,
    workspace_id: int,
    *,
    channel_id: str | None = None,
    user_id: str | None = None,
    limit: int = 20,
) -> list[Review]:
    """Reviews in a channel or owned/started by a user, newest activity first."""
    query = select(Review).where(Review.workspace_id == workspace_id)
    who = []
    if channel_id:
        who.append(Review.channel_id == channel_id)
    if user_id:
        who += [Review.owner_id == user_id, Review.started_by == user_id]
    if who:
        query = query.where(or_(*who))
    return list(
        session.scalars(query.order_by(Review.updated_at.desc(), Review.id.desc()).limit(limit))
    )


def awaiting_admin(session: Session, workspace_id: int) -> list[Review]:
    """Reviews whose status says they wait for an admin (e.g. support post-mortems In Review)."""
    return list(
        session.scalars(
            select(Review)
            .where(
                Review.workspace_id == workspace_id,
                Review.status == "in_review",
                Review.current_stage.is_not(None),
            )
            .order_by(Review.updated_at)
        )
    )


def open_items_for(
    session: Session, user_id: str, workspace_id: int | None = None
) -> list[ActionItem]:
    """A user's open action items, soonest due first (no due date last)."""
    query = (
        select(ActionItem)
        .join(Review)
        .where(ActionItem.owner_id == user_id, ActionItem.status.in_(OPEN_ITEM_STATUSES))
    )
    if workspace_id is not None:
        query = query.where(Review.workspace_id == workspace_id)
    return list(
        session.scalars(
            query.order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)
        )
    )


def save_draft(
    session: Session, review_id: int, stage_key: str, user_id: str, values: dict[str, Any]
) -> None:
    draft = session.scalar(
        select(Draft).where(
            Draft.review_id == review_id, Draft.stage_key == stage_key, Draft.user_id == user_id
        )
    )
    if draft is None:
        session.add(Draft(review_id=review_id, stage_key=stage_key, user_id=user_id, values=values))
    else:
        draft.values = values


def get_draft(
    session: Session, review_id: int, stage_key: str, user_id: str
) -> dict[str, Any] | None:
    return session.scalar(
        _DRAFT, {"review_id": review_id, "stage_key": stage_key, "user_id": user_id}
    )


_DRAFT = select(Draft.values).where(
    Draft.review_id == bindparam("review_id"),
    Draft.stage_key == bindparam("stage_key"),
    Draft.user_id == bindparam("user_id"),
)


def audit_trail(session: Session, review_id: int) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.review_id == review_id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )


def claim_follow_ups(
    session: Session, review_id: int, kind: str, *, to_status: str, from_status: str = "open"
) -> list[FollowUp]:
    """Move the review's follow-ups of `kind` from one status to another: the ones this call
    moved (a row another process moved first is not returned, so it is acted on once)."""
    claimed = []
    for row in follow_ups(session, review_id):
        if row.kind != kind or row.status != from_status:
            continue
        moved = updated_rows(
            session,
            update(FollowUp)
            .where(
                FollowUp.id == row.id,
                FollowUp.status == from_status,
            )
            .values(status=to_status)
            .execution_options(synchronize_session=False),
        )
        if moved == 1:
            session.refresh(row)
            claimed.append(row)
    return claimed


def follow_ups(session: Session, review_id: int) -> list[FollowUp]:
    return list(
        session.scalars(
            select(FollowUp).where(FollowUp.review_id == review_id).order_by(FollowUp.id)
        )
    )

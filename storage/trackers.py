"""Action items mirrored as tasks in the team's tracker (ClickUp, Jira, Linear, GitHub Issues).

One row per action item, written *before* the tracker is asked to create the task: the row is the
claim (a unique item id, and a short lease so two workers never create at once) and the memory
that an attempt was made. An attempt whose answer was lost (a time-out, a crash before the
commit) leaves a row without an external id and with `attempts > 0`; the next attempt looks the
task up by its marker before creating another, so an item never gets two tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.claims import insert_once
from storage.models import ActionItem, Base
from storage.types import utcnow

CREATING, OPEN, CLOSED = "creating", "open", "closed"
TRACKER_NAMES = {"clickup": "ClickUp", "jira": "Jira", "linear": "Linear", "github": "GitHub"}


class TrackerTask(Base):
    __tablename__ = "tracker_tasks"
    __table_args__ = (Index("ix_tracker_tasks_tracker_external_id", "tracker", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("action_items.id", ondelete="CASCADE"), unique=True
    )
    tracker: Mapped[str] = mapped_column(String(20))
    # The tracker's own id (ClickUp task id, Jira issue id, Linear issue id, GitHub number) and
    # what people call it (the same id, PM-12, ENG-7, #12); None until the tracker answered.
    external_id: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=CREATING)
    # The due date the tracker last reported, so a change made there is noticed once.
    due_date: Mapped[date | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TaskReference(Base):
    """A task someone named in a `tracker_task` answer, as the tracker last described it.

    Written by the lookup after the stage is saved (bot/trackers/references.py); read when the
    review's summary, report and status message are drawn, so they show the task's title and
    status without asking the tracker themselves.
    """

    __tablename__ = "tracker_references"
    __table_args__ = (
        UniqueConstraint(
            "review_id", "stage_key", "field_key", name="uq_tracker_references_review_field"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    stage_key: Mapped[str] = mapped_column(String(40))
    field_key: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)  # the answer as entered
    tracker: Mapped[str] = mapped_column(String(20))
    found: Mapped[bool] = mapped_column(default=False)
    reference: Mapped[str | None] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(100))
    closed: Mapped[bool] = mapped_column(default=False)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Attempt:
    """A creation this worker holds: whether an earlier attempt may have reached the tracker."""

    row_id: int
    item_id: int
    earlier_attempts: int


def claim_creation(
    session: Session,
    item_id: int,
    tracker: str,
    now: datetime,
    lease: timedelta = timedelta(minutes=2),
) -> Attempt | None:
    """Record the attempt before the tracker is asked; None when there is nothing to do.

    None when the task already exists, or another worker holds the lease right now. The caller
    commits this before calling the tracker, so the attempt is remembered even if the process
    dies while the tracker answers.
    """
    insert_once(
        session,
        TrackerTask,
        ["item_id"],
        item_id=item_id,
        tracker=tracker,
        status=CREATING,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    row = session.scalar(select(TrackerTask).where(TrackerTask.item_id == item_id))
    if row is None or row.external_id is not None:
        return None
    taken = session.execute(
        update(TrackerTask)
        .where(
            TrackerTask.id == row.id,
            TrackerTask.external_id.is_(None),
            TrackerTask.lease_until.is_(None) | (TrackerTask.lease_until < now),
        )
        .values(
            lease_until=now + lease,
            attempts=TrackerTask.attempts + 1,
            tracker=tracker,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        return None
    return Attempt(row.id, item_id, int(row.attempts))


def record_created(
    session: Session,
    row_id: int,
    *,
    external_id: str,
    reference: str,
    url: str,
    due: date | None,
    closed: bool = False,
) -> None:
    session.execute(
        update(TrackerTask)
        .where(TrackerTask.id == row_id)
        .values(
            external_id=external_id,
            reference=reference,
            url=url,
            due_date=due,
            status=CLOSED if closed else OPEN,
            lease_until=None,
            last_error=None,
            updated_at=utcnow(),
        )
    )


def release(session: Session, row_id: int, error: str) -> None:
    """The attempt failed: let the next one start at once (it will look for the task first)."""
    session.execute(
        update(TrackerTask)
        .where(TrackerTask.id == row_id)
        .values(lease_until=None, last_error=error[:2000], updated_at=utcnow())
    )


def for_item(session: Session, item_id: int) -> TrackerTask | None:
    return session.scalar(select(TrackerTask).where(TrackerTask.item_id == item_id))


def by_external_id(session: Session, tracker: str, external_id: str) -> TrackerTask | None:
    return session.scalar(
        select(TrackerTask).where(
            TrackerTask.tracker == tracker, TrackerTask.external_id == external_id
        )
    )


def open_tasks(session: Session, tracker: str) -> list[TrackerTask]:
    """This tracker's tasks not yet closed, for the reconcile to read back (a closed task is
    settled on both sides; only a webhook tells of it being reopened)."""
    return list(
        session.scalars(
            select(TrackerTask)
            .where(
                TrackerTask.tracker == tracker,
                TrackerTask.external_id.is_not(None),
                TrackerTask.status == OPEN,
            )
            .order_by(TrackerTask.id)
        )
    )


def items_without_task(session: Session, open_statuses: tuple[str, ...]) -> list[int]:
    """Open action items with no task yet (assigned before the tracker was set up, or whose
    creation failed for good): the reconcile files them."""
    has_task = select(TrackerTask.item_id).where(TrackerTask.external_id.is_not(None))
    return list(
        session.scalars(
            select(ActionItem.id)
            .where(ActionItem.status.in_(open_statuses), ActionItem.id.not_in(has_task))
            .order_by(ActionItem.id)
        )
    )


@dataclass(frozen=True)
class TaskLink:
    """What Slack shows of an item's task: a link labelled with the tracker's own name for it."""

    tracker: str
    reference: str
    url: str
    closed: bool

    @property
    def label(self) -> str:
        """ "Jira PM-12", "GitHub #12": what people call the task, and where it lives."""
        return f"{TRACKER_NAMES.get(self.tracker, self.tracker)} {self.reference}"


def task_link(session: Session, item_id: int) -> TaskLink | None:
    """The item's task in the tracker, once it exists (for the owner's DM and the review)."""
    row = for_item(session, item_id)
    if row is None or row.external_id is None or not row.url:
        return None
    return TaskLink(row.tracker, row.reference or row.external_id, row.url, row.status == CLOSED)


# --- the workspace's choice of tracker (bot/trackers/settings.py) ------------------------------

SETTINGS_KEY = "trackers"  # Workspace.settings: the choice, its target, GitHub logins
CREDENTIALS_KEY = "tracker_credentials"  # Workspace.settings: the token, kept apart
NONE = "none"


def saved_choice(ws_settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """The tracker an admin chose in Slack, or None when nobody has (the environment decides)."""
    saved = ws_settings.get(SETTINGS_KEY) or {}
    return dict(saved) if isinstance(saved, dict) and "tracker" in saved else None


def saved_token(ws_settings: Mapping[str, Any], tracker: str) -> str:
    """The token saved for `tracker` ("" when none, or it was saved for another tracker)."""
    saved = ws_settings.get(CREDENTIALS_KEY) or {}
    return str(saved.get("token") or "") if saved.get("tracker") == tracker else ""


def with_choice(
    ws_settings: dict[str, Any], choice: Mapping[str, Any], token: str | None
) -> dict[str, Any]:
    """The settings with a new choice; the token replaced only when one is given. Choosing no
    tracker forgets the token: nothing should keep a credential nobody uses."""
    merged = {**(ws_settings.get(SETTINGS_KEY) or {}), **choice}
    result = {**ws_settings, SETTINGS_KEY: merged}
    if choice.get("tracker") == NONE:
        result.pop(CREDENTIALS_KEY, None)
    elif token:
        result[CREDENTIALS_KEY] = {"tracker": choice.get("tracker"), "token": token}
    return result


def without_credentials(ws_settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as they may be shown or exported: never the tracker's token."""
    return {k: v for k, v in ws_settings.items() if k != CREDENTIALS_KEY}


def chosen_name(ws_settings: Mapping[str, Any] | None, env_tracker: str | None) -> str | None:
    """The tracker action items go to: the workspace's choice, else the environment's."""
    saved = saved_choice(ws_settings or {})
    if saved is None:
        return env_tracker
    name = str(saved.get("tracker") or NONE)
    return name if name in TRACKER_NAMES else None


def tracker_on(ws_settings: Mapping[str, Any] | None, env_tracker: str | None) -> bool:
    """Whether action items go to a tracker at all (else no tracker effect is recorded)."""
    return chosen_name(ws_settings, env_tracker) is not None


# --- tasks named in answers (`tracker_task` fields) --------------------------------------------


@dataclass(frozen=True)
class Described:
    """What the tracker said about a task someone named (for the summary, report, message)."""

    tracker: str
    text: str
    found: bool
    reference: str | None = None
    url: str | None = None
    title: str | None = None
    status: str | None = None
    closed: bool = False

    @property
    def label(self) -> str:
        return f"{TRACKER_NAMES.get(self.tracker, self.tracker)} {self.reference or self.text}"

    @property
    def state(self) -> str:
        return "closed" if self.closed else (self.status or "open")


def save_reference(
    session: Session, review_id: int, stage_key: str, field_key: str, described: Described
) -> None:
    """Remember the latest lookup of one answer (one row per review, stage and field)."""
    values = {
        "text": described.text,
        "tracker": described.tracker,
        "found": described.found,
        "reference": described.reference,
        "url": described.url,
        "title": described.title,
        "status": described.status,
        "closed": described.closed,
        "checked_at": utcnow(),
    }
    insert_once(
        session,
        TaskReference,
        ["review_id", "stage_key", "field_key"],
        review_id=review_id,
        stage_key=stage_key,
        field_key=field_key,
        **values,
    )
    session.execute(
        update(TaskReference)
        .where(
            TaskReference.review_id == review_id,
            TaskReference.stage_key == stage_key,
            TaskReference.field_key == field_key,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def references_of(session: Session, review_id: int) -> dict[tuple[str, str], Described]:
    """The review's looked-up answers by (stage key, field key)."""
    rows = session.scalars(
        select(TaskReference).where(TaskReference.review_id == review_id).order_by(TaskReference.id)
    )
    return {
        (r.stage_key, r.field_key): Described(
            r.tracker, r.text, r.found, r.reference, r.url, r.title, r.status, r.closed
        )
        for r in rows
    }


def described_answers(
    session: Session, review_id: int, answers: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The answers with each looked-up task written out: reference, title, status and link.

    Only an answer whose text is still the one looked up is replaced (an edited answer waits
    for its own lookup). Plain text: the summary and report escape it like any answer.
    """
    found = references_of(session, review_id)
    if not found:
        return answers
    result = {stage: dict(values) for stage, values in answers.items()}
    for (stage, key), d in found.items():
        if str(result.get(stage, {}).get(key) or "") != d.text:
            continue
        if d.found:
            title = f" “{d.title}”" if d.title else ""
            link = f" · {d.url}" if d.url else ""
            result[stage][key] = f"{d.label}{title} · Status: {d.state}{link}"
        else:
            name = TRACKER_NAMES.get(d.tracker, d.tracker)
            result[stage][key] = f"{d.text} (not found in {name})"
    return result


def review_tasks(session: Session, review_id: int) -> list[tuple[str, str, str | None, str]]:
    """(label, url, title, state) of every task the review links: the ones named in answers,
    then its action items' tasks, for the review's status message."""
    named = [
        (d.label, d.url, d.title, d.state)
        for d in references_of(session, review_id).values()
        if d.found and d.url
    ]
    items = session.execute(
        select(TrackerTask)
        .join(ActionItem, ActionItem.id == TrackerTask.item_id)
        .where(
            ActionItem.review_id == review_id,
            ActionItem.status != "cancelled",
            TrackerTask.external_id.is_not(None),
            TrackerTask.url.is_not(None),
        )
        .order_by(TrackerTask.id)
    ).scalars()
    filed = [
        (
            f"{TRACKER_NAMES.get(r.tracker, r.tracker)} {r.reference or r.external_id}",
            str(r.url),
            None,
            "closed" if r.status == CLOSED else "open",
        )
        for r in items
    ]
    return [(label, str(url), title, state) for label, url, title, state in named] + filed

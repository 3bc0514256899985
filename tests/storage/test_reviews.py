"""Reviews, stage history, action items, drafts and the audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.reviews import service
from storage import reviews as store
from storage.models import ActionItem, AuditEntry, Decision, FollowUp, Review
from workflows.loader import Registry
from workflows.samples import sample_answers

REGISTRY = Registry.load()


def start(session: Session, key: str = "campaign_postmortem", **kw) -> Review:
    review = service.start_review(
        session,
        REGISTRY[key],
        team_id=kw.pop("team_id", "T1"),
        title=kw.pop("title", "Black Friday email"),
        channel_id=kw.pop("channel_id", "C1"),
        owner_id=kw.pop("owner_id", "U1"),
        started_by=kw.pop("started_by", "U1"),
        **kw,
    )
    session.commit()
    return review


def submit(session: Session, review: Review, user: str = "U1", admin: bool = False, **over):
    workflow = service.workflow_of(review)
    stage = workflow.stage(review.current_stage)
    result = service.submit_stage(
        session, review, stage.key, sample_answers(stage, **over), user_id=user, is_admin=admin
    )
    session.commit()
    return result


def test_a_review_runs_to_completion_and_keeps_every_answer(session: Session) -> None:
    review = start(session)
    assert (review.status, review.current_stage) == ("open", "data_gathering")
    submit(session, review)
    submit(session, review, systemic_issues="yes", systemic_issue="Approvals take 3 weeks")
    submit(session, review)
    result = submit(
        session,
        review,
        action_items=[
            {"title": "Automate promo code checks", "owner": "U2", "due_date": "2026-12-04"},
            {
                "title": "Add a stock check to the launch list",
                "owner": "U3",
                "due_date": "2026-12-11",
                "tracking_link": "https://tracker.example/42",
            },
        ],
    )
    assert result.transition.complete
    assert (review.status, review.current_stage) == ("complete", None)
    assert review.completed_at is not None and review.completed_at.tzinfo is not None
    answers = store.latest_answers(session, review.id)
    assert set(answers) == {"data_gathering", "team_sync", "lessons_learned", "action_items"}
    items = session.scalars(select(ActionItem).order_by(ActionItem.position)).all()
    assert [(i.title, i.owner_id, i.due_date, i.status) for i in items] == [
        ("Automate promo code checks", "U2", date(2026, 12, 4), "open"),
        ("Add a stock check to the launch list", "U3", date(2026, 12, 11), "open"),
    ]
    escalation = session.scalars(select(FollowUp)).one()
    assert (escalation.kind, escalation.detail) == ("escalation", "Approvals take 3 weeks")
    assert session.scalars(select(Decision.option)).all() == ["yes"]
    actions = [e.action for e in store.audit_trail(session, review.id)]
    assert actions.count("stage.submitted") == 4
    assert actions.count("action_item.created") == 2


def test_editing_a_stage_keeps_history_and_the_same_items(session: Session) -> None:
    review = start(session, "support_postmortem")
    for _ in range(3):
        submit(session, review)
    rows = [
        {"title": "Update the returns macro", "owner": "U2", "due_date": "2026-12-04"},
        {"title": "Write the KB article", "owner": "U2", "due_date": "2026-12-05"},
    ]
    submit(session, review, action_items=rows)
    first_ids = [i.id for i in session.scalars(select(ActionItem).order_by(ActionItem.id))]
    submit(session, review)  # 1on1 -> In Review
    assert review.status == "in_review"
    submit(
        session,
        review,
        user="U9",
        admin=True,
        review_outcome="changes_requested",
        review_comment="Root cause stops at a person; dig deeper.",
    )
    assert (review.status, review.current_stage) == ("in_progress", "report")
    submit(session, review)
    submit(session, review, action_items=[{**rows[0], "due_date": "2026-12-08"}])
    history = store.stage_history(session, review.id, "action_items")
    assert [h.revision for h in history] == [1, 2]
    items = session.scalars(select(ActionItem).order_by(ActionItem.id)).all()
    assert [i.id for i in items] == first_ids
    assert [(i.due_date, i.status) for i in items] == [
        (date(2026, 12, 8), "open"),
        (date(2026, 12, 5), "cancelled"),
    ]


def test_roles_and_stale_submissions_are_refused(session: Session) -> None:
    review = start(session, "support_postmortem")
    for _ in range(5):
        submit(session, review)
    refused = submit(session, review, user="U1", admin=False)
    assert refused.refused == "Only a workspace admin can complete “Admin review”."
    assert review.current_stage == "admin_review"
    stage = service.workflow_of(review).stage("report")
    stale = service.submit_stage(
        session, review, "report", sample_answers(stage), user_id="U1", is_admin=False
    )
    assert stale.refused.startswith("This stage has already been submitted")


def test_validation_errors_save_nothing(session: Session) -> None:
    review = start(session)
    result = submit(session, review, performance_data="")
    assert result.errors == {"performance_data": "This is required."}
    assert store.latest_answers(session, review.id) == {}
    assert review.current_stage == "data_gathering"


def test_a_review_keeps_its_workflow_version(session: Session) -> None:
    review = start(session)
    changed = REGISTRY["campaign_postmortem"].model_copy(update={"version": 2})
    later = service.start_review(
        session,
        changed,
        team_id="T1",
        title="Later",
        channel_id="C1",
        owner_id="U1",
        started_by="U1",
    )
    session.commit()
    assert review.workflow_version_id != later.workflow_version_id
    assert service.workflow_of(review).version == 1


def test_every_start_is_stored_whole_and_audited_first_in_its_workspace_or_not(
    session: Session,
) -> None:
    """A workspace's first review finds no rows to start from and creates them; later ones are
    written by one statement (storage.reviews.insert_review). Both read back the same way."""
    first = start(session, title="  Black Friday email  ", owner_id="U7")
    second = start(session, owner_id="U5", trigger="webhook", trigger_ref="ticket:T-9")
    other = start(
        session,
        team_id="T2",
        title="Lockers jammed",
        channel_id="C9",
        owner_id="U8",
        started_by="U8",
    )
    assert second.workspace_id == first.workspace_id != other.workspace_id
    assert service.workflow_of(second).key == "campaign_postmortem"
    session.expunge_all()  # as stored, not as the session remembers them
    rows = {
        r.id: (
            r.title,
            r.status,
            r.current_stage,
            r.channel_id,
            r.owner_id,
            r.started_by,
            r.trigger,
            r.trigger_ref,
            r.workspace.team_id,
            r.workflow_version.key,
            r.created_at.tzinfo is not None,
        )
        for r in session.scalars(select(Review))
    }
    assert rows == {
        first.id: (
            "Black Friday email",
            "open",
            "data_gathering",
            "C1",
            "U7",
            "U1",
            "manual",
            None,
            "T1",
            "campaign_postmortem",
            True,
        ),
        second.id: (
            "Black Friday email",
            "open",
            "data_gathering",
            "C1",
            "U5",
            "U1",
            "webhook",
            "ticket:T-9",
            "T1",
            "campaign_postmortem",
            True,
        ),
        other.id: (
            "Lockers jammed",
            "open",
            "data_gathering",
            "C9",
            "U8",
            "U8",
            "manual",
            None,
            "T2",
            "campaign_postmortem",
            True,
        ),
    }
    started = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "review.started").order_by(AuditEntry.id)
    ).all()
    assert [(a.review_id, a.actor, a.detail["title"], a.detail["workflow"]) for a in started] == [
        (first.id, "U1", "Black Friday email", "campaign_postmortem"),
        (second.id, "U1", "Black Friday email", "campaign_postmortem"),
        (other.id, "U8", "Lockers jammed", "campaign_postmortem"),
    ]
    assert {a.detail["workflow_version"] for a in started} == {1}


def test_one_review_per_trigger(session: Session) -> None:
    start(session, "support_postmortem", trigger="webhook", trigger_ref="ticket:T-1")
    with pytest.raises(IntegrityError):
        start(session, "support_postmortem", trigger="webhook", trigger_ref="ticket:T-1")


def test_lists_and_open_items(session: Session) -> None:
    mine = start(session, title="Mine", channel_id="C2", owner_id="U7")
    start(session, title="Here", channel_id="C1", owner_id="U8")
    start(session, title="Elsewhere", channel_id="C3", owner_id="U8")
    ws = store.workspace(session, "T1")
    assert {r.title for r in store.list_reviews(session, ws.id, channel_id="C1", user_id="U7")} == {
        "Mine",
        "Here",
    }
    for when, title in [
        (date(2026, 12, 9), "later"),
        (None, "undated"),
        (date(2026, 12, 1), "sooner"),
    ]:
        session.add(ActionItem(review_id=mine.id, title=title, owner_id="U7", due_date=when))
    session.add(ActionItem(review_id=mine.id, title="done", owner_id="U7", status="done"))
    session.commit()
    assert [i.title for i in store.open_items_for(session, "U7")] == ["sooner", "later", "undated"]


def test_each_save_is_stored_the_same_on_both_databases(session: Session) -> None:
    """PostgreSQL writes the usual save in one statement, SQLite in three: the rows, read
    back fresh, are the same (the submission, the review's move, the audit entry)."""
    review = start(session)
    moves = []
    while review.current_stage is not None:
        before = review.current_stage
        submit(session, review)
        moves.append((before, review.current_stage))
    session.expire_all()
    fresh = session.get(Review, review.id)
    assert (fresh.status, fresh.current_stage) == ("complete", None)
    assert fresh.completed_at is not None and fresh.completed_at == fresh.updated_at
    entries = [e for e in store.audit_trail(session, review.id) if e.action == "stage.submitted"]
    assert [(e.detail["from_stage"], e.detail["to_stage"]) for e in entries] == moves
    assert {(e.actor, e.workspace_id, e.detail["revision"]) for e in entries} == {
        ("U1", fresh.workspace_id, 1)
    }
    assert entries[-1].detail["status"] == "complete"
    history = {key: store.stage_history(session, review.id, key) for key, _ in moves}
    assert all(len(h) == 1 and h[0].submitted_by == "U1" for h in history.values())
    assert set(store.latest_answers(session, review.id)) == {key for key, _ in moves}


def test_drafts_round_trip_and_clear_on_submit(session: Session) -> None:
    review = start(session)
    store.save_draft(session, review.id, "data_gathering", "U1", {"performance_data": "half"})
    store.save_draft(session, review.id, "data_gathering", "U1", {"performance_data": "more"})
    session.commit()
    assert store.get_draft(session, review.id, "data_gathering", "U1") == {
        "performance_data": "more"
    }
    submit(session, review)
    assert store.get_draft(session, review.id, "data_gathering", "U1") is None


def test_a_stage_save_reads_the_latest_answers_and_the_stage_s_drafts_at_once(
    session: Session,
) -> None:
    review = start(session)
    first = review.current_stage
    assert store.stage_state(session, review.id, first, "U1") == store.StageState({}, None, False)
    store.save_draft(session, review.id, first, "U2", {"performance_data": "theirs"})
    session.commit()
    state = store.stage_state(session, review.id, first, "U1")
    assert (state.draft, state.drafts) == (None, True)  # someone else's: cleared on save
    store.save_draft(session, review.id, first, "U1", {"performance_data": "mine"})
    session.commit()
    assert store.stage_state(session, review.id, first, "U1").draft == {"performance_data": "mine"}

    submit(session, review)  # a first revision, then an owner's edit: the latest counts
    answers = store.latest_answers(session, review.id)[first]
    service.submit_stage(
        session,
        review,
        first,
        {**answers, "performance_data": "corrected"},
        user_id="U1",
        is_admin=False,
        edit=True,
    )
    store.save_draft(session, review.id, review.current_stage, "U1", {"x": 1})  # another stage
    session.commit()
    state = store.stage_state(session, review.id, first, "U1")
    assert state.latest == store.latest_submissions(session, review.id)
    assert state.latest[first][0] == 2
    assert state.latest[first][1]["performance_data"] == "corrected"
    assert (state.draft, state.drafts) == (None, False)  # the save cleared both; not the other


def test_datetimes_are_aware_utc_and_naive_ones_refused(session: Session) -> None:
    review = start(session)
    sydney = timezone(timedelta(hours=11))
    review.completed_at = datetime(2026, 12, 1, 9, 30, tzinfo=sydney)
    session.commit()
    session.expire_all()
    fresh = session.get(Review, review.id)
    assert fresh.completed_at == datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    assert fresh.completed_at.tzinfo == UTC
    fresh.completed_at = datetime(2026, 12, 1, 9, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()

"""A session scoped to one workspace sees only its rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from bot.reviews import service
from storage import outbox, workspace_data
from storage import reviews as store
from storage.db import session_factory, team_session_factory, transaction
from storage.models import ActionItem, Review, StageSubmission, Workspace
from storage.nudges import Nudge
from workflows.loader import Registry

REGISTRY = Registry.load()


def _seed(engine: Engine) -> dict[str, int]:
    ids = {}
    with transaction(session_factory(engine)) as session:
        for team, title in (("T1", "Refunds took weeks"), ("T2", "Lockers jammed")):
            review = service.start_review(
                session,
                REGISTRY["campaign_postmortem"],
                team_id=team,
                title=title,
                channel_id="C1",
                owner_id="U1",
                started_by="U1",
            )
            item = store.add_action_item(
                session,
                review,
                title=f"Fix: {title}",
                owner_id="U1",
                due=date(2026, 12, 3),
                tracking_link=None,
                actor="U1",
            )
            session.flush()
            ids[team] = review.id
            ids[f"{team}-item"] = item.id
    return ids


def test_each_team_reads_only_its_own_rows_in_any_order(engine: Engine) -> None:
    ids = _seed(engine)
    for team, other in (("T1", "T2"), ("T2", "T1"), ("T1", "T2")):  # cached SQL, other team
        with team_session_factory(engine, team)() as session:
            assert [w.team_id for w in session.scalars(select(Workspace))] == [team]
            assert [r.id for r in session.scalars(select(Review))] == [ids[team]]
            assert store.get_review(session, ids[other]) is None
            assert store.get_review(session, ids[team]) is not None
            assert session.get(ActionItem, ids[f"{other}-item"]) is None
            assert [i.id for i in session.scalars(select(ActionItem))] == [ids[f"{team}-item"]]
            assert session.scalars(select(Nudge)).all() == []
            aliased_join = session.scalars(
                select(StageSubmission.review_id).join(
                    Review, Review.id == StageSubmission.review_id
                )
            ).all()
            assert set(aliased_join) <= {ids[team]}


def test_an_unscoped_session_sees_every_workspace(engine: Engine) -> None:
    _seed(engine)
    with session_factory(engine)() as session:
        assert len(session.scalars(select(Review)).all()) == 2


def test_effects_recorded_in_a_team_session_carry_the_team(engine: Engine) -> None:
    with transaction(team_session_factory(engine, "T2")) as session:
        outbox.enqueue(session, "reviews.status", {"review_id": 1})
    with transaction(session_factory(engine)) as session:
        outbox.enqueue(session, "reviews.status", {"review_id": 2})
    with transaction(session_factory(engine)) as session:
        claimed = outbox.claim_due(session, outbox.utcnow())
        assert [c.team_id for c in claimed] == ["T2", None]
    with transaction(session_factory(engine)) as session:
        assert outbox.fail_for_team(session, "T2", "the workspace left") == 1
    with transaction(session_factory(engine)) as session:
        effects = session.scalars(select(outbox.Effect).order_by(outbox.Effect.id)).all()
        assert [(e.team_id, e.status) for e in effects] == [("T2", "failed"), (None, "pending")]
        assert effects[0].last_error == "the workspace left"


def test_a_workspace_is_exported_and_deleted_whole_and_alone(engine: Engine) -> None:
    ids = _seed(engine)
    with session_factory(engine)() as session, session.begin():
        ws = session.scalars(select(Workspace).where(Workspace.team_id == "T1")).one()
        ws.settings = {"reminders": {"hour": 9}, "tracker_credentials": {"token": "pk_SECRET"}}
    data = workspace_data.export(engine, "T1")
    assert data["tables"]["workspaces"][0]["settings"] == {"reminders": {"hour": 9}}
    assert "pk_SECRET" not in str(data)
    assert [r["id"] for r in data["tables"]["reviews"]] == [ids["T1"]]
    assert [r["title"] for r in data["tables"]["action_items"]] == ["Fix: Refunds took weeks"]
    assert "Lockers" not in str(data)
    workspace_data.delete_all(engine, "T1")
    with session_factory(engine)() as session:
        assert session.scalars(select(Workspace.team_id)).all() == ["T2"]
        assert [r.id for r in session.scalars(select(Review))] == [ids["T2"]]
    assert not workspace_data.exists(engine, "T1")


def test_rows_keyed_by_a_scoped_parent_are_scoped_too(engine: Engine) -> None:
    """team_sync_votes has only item_id: each team still sees only the votes on its items, and
    a workspace's export carries them."""
    from storage import team_sync
    from storage.team_sync import SyncVote

    ids = _seed(engine)
    items = {}
    with transaction(session_factory(engine)) as session:
        for team in ("T1", "T2"):
            item = team_sync.add_item(session, ids[team], "data_gathering", "went_well", team, "U1")
            assert team_sync.vote(session, item.id, "U1")
            items[team] = item.id
    for team, other in (("T1", "T2"), ("T2", "T1"), ("T1", "T2")):  # cached SQL, other team
        with team_session_factory(engine, team)() as session:
            assert [v.item_id for v in session.scalars(select(SyncVote))] == [items[team]]
            assert team_sync.vote_count(session, items[other]) == 0
            assert team_sync.vote_count(session, items[team]) == 1
    exported = workspace_data.export(engine, "T2")["tables"]
    assert [v["item_id"] for v in exported["team_sync_votes"]] == [items["T2"]]

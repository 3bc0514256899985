"""One workspace's view of the database: a session that sees only that Slack team's rows.

With many workspaces installed, every listener, job and effect works for one team. Rather than
every query remembering to filter (and one forgetting), a session from
`storage.db.team_session_factory` (its team in `info`, the filter wired by `scope`) adds
SQLAlchemy's `with_loader_criteria` to each ORM SELECT it runs: a table with `workspace_id` keeps
that team's rows, a table with `review_id` or `action_item_id` keeps the rows of that team's
reviews; a table that has none of these but a required foreign key to such a table
(`team_sync_votes.item_id`, `survey_responses.survey_id`, `tracker_tasks.item_id`…) keeps the rows
whose parent the team sees. A review id replayed from another workspace (a button value, a modal's
private_metadata) then reads as "no such review" (`get_review` returns None) whatever the
listener does.

Unscoped sessions (no team in `info`: single-workspace mode, migrations, the operator's CLI)
see everything, as before.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, event, select
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from storage.models import ActionItem, Base, Review, Workspace

TEAM_KEY = "team_id"


def team_of(session: Session) -> str | None:
    """The team a session is scoped to (None: unscoped)."""
    value = session.info.get(TEAM_KEY)
    return str(value) if value else None


def _teams(team_id: str) -> Any:
    return select(Workspace.id).where(Workspace.team_id == team_id)


def _reviews(team_id: str) -> Any:
    return select(Review.id).where(Review.workspace_id.in_(_teams(team_id)))


def _items(team_id: str) -> Any:
    return select(ActionItem.id).where(ActionItem.review_id.in_(_reviews(team_id)))


def _criteria(team_id: str) -> list[Any]:
    # Lambdas, so each alias of a table gets its own criteria. SQLAlchemy caches a lambda's SQL
    # by its code and turns plain closure values into bound parameters: so the lambdas close
    # over the team id alone and build their subqueries inside (a subquery built outside would
    # be cached with the first team's id in it).
    options: list[Any] = [
        with_loader_criteria(Workspace, lambda cls: cls.team_id == team_id, include_aliases=True)
    ]
    for cls, key in scoped_classes():
        if key == "workspace_id":
            where = lambda c: c.workspace_id.in_(_teams(team_id))  # noqa: E731
        elif key == "review_id":
            where = lambda c: c.review_id.in_(_reviews(team_id))  # noqa: E731
        elif key == "action_item_id":
            where = lambda c: c.action_item_id.in_(_items(team_id))  # noqa: E731
        else:  # a required foreign key to a scoped table
            where = lambda c: _through_parent(c, team_id)  # noqa: E731
        options.append(with_loader_criteria(cls, where, include_aliases=True))
    return options


def _own_ids(cls: type[Any], team_id: Any) -> Any:
    """The ids of `cls`'s rows that belong to the team (what its criteria keep)."""
    key = dict(scoped_classes())[cls]
    column = getattr(cls, key)
    if key == "workspace_id":
        return select(cls.id).where(column.in_(_teams(team_id)))
    if key == "review_id":
        return select(cls.id).where(column.in_(_reviews(team_id)))
    if key == "action_item_id":
        return select(cls.id).where(column.in_(_items(team_id)))
    return select(cls.id).where(column.in_(_own_ids(_parents[cls], team_id)))


def _through_parent(entity: Any, team_id: Any) -> Any:
    cls = entity.__mapper__.class_  # the lambda gets the class in a thin wrapper
    key = dict(scoped_classes())[cls]
    return getattr(entity, key).in_(_own_ids(_parents[cls], team_id))


_scoped: tuple[int, tuple[tuple[type[Any], str], ...]] = (0, ())
_parents: dict[type[Any], type[Any]] = {}
"""A class scoped through a foreign key -> the scoped class that key points at."""


def scoped_classes() -> tuple[tuple[type[Any], str], ...]:
    """Every mapped class besides Workspace that belongs to a team, and the column that says
    which; worked out again only when another model module has been imported since."""
    global _scoped, _parents
    mappers = Base.registry.mappers
    if _scoped[0] != len(mappers):
        found: dict[type[Any], str] = {}
        for mapper in mappers:
            key = next(
                (k for k in ("workspace_id", "review_id", "action_item_id") if k in mapper.columns),
                None,
            )
            if key is not None and mapper.class_ is not Workspace:
                found[mapper.class_] = key
        # Then, until nothing changes, tables whose required foreign key points at a scoped
        # table (a nullable one could point nowhere: such a row would vanish, so those stay).
        by_table = {cast(Table, m.local_table).name: m.class_ for m in mappers}
        parents: dict[type[Any], type[Any]] = {}
        grew = True
        while grew:
            grew = False
            for mapper in mappers:
                cls = mapper.class_
                if cls in found or cls is Workspace:
                    continue
                for column in mapper.columns:
                    targets = [
                        by_table.get(fk.target_fullname.split(".")[-2])
                        for fk in column.foreign_keys
                    ]
                    parent = targets[0] if len(targets) == 1 else None
                    if not column.nullable and parent is not None and parent in found:
                        found[cls], parents[cls], grew = column.key, parent, True
                        break
        _parents = parents
        _scoped = (len(mappers), tuple(sorted(found.items(), key=lambda pair: pair[0].__name__)))
    return _scoped[1]


def scope(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Make `factory`'s sessions filter by their team: wired per factory, never on import, so an
    unscoped session (the CLI's, the migrations') pays nothing and sees everything."""
    event.listen(factory, "do_orm_execute", _scope_to_team)
    return factory


def _scope_to_team(state: ORMExecuteState) -> None:
    team_id = team_of(state.session)
    if team_id is None or not state.is_select or state.is_column_load or state.is_relationship_load:
        return
    state.statement = state.statement.options(*_criteria(team_id))

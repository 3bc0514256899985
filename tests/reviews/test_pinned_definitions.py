"""A review keeps the definition it started with, read once per process and definition.

`workflow_of` runs in every request's ack; the pinned definition is parsed once and kept, by
its content's digest, so an edited YAML file (a new digest) is a new entry and never mixed up.
"""

from __future__ import annotations

from sqlalchemy import Engine

from bot.reviews import service
from storage import reviews as store
from storage.db import session_factory, transaction
from workflows.loader import Registry


def test_reviews_of_two_versions_of_a_workflow_keep_their_own_stages(engine: Engine) -> None:
    original = Registry.load()["campaign_postmortem"]
    edited = original.model_copy(update={"stages": original.stages[:2]})
    assert edited.digest != original.digest
    sessions = session_factory(engine)
    ids = []
    with transaction(sessions) as session:
        for workflow in (original, edited, original):
            review = service.start_review(
                session,
                workflow,
                team_id="T0PIN",
                title="x",
                channel_id="C0REVIEWS",
                owner_id="U0ALICE",
                started_by="U0ALICE",
            )
            ids.append(review.id)
    for _ in range(2):  # the second round is served from the cache
        with sessions() as session:
            stages = [len(service.workflow_of(store.get_review(session, i)).stages) for i in ids]
        assert stages == [len(original.stages), 2, len(original.stages)]

"""The digests table on SQLite and PostgreSQL: one row per meeting and channel, exactly."""

from __future__ import annotations

from datetime import timedelta

from digest.seed import CHANNEL, Seeder, local
from sqlalchemy.orm import Session

from storage import digests as store


def _claim(
    session: Session, ws_id: int, key: str = "2026-12-02", channel: str = CHANNEL, **kw
) -> int | None:
    starts = local(int(key[-2:]), 10, int(key[5:7]))
    return store.claim(
        session,
        workspace_id=ws_id,
        meeting_key=key,
        channel_id=channel,
        meeting_starts_at=starts,
        **kw,
    )


def test_a_meeting_and_channel_is_claimed_once(session: Session) -> None:
    ws = Seeder(session).ws
    first = _claim(session, ws.id)
    assert first is not None
    assert _claim(session, ws.id) is None
    assert _claim(session, ws.id, channel="C0OTHER") is not None
    assert _claim(session, ws.id, key="2026-12-16") is not None
    session.commit()
    assert store.find(session, ws.id, "2026-12-02", CHANNEL).id == first


def test_a_failed_claim_is_retaken_by_one_caller_only(session: Session) -> None:
    ws = Seeder(session).ws
    _claim(session, ws.id, status=store.FAILED)
    session.commit()
    row = store.find(session, ws.id, "2026-12-02", CHANNEL)
    now = local(2, 9, 12)
    assert store.retake(session, row, now) is True
    assert store.retake(session, row, now) is False  # the row changed under the second caller
    session.commit()


def test_the_next_digest_begins_where_the_last_posted_one_ended(session: Session) -> None:
    ws = Seeder(session).ws
    assert store.last_covered_to(session, ws.id, CHANNEL) is None
    end = local(2, 9, 12)
    _claim(
        session, ws.id, status=store.POSTED, covered_from=end - timedelta(weeks=2), covered_to=end
    )
    _claim(session, ws.id, key="2026-12-16", status=store.MISSED)
    session.commit()
    assert store.last_covered_to(session, ws.id, CHANNEL) == end
    assert store.last_covered_to(session, ws.id, "C0OTHER") is None
    # The missed meeting is the latest on record (it settles "what was missed since").
    assert store.last_recorded(session, ws.id, CHANNEL).meeting_key == "2026-12-16"

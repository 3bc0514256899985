"""Tickets as stored: what the helpdesk sent is kept the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from storage import reviews as store
from storage.tickets import upsert_ticket

OPENED = datetime(2026, 11, 1, tzinfo=UTC)


def test_nul_in_free_text_and_the_raw_body_is_dropped_on_both_databases(session: Session) -> None:
    ws = store.workspace(session, "T0TEST")
    ticket = upsert_ticket(
        session,
        ws.id,
        "T-1",
        source="generic",
        raw={"subject": "Order\x00 broken", "notes\x00": ["a\x00b", 1]},
        subject="Order\x00 broken",
        owner_id="U0ALICE",
        opened_at=OPENED,
    )
    session.commit()
    assert ticket.subject == "Order broken"
    assert ticket.raw == {"subject": "Order broken", "notes": ["ab", 1]}


def test_nul_in_a_ticket_id_is_refused(session: Session) -> None:
    ws = store.workspace(session, "T0TEST")
    with pytest.raises(ValueError, match="NUL"):
        upsert_ticket(
            session,
            ws.id,
            "T-1\x00",
            source="generic",
            raw={},
            owner_id="U0ALICE",
            opened_at=OPENED,
        )

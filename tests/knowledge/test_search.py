"""Search finds past lessons by what they say, on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from storage import knowledge as kb
from storage import reviews as store

# (workflow, title, lessons, root causes, recommendations, tags)
CORPUS = [
    (
        "support_postmortem",
        "Refund took three weeks for a reseller",
        "Refunds to resellers need the finance checklist; "
        "customers waited while we searched for it.",
        "The refund instructions were split across two KB articles.",
        "Merge the refund articles into one.",
        ["support", "returns"],
    ),
    (
        "campaign_postmortem",
        "Black Friday email sent twice",
        "Schedule sends from one calendar; duplicates annoy subscribers.",
        "Two tools could schedule the same campaign.",
        "Retire the old scheduler.",
        ["campaign", "email"],
    ),
    (
        "campaign_postmortem",
        "Spring sale stock ran out in two hours",
        "Check stock levels with the warehouse before promising quantities.",
        "Forecast ignored last year's sell-through.",
        "Share the forecast with fulfilment.",
        ["campaign", "sale-event"],
    ),
    (
        "support_postmortem",
        "Courier lost parcels in Perth",
        "Track parcels proactively when the courier reports delays.",
        "No alert on parcels stuck for more than five days.",
        "Add an alert; offer a refund or replacement early.",
        ["support", "delivery"],
    ),
    (
        "service_delivery",
        "Catalogue shoot delivered late",
        "Agree the shot list before booking the studio.",
        "Scope changed after kickoff without a change request.",
        "Use the scope change workflow.",
        ["service"],
    ),
]


@pytest.fixture
def corpus(session: Session) -> int:
    ws = store.workspace(session, "T0TEST")
    version = store.pin_workflow(session, "support_postmortem", 1, "x", {})
    for i, (workflow, title, lessons, causes, recs, tags) in enumerate(CORPUS):
        review = store.create_review(
            session,
            ws,
            version,
            store.NewReview(
                title=title, channel_id="C1", owner_id="U1", started_by="U1", first_stage="a"
            ),
        )
        kb.upsert_entry(
            session,
            workspace_id=ws.id,
            review_id=review.id,
            workflow_key=workflow,
            title=title,
            lessons=lessons,
            root_causes=causes,
            recommendations=recs,
            tags=tags,
            created_at=datetime(2026, 1 + i, 1, tzinfo=UTC),
        )
    session.commit()
    return ws.id


def titles(hits: list[kb.Hit]) -> list[str]:
    return [h.entry.title for h in hits]


def test_title_and_lessons_outrank_a_passing_mention(session: Session, corpus: int) -> None:
    hits = kb.search(session, corpus, ["refund"])
    # Both mention refunds; the one about refunds (title, lessons, causes) comes first.
    assert titles(hits) == [
        "Refund took three weeks for a reseller",
        "Courier lost parcels in Perth",
    ]
    assert hits[0].rank > hits[1].rank


def test_stemming_finds_refunds_for_refund_and_back(session: Session, corpus: int) -> None:
    assert "Refund took three weeks for a reseller" in titles(
        kb.search(session, corpus, ["refunds"])
    )
    assert titles(kb.search(session, corpus, ["scheduling"])) == ["Black Friday email sent twice"]


def test_every_word_must_match_unless_asked_otherwise(session: Session, corpus: int) -> None:
    assert titles(kb.search(session, corpus, ["refund", "courier"])) == [
        "Courier lost parcels in Perth"
    ]
    loose = kb.search(session, corpus, ["refund", "stock"], match_all=False)
    assert set(titles(loose)) == {
        "Refund took three weeks for a reseller",
        "Courier lost parcels in Perth",
        "Spring sale stock ran out in two hours",
    }


def test_filters_narrow_by_workflow_tag_and_date(session: Session, corpus: int) -> None:
    assert titles(kb.search(session, corpus, ["refund"], workflow_key="campaign_postmortem")) == []
    assert titles(kb.search(session, corpus, ["refund"], tags=["delivery"])) == [
        "Courier lost parcels in Perth"
    ]
    assert titles(kb.search(session, corpus, ["refund"], after=date(2026, 3, 1))) == [
        "Courier lost parcels in Perth"
    ]
    # Filters alone list the newest entries.
    assert titles(kb.search(session, corpus, [], tags=["campaign"])) == [
        "Spring sale stock ran out in two hours",
        "Black Friday email sent twice",
    ]


def test_nothing_found_and_query_syntax_is_harmless(session: Session, corpus: int) -> None:
    assert kb.search(session, corpus, ["warranty"]) == []
    assert kb.search(session, corpus, ['"', "OR", "NEAR(", "*"]) == []
    assert kb.search(session, corpus + 1, ["refund"]) == []  # another workspace's lessons


def test_the_index_follows_edits_and_deletes(session: Session, corpus: int) -> None:
    entry = kb.search(session, corpus, ["studio"])[0].entry
    kb.upsert_entry(
        session,
        workspace_id=corpus,
        review_id=entry.review_id,
        lessons="Book the photographer early.",
    )
    session.commit()
    assert kb.search(session, corpus, ["studio"]) == []
    assert titles(kb.search(session, corpus, ["photographer"])) == [
        "Catalogue shoot delivered late"
    ]
    session.delete(entry)
    session.commit()
    assert kb.search(session, corpus, ["photographer"]) == []


def test_snippet_shows_the_matching_words() -> None:
    entry = kb.KnowledgeEntry(
        title="t",
        lessons="Nothing here.",
        recommendations="x " * 200 + "offer a refund early",
        root_causes="",
        summary="",
        body="",
    )
    assert "refund" in kb.snippet(entry, ["refunds"])


@pytest.mark.parametrize(
    "words",
    [
        ["zzzqqq", "OR", "refund"],
        ["zzzqqq", "or", "refund"],
        ["zzzqqq", "-refund"],
        ['"zzzqqq', 'refund"'],
    ],
)
def test_operator_words_are_plain_words_on_both_databases(
    session: Session, corpus: int, words: list[str]
) -> None:
    # README: "every word must match"; PostgreSQL's websearch syntax once read "or" as OR.
    assert kb.search(session, corpus, words) == []


def test_words_no_index_keeps_are_left_out_on_both_databases(session: Session, corpus: int) -> None:
    # PostgreSQL's english configuration drops "not" and "the"; SQLite once demanded them.
    assert titles(kb.search(session, corpus, ["courier", "not", "the"])) == [
        "Courier lost parcels in Perth"
    ]
    assert kb.search(session, corpus, ["the", "or"]) == []
    loose = kb.search(session, corpus, ["stock", "or", "courier"], match_all=False)
    assert set(titles(loose)) == {
        "Spring sale stock ran out in two hours",
        "Courier lost parcels in Perth",
    }

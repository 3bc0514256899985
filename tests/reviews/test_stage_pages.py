"""A long stage is several pages: Next on every page but the last, Submit on the last. The form
carries how many pages it was drawn with (what decides the pages also redraws the form), so a
submission knows which button was pressed without drawing every page again; a form opened
before that was carried works it out as before."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import MagicMock

from helpers.slack_unit import ALICE, seed_review, submit_current, view_submission

from bot.app import review_hooks
from bot.reviews import listeners
from bot.reviews.views import stage_modal as sm
from bot.runtime import Runtime
from storage import reviews as store
from storage.db import transaction
from workflows.model import FieldType
from workflows.samples import sample_answers, sample_value

WORKFLOW, STAGE = "service_delivery", "closure"


def at_closure(rt: Runtime) -> int:
    review_id = seed_review(rt, workflow=WORKFLOW)
    for _ in range(10):
        with transaction(rt.sessions) as session:
            review = store.get_review(session, review_id)
            assert review is not None
            if review.current_stage == STAGE:
                return review_id
        submit_current(rt, review_id)
    raise AssertionError("the review never reached its closure")


def ten_invoice_lines(rt: Runtime) -> tuple[Any, dict[str, Any], sm.ModalMeta]:
    stage = rt.registry[WORKFLOW].stage(STAGE)
    values = sample_answers(stage)
    for f in stage.fields:
        if f.type == FieldType.GROUP:
            values[f.key] = [
                {sub.key: sample_value(sub, i) for sub in f.fields} for i in range(f.max_items)
            ]
    return stage, values, sm.ModalMeta(0, STAGE, rows={"invoice_lines": 10})


def submit_first_page(rt: Runtime, review_id: int, *, forget_pages: bool) -> dict[str, Any]:
    stage, values, meta = ten_invoice_lines(rt)
    meta.review_id = review_id
    view = sm.stage_view(stage, title="Fit-out", meta=meta, values=values)
    shown = {b.get("block_id") for b in view["blocks"]}
    entered = {b: a["v"] for b, a in sm.entered_values(stage, values, meta).items() if b in shown}
    body, submitted = view_submission(view, entered, user=ALICE)
    if forget_pages:  # a form opened before the page count was carried
        data = json.loads(submitted["private_metadata"])
        data.pop("g")
        submitted["private_metadata"] = json.dumps(data)
    ack = MagicMock(name="ack")
    listeners.stage_submitted(ack=ack, body=body, view=submitted, rt=rt, hooks=review_hooks())
    return dict(ack.call_args.kwargs)


def test_the_form_carries_how_many_pages_it_was_drawn_with(rt: Runtime) -> None:
    stage, values, meta = ten_invoice_lines(rt)
    view = sm.stage_view(stage, title="Fit-out", meta=meta, values=values)
    assert view["submit"]["text"] == "Next"
    assert sm.ModalMeta.loads(view["private_metadata"]).pages == 3


def test_next_on_the_first_page_shows_the_second_and_saves_nothing(rt: Runtime) -> None:
    review_id = at_closure(rt)
    for forget_pages in (False, True):
        reply = submit_first_page(rt, review_id, forget_pages=forget_pages)
        assert reply["response_action"] == "update"
        assert sm.ModalMeta.loads(reply["view"]["private_metadata"]).page == 1
        with transaction(rt.sessions) as session:
            review = store.get_review(session, review_id)
            assert review is not None and review.current_stage == STAGE  # not saved yet

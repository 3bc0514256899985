"""The async team sync in the sandbox page, in Chromium: the menu's "Add to team sync", the
item in the thread with its +1, and the analysis form opening with the item and its vote."""

from __future__ import annotations

import os

import pytest

from sandbox.server import Running

if not os.environ.get("CI"):  # in CI a missing Playwright fails the run (conftest.py)
    pytest.importorskip("playwright", reason="browser tests need Playwright")
from playwright.sync_api import Locator, Page, expect  # noqa: E402


def command(page: Page, text: str) -> None:
    page.locator("#composer-input").fill(text)
    page.locator("#composer-input").press("Enter")


def modal(page: Page, title: str) -> Locator:
    found = page.locator(".modal")
    expect(found.locator(".modal-head h2")).to_have_text(title)
    return found


def field(form: Locator, block_id: str) -> Locator:
    return form.locator(f'[data-block-id="{block_id}"] [data-type]')


def test_team_sync_items_and_votes_in_the_browser(page: Page, sandbox: Running) -> None:
    command(page, "/postmortem start support Refund took three weeks")
    start = modal(page, "Start a review")
    start.locator("[data-submit]").click()
    expect(start).to_be_hidden()
    message = page.locator("#pane .msg").first
    expect(message.locator(".bk-btn-primary")).to_have_text("Continue: Ticket details")

    # The analysis comes next and takes the team's items: the menu offers to add one.
    message.locator(".bk-overflow").select_option(label="Add to team sync")
    form = modal(page, "Add to team sync")
    field(form, "column").select_option("went_well")
    field(form, "text").fill("The refund page was <b>clear</b>")
    form.locator("[data-submit]").click()
    added = modal(page, "Added")
    expect(added).to_contain_text("The refund page was <b>clear</b>")  # text, not markup
    added.locator(".modal-x").click()

    message.locator(".thread-toggle").click()
    item = message.locator(".thread .msg", has_text="The refund page was")
    expect(item).to_contain_text("Went well")
    item.get_by_role("button", name="+1").click()
    expect(item.get_by_role("button", name="+1 (1)")).to_be_visible()
    expect(item).to_contain_text("1 vote")

    # Ticket details done, the analysis opens with the item and its vote in "What the team said".
    message.locator(".bk-btn-primary").click()
    form = modal(page, "Ticket details")
    page.evaluate("document.getElementById('toast').hidden = true")
    form.locator("[data-example]").click()
    expect(page.locator("#toast")).to_contain_text("Filled with example answers")
    form.locator("[data-submit]").click()
    expect(form).to_be_hidden()
    expect(message.locator(".bk-btn-primary")).to_have_text("Continue: Ticket analysis")
    message.locator(".bk-btn-primary").click()
    form = modal(page, "Ticket analysis")
    expect(field(form, "f.team_input")).to_have_value(
        "Went well:\n• The refund page was <b>clear</b> (1 vote)"
    )

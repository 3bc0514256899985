"""A newcomer uses the sandbox page in Chromium: a campaign post-mortem from start to done."""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers.action_items import make_items
from slack_sdk import WebClient

from bot.reviews.listeners import notice_view
from sandbox.server import Running
from workflows.calendar import is_working_day

if not os.environ.get("CI"):  # in CI a missing Playwright fails the run (conftest.py)
    pytest.importorskip("playwright", reason="browser tests need Playwright")
from playwright.sync_api import Locator, Page, expect  # noqa: E402

TODAY = datetime.now(ZoneInfo("Australia/Sydney")).date()
DUE = next(
    day for day in (TODAY + timedelta(days=n) for n in range(14, 40)) if is_working_day(day, "NSW")
)
DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "sandbox.png"


def command(page: Page, text: str) -> None:
    page.locator("#composer-input").fill(text)
    page.locator("#composer-input").press("Enter")


def modal(page: Page, title: str) -> Locator:
    found = page.locator(".modal")
    expect(found.locator(".modal-head h2")).to_have_text(title)
    return found


def field(form: Locator, block_id: str) -> Locator:
    return form.locator(f'[data-block-id="{block_id}"] [data-type]')


def status(page: Page) -> Locator:
    return page.locator("#pane .msg").first


def continue_to(page: Page, stage_title: str) -> Locator:
    status(page).get_by_role("button", name="Continue:").click()
    return modal(page, stage_title)


def fill_example(page: Page, form: Locator) -> None:
    """Press "Fill with example answers" and wait until the sandbox says it is done (answers
    that open other fields take a round trip to the bot each)."""
    page.evaluate("document.getElementById('toast').hidden = true")  # not the last stage's
    form.locator("[data-example]").click()
    expect(page.locator("#toast")).to_be_visible()
    expect(page.locator("#toast")).to_contain_text("Filled with example answers")


def submit(form: Locator) -> None:
    form.locator("[data-submit]").click()
    expect(form.locator(".bk-error")).to_have_count(0)
    expect(form).to_be_hidden()


def test_campaign_postmortem_in_the_browser(page: Page, sandbox: Running, artifacts: Path) -> None:
    command(page, "/postmortem start campaign")
    start = modal(page, "Start a review")
    expect(field(start, "workflow")).to_have_value("campaign_postmortem")
    expect(field(start, "owner")).to_have_value("U0ALICE")
    field(start, "title").fill("Black Friday email")
    submit(start)

    message = status(page)
    expect(message.locator(".bk-header")).to_have_text("Black Friday email")
    expect(message).to_contain_text("Alice Nguyen")  # <@U0ALICE> shown as a name
    expect(message.locator(".bk-btn-primary")).to_have_text("Continue: Data Gathering")

    # The first stage by hand, with a mistake the bot points out next to the field.
    form = continue_to(page, "Data Gathering")
    acl_checks = form.locator('.bk-input-block[data-block-id^="f.acl_"]')
    expect(acl_checks).to_have_count(0)  # each is asked once it applies
    field(form, "f.category").select_option("email")
    field(form, "f.performance_data").fill("Open rate 31%, click-through 2.4%")
    field(form, "f.budget").fill("12000.555")
    # One GST basis for every amount, chosen once; the form is drawn again with it beside each.
    field(form, "gst").select_option("inclusive")
    expect(form.locator('[data-block-id="f.budget"] .bk-label')).to_have_text("Budget (incl. GST)")
    expect(form.locator('[data-block-id="f.revenue"] .bk-label')).to_have_text(
        "Revenue attributed to the campaign (incl. GST) (optional)"
    )
    expect(field(form, "f.budget")).to_have_value("12000.555")  # typed before the redraw
    expect(field(form, "f.performance_data")).to_have_value("Open rate 31%, click-through 2.4%")
    field(form, "f.actual_spend").fill("11800")
    form.get_by_label("Items at an advertised price").check()  # opens its ACL check
    quantities = form.locator('[data-block-id="f.acl_reasonable_quantities"]')
    expect(quantities.locator(".bk-label")).to_have_text(
        "ACL: were advertised items available in reasonable quantities?"
    )
    expect(acl_checks).to_have_count(1)
    expect(field(form, "f.actual_spend")).to_have_value("11800")
    quantities.get_by_label("Yes").check()
    field(form, "f.survey_responses").fill("214")
    field(form, "f.initial_themes").fill("Subject line too long; *great* offer")
    form.locator("[data-submit]").click()  # Slack's client checks required fields itself
    expect(form.locator('[data-block-id="o"] .bk-error')).to_have_text(
        "Please complete this required field."
    )
    form.get_by_label("Compiled campaign data").check()
    form.locator("[data-submit]").click()  # the bot checks the amounts
    expect(form.locator('[data-block-id="o"] .bk-error')).to_have_count(0)
    error = form.locator('[data-block-id="f.budget"] .bk-error')
    expect(error).to_have_text("Enter dollars and cents: at most two decimal places.")
    expect(field(form, "f.performance_data")).to_have_value("Open rate 31%, click-through 2.4%")
    field(form, "f.category").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "sandbox-modal.png"))
    field(form, "f.actual_spend").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "sandbox-modal-error.png"))
    if os.environ.get("SANDBOX_DOCS_SCREENSHOT"):  # refreshes the README's picture
        DOCS_SHOT.parent.mkdir(exist_ok=True)
        shutil.copy(artifacts / "sandbox-modal-error.png", DOCS_SHOT)
    field(form, "f.budget").fill("12000.55")
    submit(form)
    expect(message.locator(".bk-btn-primary")).to_have_text("Continue: Post-Mortem Team Sync")
    expect(message.locator('[data-block-id="progress"]')).to_contain_text("✅ Data Gathering")

    # Later stages with the sandbox's example answers.
    for title in ("Post-Mortem Team Sync", "Lessons Learned"):
        form = continue_to(page, title)
        fill_example(page, form)
        expect(form.locator("textarea").first).not_to_have_value("")
        submit(form)
    form = continue_to(page, "Action Item Assignment")
    fill_example(page, form)
    owner = field(form, "g.action_items.0.owner")
    expect(owner).to_have_value("U0ALICE")
    owner.select_option("U0BOB")
    field(form, "g.action_items.0.title").fill("Shorten subject lines to 40 characters")
    field(form, "g.action_items.0.due_date").fill(DUE.isoformat())
    form.get_by_role("button", name="Add another").click()  # the bot answers with views.update
    expect(field(form, "g.action_items.1.title")).to_be_visible()
    expect(field(form, "g.action_items.0.owner")).to_have_value("U0BOB")  # typed text kept
    # An added item is an item: its fields are required, and it can be taken back.
    expect(form.locator('[data-block-id="g.action_items.1.owner"] .bk-label')).to_have_text("Owner")
    field(form, "g.action_items.1.title").fill("Test the code on launch day")
    form.locator('[data-block-id="c.action_items.1"]').get_by_role("button", name="Remove").click()
    expect(form.locator('.bk-input-block[data-block-id^="g.action_items.1."]')).to_have_count(0)
    expect(field(form, "g.action_items.0.title~1")).to_have_value(  # new ids after a removal
        "Shorten subject lines to 40 characters"
    )
    expect(form.get_by_role("button", name="Remove")).to_have_count(0)  # one item is needed
    submit(form)

    expect(message).to_contain_text("Review complete")
    expect(message.locator(".bk-btn-primary")).to_have_count(0)
    expect(message.locator(":scope > .msg-main > .msg-meta .msg-edited")).to_be_visible()
    message.locator(".thread-toggle").click()
    expect(message.locator(".thread")).to_contain_text("Lessons learned: Black Friday email")
    page.screenshot(path=str(artifacts / "sandbox-channel.png"))

    # Bob sees his action item: a DM he can act on, and his App Home.
    page.get_by_role("button", name="Bob", exact=True).click()
    expect(page.locator("#dm-badge")).to_have_text("1")
    page.locator("#nav-home").click()
    expect(page.locator("#pane")).to_contain_text("Shorten subject lines to 40 characters")
    page.locator("#nav-dm").click()
    dm = page.locator("#pane .msg").first
    expect(dm).to_contain_text("New action item for you")
    expect(dm).to_contain_text("Shorten subject lines to 40 characters")
    page.screenshot(path=str(artifacts / "sandbox-dm.png"))

    # The clock control: the reminder sweep as of the due date's afternoon sends "due today".
    page.locator("#clock-at").fill(f"{DUE.isoformat()}T15:00")
    page.get_by_role("button", name="Run reminder sweep").click()
    expect(page.locator("#toast")).to_contain_text("sent 1")
    expect(page.locator("#pane .msg")).to_have_count(2)
    expect(page.locator("#pane .msg").nth(1)).to_contain_text("Due today")
    # The reminder is a note without buttons; its link jumps to the item's card, in the DM.
    expect(page.locator("#pane .msg").nth(1).get_by_role("button")).to_have_count(0)
    page.locator("#pane .msg").nth(1).get_by_role("link", name="Open the item").click()
    expect(dm).to_have_class(re.compile(r"\bhighlight\b"))
    expect(page.locator("#pane-title")).to_have_text("Postmortem Bot")
    dm.get_by_role("button", name="Mark done").click()
    expect(dm).to_contain_text("Done. Thank you!")
    expect(dm.get_by_role("button", name="Mark done")).to_have_count(0)

    # Alice is asked to confirm the improvements; Carol (admin) sees Alice's review in #reviews.
    page.get_by_role("button", name="Alice", exact=True).click()
    expect(page.locator("#pane")).to_contain_text("Every action item of")
    page.get_by_role("button", name="Carol (admin)").click()
    page.locator('[data-pane="channel:C0REVIEWS"]').click()
    facts = status(page).locator('[data-block-id="facts"] .bk-fields > div')
    expect(facts.nth(3)).to_have_text("Open action items\n0", use_inner_text=True)


def test_closing_a_form_keeps_a_draft(page: Page, sandbox: Running) -> None:
    command(page, "/postmortem start support Broken parcel")
    submit(modal(page, "Start a review"))
    form = continue_to(page, "Ticket details")
    field(form, "f.product").fill("Draft text kept on close")
    form.locator(".modal-x").click()
    expect(page.locator(".modal")).to_have_count(0)
    page.wait_for_timeout(300)  # the bot saves the draft just after its ack of view_closed
    form = continue_to(page, "Ticket details")
    expect(field(form, "f.product")).to_have_value("Draft text kept on close")


def test_pushed_views_stack_and_close_goes_back(page: Page, sandbox: Running) -> None:
    """The bot does not push views yet; the page shows Slack's stack when it does."""
    slack = sandbox.sandbox.slack
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    trigger = slack.issue_trigger("U0ALICE")
    client.views_open(trigger_id=trigger, view=notice_view("First", "The first view."))
    expect(modal(page, "First")).to_contain_text("The first view.")
    client.views_push(
        trigger_id=slack.issue_trigger("U0ALICE"), view=notice_view("Second", "Pushed on top.")
    )
    second = modal(page, "Second")
    expect(second.locator(".modal-depth")).to_have_text("2 of 2")
    second.locator("[data-close]").first.click()
    expect(modal(page, "First")).to_contain_text("The first view.")


def test_a_redraw_while_typing_keeps_the_caret_and_the_text(page: Page, sandbox: Running) -> None:
    """The bot redraws a form when an answer changes what it asks (views.update); Slack's client
    keeps the person's caret there, so the keys they press next still land in the field."""
    slack = sandbox.sandbox.slack
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)

    def view(note: str) -> dict:
        comment = {"type": "plain_text_input", "action_id": "v", "multiline": True}
        return {
            "type": "modal",
            "title": {"type": "plain_text", "text": "Admin review"},
            "submit": {"type": "plain_text", "text": "Save"},
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": note}},
                {
                    "type": "input",
                    "block_id": "comment",
                    "label": {"type": "plain_text", "text": "Comment"},
                    "element": comment,
                },
            ],
        }

    opened = client.views_open(trigger_id=slack.issue_trigger("U0ALICE"), view=view("Before"))
    form = modal(page, "Admin review")
    comment = form.locator("textarea")
    comment.click()
    page.keyboard.type("Clear and ")
    client.views_update(view_id=opened["view"]["id"], view=view("Redrawn"))
    expect(form).to_contain_text("Redrawn")
    page.keyboard.type("complete")
    expect(comment).to_have_value("Clear and complete")


def test_help_is_answered_only_to_the_person(page: Page, sandbox: Running) -> None:
    command(page, "/postmortem help")
    reply = page.locator("#pane .msg[data-ephemeral]")
    expect(reply).to_contain_text("Only visible to you")
    expect(reply.locator("code").first).to_have_text("/postmortem start [workflow] [title]")
    page.get_by_role("button", name="Bob", exact=True).click()
    expect(page.locator("#pane")).not_to_contain_text("Post-mortems in Slack")


def test_the_clock_posts_the_meeting_digest(page: Page, sandbox: Running) -> None:
    page.locator("#clock-at").fill(f"{DUE.isoformat()}T08:00")
    page.get_by_role("button", name="Post the meeting digest").click()
    expect(page.locator("#toast")).to_contain_text("posted")
    expect(page.locator("#pane .msg")).to_have_count(1)
    expect(page.locator("#pane .bk-unsupported")).to_have_count(0)


def test_the_clock_shows_each_persons_time_and_explains_missed_reminders(
    page: Page, sandbox: Running
) -> None:
    """Bob's reminders run at 09:00 in Perth, not at 09:00 on the page's Sydney clock."""
    make_items(
        sandbox.sandbox.bot,
        [{"title": "Fix the promo code check", "owner": "U0BOB", "due_date": "2026-12-04"}],
    )
    page.locator("#clock-at").fill("2026-12-09T09:05")
    local = page.locator("#clock-local li")
    expect(local.filter(has_text="Alice")).to_contain_text("09:05")
    expect(local.filter(has_text="Bob")).to_contain_text("06:05")
    expect(local.filter(has_text="Bob")).to_contain_text("Perth")
    page.get_by_role("button", name="Run reminder sweep").click()
    expect(page.locator("#toast")).to_contain_text(
        "sent 0, missed 3, failed 0; missed 3: older than the catch-up window (24 h)"
    )


def test_emoji_fall_back_to_text_without_an_emoji_font(page: Page, sandbox: Running) -> None:
    page.goto(f"{sandbox.url}?emoji=text")  # as on a machine with no colour emoji font
    command(page, "/postmortem start campaign Emoji check")
    submit(modal(page, "Start a review"))
    current = status(page).locator('[data-block-id="progress"] .emoji').first
    expect(current).to_have_attribute("title", ":arrow_forward:")
    shown = current.evaluate("e => getComputedStyle(e, '::after').content")
    assert shown == '"▶"'


def example_stage(page: Page, title: str) -> None:
    form = continue_to(page, title)
    fill_example(page, form)
    expect(form.locator("textarea").first).not_to_have_value("")
    submit(form)


def test_a_revision_loop_and_an_admin_close_in_the_browser(page: Page, sandbox: Running) -> None:
    command(page, "/postmortem start service Spring catalogue")
    submit(modal(page, "Start a review"))
    for title in ("Engagement Kickoff", "Detailed Planning", "Execution"):
        example_stage(page, title)
    form = continue_to(page, "Quality Review")
    fill_example(page, form)
    expect(form.locator("textarea").first).not_to_have_value("")
    form.get_by_label("Revision required").check()
    field(form, "f.revision_notes").fill("Captions 4 to 6 show last season's prices")
    submit(form)
    message = status(page)
    expect(message.locator('[data-block-id="sent_back"]')).to_contain_text(
        "Sent back to Execution from Quality Review by @Alice Nguyen"
    )
    form = continue_to(page, "Execution")
    expect(form.locator('[data-block-id="sent_back"]')).to_contain_text(
        "Captions 4 to 6 show last season's prices"
    )
    fill_example(page, form)  # the decisions were cleared for this pass
    expect(form.locator('[data-block-id="d.risk_mitigation"] input:checked')).to_have_count(1)
    submit(form)
    example_stage(page, "Quality Review")
    expect(message.locator('[data-block-id="sent_back"]')).to_have_count(0)

    # A support post-mortem waits on an admin, who closes it with a comment for the owner.
    command(page, "/postmortem start support Late refund")
    submit(modal(page, "Start a review"))
    support = page.locator("#pane > .msg").nth(1)
    for title, filled in (
        ("Ticket details", "f.product"),
        ("Ticket analysis", "f.timeline"),
        ("Post-mortem report", "f.summary"),
        ("Action items", "f.proposed_solution"),
        ("Present in 1on1", "f.lead_feedback"),
    ):
        support.get_by_role("button", name="Continue:").click()
        form = modal(page, title)
        fill_example(page, form)
        expect(field(form, filled)).not_to_have_value("")
        submit(form)
    expect(support.locator('[data-block-id="waiting"]')).to_contain_text("Waiting on an admin")
    expect(support.locator(".bk-btn-primary")).to_have_count(0)
    page.get_by_role("button", name="Carol (admin)").click()
    expect(page.locator("#dm-badge")).to_have_text("1")  # told the moment it waited
    page.locator('[data-pane="channel:C0REVIEWS"]').click()
    support = page.locator("#pane > .msg").nth(1)
    support.get_by_role("button", name="Continue: Admin review").click()
    form = modal(page, "Admin review")
    form.get_by_label("Yes: close the post-mortem").check()
    field(form, "f.review_comment").fill("Clear and complete; share it on Wednesday")
    submit(form)
    expect(support).to_contain_text("Review closed")
    page.get_by_role("button", name="Alice", exact=True).click()
    page.locator("#nav-dm").click()
    expect(page.locator("#pane")).to_contain_text("Clear and complete; share it on Wednesday")


def test_a_review_started_with_a_user_group_names_its_participants(
    page: Page, sandbox: Running
) -> None:
    command(page, "/postmortem start campaign")
    start = modal(page, "Start a review")
    field(start, "title").fill("Spring sale")
    expect(field(start, "people_groups").locator("option")).to_have_text(["@team (The whole team)"])
    field(start, "people_groups").select_option("S0TEAM")
    field(start, "stakeholders").select_option("U0BOB")
    submit(start)

    message = status(page)
    expect(message.locator('[data-block-id="people"]')).to_contain_text("Participants:")
    expect(message.locator('[data-block-id="people"]')).to_contain_text("Bob Smith")
    message.get_by_role("button", name="People").click()
    people = modal(page, "People")
    expect(people).to_contain_text("New participants get one invitation DM.")


def test_bob_answers_the_survey_and_alice_sees_it_compiled(page: Page, sandbox: Running) -> None:
    from sqlalchemy import select

    from storage import participants
    from storage.db import transaction
    from storage.models import Review

    command(page, "/postmortem start campaign")
    start = modal(page, "Start a review")
    field(start, "title").fill("Black Friday email")
    submit(start)
    message = status(page)
    expect(message.locator(".bk-header")).to_have_text("Black Friday email")
    bot = sandbox.sandbox.bot
    with transaction(bot.rt.sessions) as session:  # what the People button will do
        review_id = session.scalars(select(Review.id)).one()
        participants.add(session, review_id, ["U0BOB", "U0ADMIN"], "participant", "U0ALICE")
    message.locator(".bk-overflow").select_option(label="Send survey")
    notice = modal(page, "Feedback survey")
    expect(notice).to_contain_text("on its way to 2 participant(s)")
    notice.locator(".modal-x").click()

    page.get_by_role("button", name="Bob", exact=True).click()
    expect(page.locator("#dm-badge")).to_have_text("1")
    page.locator("#nav-dm").click()
    dm = page.locator("#pane .msg").first
    expect(dm).to_contain_text("Black Friday email")
    dm.get_by_role("button", name="Answer").click()
    form = modal(page, "Feedback survey")
    field(form, "f.went_well").fill("Subject lines tested early")
    field(form, "f.went_wrong").fill("The checkout page was slow")
    field(form, "f.idea").fill("Load test the checkout page")
    field(form, "f.rating").select_option("r4")
    form.get_by_label("Answer anonymously").check()
    form.locator("[data-submit]").click()
    expect(modal(page, "Thank you")).to_contain_text("saved anonymously")
    page.locator(".modal .modal-x").click()

    page.get_by_role("button", name="Alice", exact=True).click()
    page.locator('[data-pane="channel:C0REVIEWS"]').click()
    expect(status(page).locator('[data-block-id="survey"]')).to_contain_text(
        "Survey: 1 of 2 answered"
    )
    form = continue_to(page, "Data Gathering")
    expect(form).to_contain_text("The checkout page was slow — anonymous")
    expect(form).not_to_contain_text("Bob")
    expect(field(form, "f.survey_responses")).to_have_value("1")

"""`GET /metrics`: the figures an operator watches move as a review runs against the fake Slack."""

from __future__ import annotations

import urllib.request
from datetime import timedelta

from helpers.action_items import BOB, DUE, at, make_items
from helpers.slack_walk import complete_stage, start
from helpers.ticket_hooks import TOKEN, event, post
from prometheus_client.parser import text_string_to_metric_families

from bot.action_items import nudges
from sandbox.fake_slack import FakeSlack
from storage import outbox
from storage.db import transaction
from storage.types import utcnow

Scrape = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(bot) -> Scrape:
    """Every sample `GET /metrics` answers, by name and labels."""
    url = bot.url.replace("/slack/events", "/metrics")
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a local URL
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(figures: Scrape, name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_the_figures_move_as_a_review_runs(slack: FakeSlack, engine, bot_with) -> None:
    bot = bot_with(slack, engine, POSTMORTEM_WEBHOOK_TOKEN=TOKEN)
    before = scrape(bot)
    assert value(before, "postmortem_outbox_effects", state="pending") == 0

    start(slack, "campaign Black Friday email")
    complete_stage(slack, bot)
    bot.settle()
    after = scrape(bot)
    ack = "postmortem_ack_seconds_count"
    assert moved(before, after, ack, kind="command") == 1  # /postmortem start
    assert moved(before, after, ack, kind="view_submission") >= 2  # start form, stage form
    assert moved(before, after, ack, kind="block_actions") >= 1  # Continue
    assert moved(before, after, "postmortem_ack_seconds_bucket", kind="command", le="3.0") == 1
    calls = "postmortem_slack_api_calls_total"
    assert moved(before, after, calls, method="chat.postMessage", outcome="ok") >= 1
    assert moved(before, after, calls, method="views.open", outcome="ok") >= 2

    # A reminder Slack refuses for good, then one that is rate-limited once and goes out.
    make_items(bot, [{"title": "Fix the promo code", "owner": BOB, "due_date": DUE}])
    before = scrape(bot)
    slack.fail("chat.postMessage", "user_not_found")
    assert str(nudges.sweep(bot.rt, at("2026-12-02T01:00:00+00:00"))).startswith("sent 0, missed 0")
    slack.rate_limit("chat.postMessage", retry_after=1)
    assert str(nudges.sweep(bot.rt, at("2026-12-04T01:30:00+00:00"))).startswith("sent 1,")
    after = scrape(bot)
    assert moved(before, after, calls, method="chat.postMessage", outcome="user_not_found") == 1
    assert moved(before, after, calls, method="chat.postMessage", outcome="ratelimited") == 1
    assert moved(before, after, "postmortem_nudges_total", outcome="failed") == 1
    assert moved(before, after, "postmortem_nudges_total", outcome="sent") == 1

    # Webhook deliveries by outcome.
    assert post(bot, "/hooks/tickets", event()).status == 200
    assert post(bot, "/hooks/tickets", event(), token="wrong-token-0123456789").status == 401
    assert post(bot, "/hooks/tickets", None, raw=b"{not json").status == 400
    later = scrape(bot)
    hooks = "postmortem_webhook_deliveries_total"
    assert moved(after, later, hooks, hook="tickets", outcome="accepted") == 1
    assert moved(after, later, hooks, hook="tickets", outcome="unauthorised") == 1
    assert moved(after, later, hooks, hook="tickets", outcome="invalid") == 1

    # An effect waiting (due in an hour, queued ten minutes ago): the queue's depth and age.
    with transaction(bot.rt.sessions) as session:
        effect = outbox.enqueue(session, "nothing.yet", {}, now=utcnow() + timedelta(hours=1))
        effect.created_at = utcnow() - timedelta(minutes=10)
    queued = scrape(bot)
    assert value(queued, "postmortem_outbox_effects", state="pending") == 1
    assert 600 <= value(queued, "postmortem_outbox_oldest_pending_seconds") < 700

    slack.reset_calls()  # the refusals above were on purpose


def test_two_bots_in_one_process_count_apart(slack: FakeSlack, engine, bot_with) -> None:
    """Each runtime has its own registry: one bot's requests never show in the other's figures."""
    first = bot_with(slack, engine)
    second = bot_with(slack, engine)  # Slack now talks to the second
    before = scrape(first)
    assert slack.slash_command("U0ALICE", "C0REVIEWS", "/postmortem", "help").status == 200
    bot_count = "postmortem_ack_seconds_count"
    assert moved(before, scrape(first), bot_count, kind="command") == 0
    assert value(scrape(second), bot_count, kind="command") == 1

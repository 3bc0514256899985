"""The `/postmortem` router (bot/commands.py), called directly with a mocked ack and respond."""

from __future__ import annotations

from unittest.mock import MagicMock

from helpers.slack_unit import (
    ALICE,
    CHANNEL,
    opened_view,
    seed_review,
    slack_calls,
    slash_command,
    view_text,
)
from sqlalchemy.exc import OperationalError

from bot.app import subcommands
from bot.commands import postmortem
from bot.runtime import Runtime


def run(
    text: str,
    rt: Runtime,
    ack: MagicMock,
    respond: MagicMock,
    client: MagicMock,
    table: dict | None = None,
) -> dict:
    command = slash_command(text)
    postmortem(
        ack=ack,
        command=command,
        respond=respond,
        client=client,
        rt=rt,
        subcommands=subcommands() if table is None else table,
    )
    return command


def test_an_unknown_word_gets_the_help_text_not_silence(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    run("frobnicate the thing", rt, ack, respond, client)

    ack.assert_called_once_with()
    respond.assert_called_once()
    text = respond.call_args.kwargs["text"]
    assert text.startswith("I don't know `/postmortem frobnicate`.")
    assert "`/postmortem start [workflow] [title]`" in text
    assert "`campaign`" in text and "`support`" in text  # the workflows one can start
    assert slack_calls(client) == []


def test_an_unknown_word_is_echoed_escaped(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    run("<!channel>", rt, ack, respond, client)

    text = respond.call_args.kwargs["text"]
    assert "`/postmortem &lt;!channel&gt;`" in text
    assert "<!channel>" not in text


def test_no_word_at_all_is_help(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    run("   ", rt, ack, respond, client)

    ack.assert_called_once_with()
    text = respond.call_args.kwargs["text"]
    assert text.startswith("*Post-mortems in Slack*")
    assert "I don't know" not in text


def test_a_known_word_goes_to_its_feature_with_the_rest_of_the_text(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    handler = MagicMock()
    command = run("PING  to the  moon ", rt, ack, respond, client, table={"ping": handler})

    ack.assert_called_once_with()
    handler.assert_called_once_with(rt, command, "to the  moon", respond, client)
    respond.assert_not_called()


def test_start_opens_the_start_form_filled_from_the_command(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    run("start support Refund took three weeks", rt, ack, respond, client)

    ack.assert_called_once_with()
    assert ack.slack_calls_before == [[]]  # the ack goes out before the modal is opened
    view = opened_view(client)
    assert view["callback_id"] == "start_review"
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["workflow"]["element"]["initial_option"]["value"] == "support_postmortem"
    assert blocks["title"]["element"]["initial_value"] == "Refund took three weeks"
    assert blocks["owner"]["element"]["initial_user"] == ALICE
    assert blocks["channel"]["element"]["initial_conversation"] == CHANNEL
    respond.assert_not_called()


def test_list_answers_with_the_channels_reviews(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    run("list", rt, ack, respond, client)
    assert respond.call_args.kwargs["text"] == (
        "No reviews here yet. Start one with `/postmortem start`."
    )

    seed_review(rt, title="Refund <took> three weeks")
    respond.reset_mock()
    run("list", rt, ack, respond, client)

    shown = view_text({"blocks": respond.call_args.kwargs["blocks"]})
    assert "Refund &lt;took&gt; three weeks" in shown
    assert "Support ticket post-mortem" in shown and "next: Ticket details" in shown


def test_a_word_whose_feature_fails_answers_instead_of_silence(
    rt: Runtime, ack: MagicMock, respond: MagicMock, client: MagicMock
) -> None:
    """With the database down, `/postmortem list` acked and then never replied (issue 13)."""
    rt.sessions = MagicMock(
        side_effect=OperationalError(  # type: ignore[method-assign]
            "SELECT 1", None, Exception("connection refused")
        )
    )

    run("list", rt, ack, respond, client)

    ack.assert_called_once_with()
    text = respond.call_args.kwargs["text"]
    assert text.startswith("Something failed on our side") and "Try again" in text

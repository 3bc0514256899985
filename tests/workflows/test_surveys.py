"""Feedback surveys' pure rules: themes by hand, deadlines on the calendar, YAML validation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflows.loader import BUILTIN_DIR, DefinitionError, load_file
from workflows.model import Survey
from workflows.surveys import (
    SURVEY_KEY,
    Response,
    compile_into,
    deadline,
    reminder_at,
    respondent_key,
    terms,
    themes,
    themes_text,
)

SYD = ZoneInfo("Australia/Sydney")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The checkout page was slow", {"checkout", "page", "slow", "checkout page"}),
        # "was" is a stop word: no phrase across it
        ("Checkout page slow", {"checkout", "page", "slow", "checkout page", "page slow"}),
        # punctuation ends a phrase; numbers and short words carry no theme
        (
            "Email late. Subject fine, 20 ok",
            {"email", "late", "subject", "fine", "email late", "subject fine"},
        ),
        ("The customer's refund", {"customer's", "refund", "customer's refund"}),
        ("", set()),
    ],
)
def test_terms_are_words_and_neighbouring_pairs_without_stop_words(
    text: str, expected: set[str]
) -> None:
    assert terms(text) == expected


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # counted once per answer however often it says it; below two answers is no theme
        (["checkout checkout checkout", "refund"], []),
        (["slow checkout", "checkout crashed"], [("checkout", 2)]),
        # a phrase as common as its word says more: "page" and "checkout" are left out
        (
            ["The checkout page froze", "checkout page slow", "Checkout page, again"],
            [("checkout page", 3)],
        ),
        # ranked by answers; a phrase before a word on a tie; then alphabetically
        (
            [
                "email subject lines were great",
                "great email subject",
                "email went late",
                "great team",
            ],
            [("email", 3), ("great", 3), ("email subject", 2)],
        ),
    ],
    ids=["once-per-answer", "word", "phrase-wins", "ranking"],
)
def test_themes_by_hand(answers: list[str], expected: list[tuple[str, int]]) -> None:
    assert themes(answers) == expected


def test_themes_are_capped() -> None:
    answers = [" ".join(f"topic{n}x" for n in range(20))] * 2
    assert len(themes(answers, limit=8)) == 8


def test_themes_text_says_where_the_themes_come_from() -> None:
    assert themes_text([("checkout page", 2), ("email", 2)], 3) == (
        "Suggested from 3 survey answers (how many mention each):\n- checkout page (2)\n- email (2)"
    )
    assert themes_text([], 3) == ""


def test_respondent_keys_are_per_review_and_secret() -> None:
    key = respondent_key(b"s" * 32, 1, "U0BOB")
    assert key == respondent_key(b"s" * 32, 1, "U0BOB")
    assert key != respondent_key(b"s" * 32, 2, "U0BOB")
    assert key != respondent_key(b"t" * 32, 1, "U0BOB")
    assert "U0BOB" not in key and len(key) == 64


def survey(days: int = 3) -> Survey:
    return Survey.model_validate(
        {
            "deadline_working_days": days,
            "questions": [{"key": "q", "label": "Q", "type": "text"}],
        }
    )


def test_the_deadline_counts_working_days_in_the_owners_timezone() -> None:
    # Thu 24 Dec 2026, 10:00 Sydney: Fri 25 and Mon 28 are public holidays (Christmas, Boxing
    # Day observed) and the weekend does not count: 3 working days is Thu 31 Dec (Tue 29, Wed
    # 30, Thu 31), closing at its end; the reminder is that morning at 09:00.
    sent = datetime(2026, 12, 24, 10, tzinfo=SYD)
    closes = deadline(sent, survey(3), "Australia/Sydney", "NSW")
    assert closes == datetime(2027, 1, 1, 0, 0, tzinfo=SYD)
    assert closes.tzinfo == UTC
    assert reminder_at(closes, "Australia/Sydney") == datetime(2026, 12, 31, 9, tzinfo=SYD)


def test_an_ordinary_week() -> None:
    sent = datetime(2026, 11, 30, 15, tzinfo=SYD)  # Monday afternoon
    closes = deadline(sent, survey(1), "Australia/Sydney", "NSW")
    assert closes == datetime(2026, 12, 2, 0, 0, tzinfo=SYD)  # the end of Tuesday
    assert reminder_at(closes, "Australia/Sydney", 9) == datetime(2026, 12, 1, 9, tzinfo=SYD)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        deadline(datetime(2026, 11, 30, 15), survey(), "Australia/Sydney", "NSW")  # noqa: DTZ001


def test_compile_counts_suggests_themes_and_keeps_anonymous_answers_nameless() -> None:
    stage = load_file(BUILTIN_DIR / "campaign_postmortem.yaml").stage("data_gathering")
    responses = [
        Response(
            {"went_well": "Subject lines", "went_wrong": "checkout page", "rating": "r4"}, "U0BOB"
        ),
        Response(
            {"went_well": "subject lines", "went_wrong": "Checkout page slow", "rating": "r2"}, None
        ),
    ]
    values = compile_into(stage, {"performance_data": "x"}, responses)
    assert values["survey_responses"] == "2"
    assert values["initial_themes"].splitlines()[1:] == [
        "- checkout page (2)",
        "- subject lines (2)",
    ]
    assert values["performance_data"] == "x"
    rating = next(
        q for q in values[SURVEY_KEY] if q["question"] == "How did the campaign go overall?"
    )
    assert rating["answers"] == [{"text": "4", "by": "U0BOB"}, {"text": "2", "by": None}]
    # the owner's own themes are kept; the count always follows the survey
    again = compile_into(stage, {"initial_themes": "Mine", "survey_responses": "7"}, responses)
    assert again["initial_themes"] == "Mine" and again["survey_responses"] == "2"
    # an untouched suggestion follows new answers; an edited one stays as the owner left it
    one = compile_into(stage, {}, responses[:1])
    assert one.get("initial_themes") is None  # one answer: nothing recurs
    stale = themes_text([("subject lines", 2)], 2)
    assert (
        compile_into(stage, {"initial_themes": stale}, responses)["initial_themes"]
        == (values["initial_themes"])
    )
    edited = stale + "\nAnd the budget."
    assert compile_into(stage, {"initial_themes": edited}, responses)["initial_themes"] == edited


MINIMAL = """\
key: retro
name: Sprint retro
description: A short retrospective.
stages:
  - key: notes
    name: Notes
    purpose: Write down what happened.
    fields:
      - key: count
        label: Answers
        type: number
      - key: themes
        label: Themes
        type: long_text
    survey:
      count_field: count
      themes_field: themes
      questions:
        - key: good
          label: What went well?
          type: long_text
"""


def test_a_workflow_file_declares_a_survey(tmp_path: Path) -> None:
    path = tmp_path / "retro.yaml"
    path.write_text(MINIMAL)
    stage = load_file(path).stage("notes")
    assert stage.survey is not None
    assert stage.survey.send == "manual" and stage.survey.deadline_working_days == 3


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (
            ("          type: long_text\n", "          type: money\n"),
            21,
            "stages.0.survey.questions.0.type: a survey question can't be money",
        ),
        (
            ("      count_field: count", "      count_field: nope"),
            16,
            "stages.0.survey.count_field: 'nope' is not a field of this stage",
        ),
        (
            ("      themes_field: themes", "      themes_field: count"),
            17,
            "stages.0.survey.themes_field: 'count' is a number field",
        ),
        (
            ("    survey:\n", "    survey:\n      send: sometimes\n"),
            16,
            "stages.0.survey.send: Input should be 'on_stage_open' or 'manual'",
        ),
        (
            ("    survey:\n", "    survey:\n      deadline_working_days: 0\n"),
            16,
            "stages.0.survey.deadline_working_days: Input should be greater than or equal to 1",
        ),
    ],
    ids=["question-type", "count-field", "themes-type", "send", "deadline"],
)
def test_a_broken_survey_names_the_line(
    tmp_path: Path, edit: tuple[str, str], line: int, message: str
) -> None:
    path = tmp_path / "retro.yaml"
    assert edit[0] in MINIMAL
    path.write_text(MINIMAL.replace(*edit))
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    problem = caught.value.problems[0]
    assert message in problem.message
    assert (problem.path, problem.line) == (path, line)


def test_the_campaign_data_gathering_declares_its_survey() -> None:
    stage = load_file(BUILTIN_DIR / "campaign_postmortem.yaml").stage("data_gathering")
    assert stage.survey is not None and stage.survey.anonymous_allowed
    assert [q.key for q in stage.survey.questions] == [
        "went_well",
        "went_wrong",
        "surprised",
        "idea",
        "rating",
    ]
    assert [o.label[0] for o in stage.survey.questions[-1].options] == list("12345")

"""Feedback surveys: pure rules for when they close, who counts once, and what they say.

No Slack, no SQL, no clock. A stage declares its survey in the workflow YAML (`Stage.survey`);
the bot stores who answered what and asks these functions:

- `respondent_key`: the one identity an answer is stored under. An HMAC of (review, user) with
  the deployment's secret: the same person finds and edits their answer and is counted once,
  while an anonymous answer's row holds no user id and nobody with the database alone can tell
  whose it is (guessing would need the secret).
- `deadline` / `reminder_at`: answers are taken until the end of the `deadline_working_days`-th
  working day after the survey went out, on the calendar of the review owner's timezone and
  state (`workflows.calendar`, as the action item nudges); a non-responder is reminded once, at
  the nudge hour on that last working day's morning.
- `themes`: what recurs across the answers, the small explainable way (below).
- `compile_into`: a stage's form values with the survey in them (count, themes, answers).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflows.calendar import add_working_days
from workflows.model import FieldType, Stage, Survey

SURVEY_KEY = "_survey"
"""The compiled answers in a stage's form values (shown read-only, never saved as an answer)."""

THEME_LIMIT = 8
ANSWER_SHOWN_MAX = 500  # characters of one answer shown in the stage's form

STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each even ever every few for from further get got had hadn't
    has hasn't have haven't having he her here hers herself him himself his how i i'd i'll i'm
    i've if in into is isn't it it's its itself just let's like lot lots made make many may me
    might more most much must mustn't my myself need needed next no nor not now of off on once
    one only or other ought our ours ourselves out over own really same shan't she should
    shouldn't so some still such than that that's the their theirs them themselves then there
    there's these they they'd they'll they're they've thing things this those through to too
    under until up upon us very was wasn't we we'd we'll we're we've well went were weren't what
    what's when where which while who whom why will with won't would wouldn't yes yet you your
    yours yourself yourselves
    """.split()  # noqa: SIM905 - a word list reads best as text
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def respondent_key(secret: bytes, review_id: int, user_id: str) -> str:
    """The key a person's answer to a review's survey is stored under (hex HMAC-SHA256)."""
    message = f"survey:{review_id}:{user_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def as_stage(stage: Stage) -> Stage:
    """The survey's questions as a stage of their own, so the same form builder, state reader
    and validation (`workflows.engine.clean`) serve the survey modal as every stage form."""
    survey = _survey(stage)
    return Stage(
        key=stage.key,
        name=f"{stage.name} survey"[:60],
        short_name=None,
        purpose=survey.intro or stage.purpose,
        fields=survey.questions,
    )


def _survey(stage: Stage) -> Survey:
    if stage.survey is None:
        raise ValueError(f"stage {stage.key!r} has no survey")
    return stage.survey


def deadline(sent_at: datetime, survey: Survey, tz: str, state: str) -> datetime:
    """When answers stop being taken: the end (midnight) of the `deadline_working_days`-th
    working day after the day the survey went out, in `tz`; returned in UTC."""
    _aware(sent_at)
    zone = ZoneInfo(tz)
    last = add_working_days(sent_at.astimezone(zone).date(), survey.deadline_working_days, state)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def reminder_at(closes_at: datetime, tz: str, hour: int = 9) -> datetime:
    """The one reminder: `hour` on the morning of the last day answers are taken (a working
    day, by `deadline`), in `tz`; returned in UTC."""
    _aware(closes_at)
    zone = ZoneInfo(tz)
    last_day = (closes_at.astimezone(zone) - timedelta(seconds=1)).date()
    return datetime.combine(last_day, time(hour), tzinfo=zone).astimezone(UTC)


def is_open(closes_at: datetime, now: datetime) -> bool:
    _aware(now)
    return now < closes_at


def _aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got {value!r}")


# --- themes ---------------------------------------------------------------------------------


def terms(text: str) -> set[str]:
    """The words and two-word phrases one answer mentions, stop words left out.

    Lower case; a possessive or contraction keeps its apostrophe ("customer's"); a phrase is
    two neighbouring words that are both kept ("checkout page"), never across a stop word or
    punctuation. Words of one or two letters and bare numbers carry no theme.
    """
    found: set[str] = set()
    for part in re.split(r"[.,;:!?()\[\]\n\"]+", text.lower().replace("’", "'")):
        words = _WORD.findall(part)
        kept: list[str | None] = [
            w if w not in STOP_WORDS and len(w) > 2 and not w.isdigit() else None for w in words
        ]
        for index, word in enumerate(kept):
            if word is None:
                continue
            found.add(word)
            following = kept[index + 1] if index + 1 < len(kept) else None
            if following is not None:
                found.add(f"{word} {following}")
    return found


def themes(answers: Iterable[str], limit: int = THEME_LIMIT) -> list[tuple[str, int]]:
    """Terms mentioned by at least two answers, with how many answers mention each.

    Each answer counts once per term, however often it repeats it. Ranked by that count, a
    phrase before a word on a tie (it says more), then alphabetically. A word is left out when
    a phrase containing it is mentioned by as many answers: "checkout page" (3) already says
    what "checkout" (3) would.
    """
    counts: Counter[str] = Counter()
    for answer in answers:
        counts.update(terms(answer))
    recurring = {term: n for term, n in counts.items() if n >= 2}
    phrases = [t for t in recurring if " " in t]
    kept = {
        term: n
        for term, n in recurring.items()
        if " " in term or not any(recurring[p] == n and term in p.split() for p in phrases)
    }
    ranked = sorted(kept.items(), key=lambda item: (-item[1], " " not in item[0], item[0]))
    return ranked[:limit]


def themes_text(found: Sequence[tuple[str, int]], answered: int) -> str:
    """The suggested themes as the stage's "Initial themes identified" starts with them."""
    if not found:
        return ""
    lines = [f"Suggested from {answered} survey answers (how many mention each):"]
    lines += [f"- {term} ({count})" for term, count in found]
    return "\n".join(lines)


_SUGGESTION_HEAD = re.compile(r"^Suggested from \d+ survey answers \(how many mention each\):$")
_SUGGESTION_LINE = re.compile(r"^- .+ \(\d+\)$")


def is_suggestion(text: str) -> bool:
    """Whether a themes answer is exactly what `themes_text` wrote (not edited since)."""
    lines = text.strip().splitlines()
    return (
        len(lines) > 1
        and bool(_SUGGESTION_HEAD.match(lines[0]))
        and all(_SUGGESTION_LINE.match(line) for line in lines[1:])
    )


# --- compiled into the stage ----------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """One person's answers; `user_id` is None for an anonymous answer."""

    answers: Mapping[str, Any]
    user_id: str | None


def answer_text(stage: Stage, key: str, value: Any) -> str:
    """An answer as words: a choice's label rather than its stored value."""
    question = next(q for q in _survey(stage).questions if q.key == key)
    labels = {o.value: o.label for o in question.options}
    if question.type == FieldType.CHOICE:
        return labels.get(str(value), str(value))
    if question.type == FieldType.MULTI_CHOICE and isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    if question.type == FieldType.YES_NO:
        return "Yes" if value in (True, "yes") else "No"
    return str(value)


def grouped(stage: Stage, responses: Sequence[Response]) -> list[dict[str, Any]]:
    """The answers question by question: `[{"question", "answers": [{"text", "by"}]}]`, where
    `by` is the user id of a named answer and None for an anonymous one."""
    out: list[dict[str, Any]] = []
    for question in _survey(stage).questions:
        answers = [
            {
                "text": answer_text(stage, question.key, r.answers[question.key])[
                    :ANSWER_SHOWN_MAX
                ],
                "by": r.user_id,
            }
            for r in responses
            if r.answers.get(question.key) not in (None, "", [])
        ]
        out.append({"question": question.label, "answers": answers})
    return out


def free_text(stage: Stage, responses: Sequence[Response]) -> list[str]:
    """Each response's typed answers (text questions) as one text, for `themes`: a person who
    mentions the checkout in two answers is one answer mentioning it."""
    keys = [
        q.key for q in _survey(stage).questions if q.type in (FieldType.TEXT, FieldType.LONG_TEXT)
    ]
    return [
        "\n".join(str(r.answers[k]) for k in keys if isinstance(r.answers.get(k), str))
        for r in responses
    ]


def compile_into(
    stage: Stage, values: Mapping[str, Any], responses: Sequence[Response]
) -> dict[str, Any]:
    """The stage's form values with the survey compiled in.

    The count field always holds the current count (the survey's, not typed); the themes field
    gets the suggested themes while it is empty or still holds an earlier suggestion untouched
    (more answers came in), so the owner's edits are kept; the
    answers go under `SURVEY_KEY`, which the form shows and the engine never saves.
    """
    survey = _survey(stage)
    out = dict(values)
    if not responses:
        out.pop(SURVEY_KEY, None)
        return out
    if survey.count_field:
        out[survey.count_field] = str(len(responses))
    current = str(out.get(survey.themes_field) or "") if survey.themes_field else ""
    if survey.themes_field and (not current.strip() or is_suggestion(current)):
        text = themes_text(themes(free_text(stage, responses)), len(responses))
        if text:
            out[survey.themes_field] = text
    out[SURVEY_KEY] = grouped(stage, responses)
    return out

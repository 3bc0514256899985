"""What the digest says: a seeded period gives the exact expected text; busy ones fit Slack."""

from __future__ import annotations

import os
from datetime import UTC, date, timedelta
from pathlib import Path

from digest.seed import ALICE, BOB, CHANNEL, NOW, Seeder, local
from sqlalchemy.orm import Session

from bot.digest import service as digest
from bot.digest.views import as_mrkdwn
from sandbox.fake_slack import problems
from workflows.meetings import next_meeting

GOLDEN = Path(__file__).parent / "golden"
NAMES = {ALICE: "Alice Nguyen", BOB: "Bob Smith"}


def _digest(session: Session, now=NOW, templates_dir: Path | None = None) -> dict:
    ws, settings = digest.load_settings(session, "T0TEST", rt=None, now=now)  # type: ignore[arg-type]
    schedule = settings.schedule("NSW")
    meeting = next_meeting(schedule, now)
    start = digest.covered_start(session, ws.id, CHANNEL, schedule, meeting)
    content = digest.collect(session, ws.id, schedule, meeting, start, now.astimezone(UTC))
    return digest.render(content, settings, NAMES, templates_dir)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_seeded_period_gives_the_expected_digest(busy: Session) -> None:
    message = _digest(busy)
    assert problems("message", message) == []
    _golden("busy.mrkdwn", as_mrkdwn(message))
    assert message["text"] == (
        "Post-mortem digest for the meeting on Wed 2 Dec 10:00 AEDT: 2 lessons to share, "
        "1 systemic issue, 2 reviews completed, 1 post-mortem waiting In Review, 1 action item "
        "overdue."
    )


def test_quiet_period_gives_a_short_nothing_new_digest(seeder) -> None:
    s = seeder()
    s.session.commit()
    message = _digest(s.session)
    assert problems("message", message) == []
    _golden("quiet.mrkdwn", as_mrkdwn(message))
    assert len(message["blocks"]) == 4


def test_user_text_cannot_ping_or_break_links(busy: Session) -> None:
    text = as_mrkdwn(_digest(busy))
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "<https://evil.example|here>" not in text
    assert "not weekly &amp; see &lt;https://evil.example|here&gt;" in text
    # The bot's own markup survives: links to the reviews and owner mentions.
    assert f"<https://slack.example/archives/{CHANNEL}/p" in text and f"<@{BOB}>" in text


def test_a_review_appears_once_and_each_person_is_mentioned_once(busy: Session) -> None:
    text = as_mrkdwn(_digest(busy))
    # Both completed reviews share a lesson: counted under "completed", not listed twice.
    assert text.count("|Black Friday email") == 2  # its lesson and its systemic issue
    assert "*:white_check_mark: Reviews completed* (2)\n_All of them are under Lessons" in text
    assert text.count(f"<@{ALICE}>") == 1 and text.count(f"<@{BOB}>") == 1
    assert "Alice Nguyen" in text and "Bob Smith" in text
    assert "(need organisational change) (" not in text


def test_500_reviews_stay_inside_slacks_limits_most_important_first(seeder) -> None:
    s: Seeder = seeder()
    long = "word " * 400
    for n in range(500):
        review = s.review(
            "support_postmortem",
            f"Review {n:03d} " + "x" * 180,
            status="in_review" if n % 2 else "closed",
            created=local(19),
            completed=None if n % 2 else local(20 + n % 10),
            answers={
                "report": {"summary": long, "lessons": long, "share_at_meeting": True},
                "metadata": {"category": "billing", "ces_score": "2"},
            },
            submitted=local(22),
        )
        s.item(
            review,
            f"Item {n:03d} " + "y" * 140,
            owner=ALICE,
            due=date(2026, 11, 1) + timedelta(days=n % 25),
        )
        s.escalation(review, long, local(23))
    s.session.commit()
    message = _digest(s.session)
    assert problems("message", message) == []
    assert len(message["blocks"]) <= 50
    sections = {
        b["block_id"]: b["text"]["text"] for b in message["blocks"] if b["type"] == "section"
    }
    assert all(len(t) <= 3000 for t in sections.values())
    overdue = sections["digest.overdue"]
    # The longest overdue first, then a pointer to the rest.
    bullets = overdue.split("\n• ")[1:]
    assert "Item 000" in bullets[0] and "(31 days overdue)" in bullets[0]
    assert all("(31 days overdue)" in b for b in bullets)  # 20 items are 31 days late
    assert "more: see `/postmortem list`" in overdue
    shown = overdue.count("\n• ")
    overdue_total = sum(
        1 for n in range(500) if date(2026, 11, 1) + timedelta(days=n % 25) < date(2026, 12, 2)
    )
    assert f"…and {overdue_total - shown} more" in overdue  # noqa: E501
    assert "(250)" in sections["digest.in_review"] and "(250)" in sections["digest.completed"]


def test_the_next_digest_starts_where_the_last_one_ended(busy: Session) -> None:
    ws, settings = digest.load_settings(busy, "T0TEST", rt=None, now=NOW)  # type: ignore[arg-type]
    schedule = settings.schedule("NSW")
    meeting = next_meeting(schedule, NOW)
    from storage import digests as store

    store.claim(
        busy,
        workspace_id=ws.id,
        meeting_key=meeting.key,
        channel_id=CHANNEL,
        meeting_starts_at=meeting.starts_at,
        covered_from=local(18, 9),
        covered_to=local(28, 9),
        status=store.POSTED,
    )
    busy.commit()
    text = as_mrkdwn(_digest(busy, NOW + timedelta(days=14)))
    assert "since Sat 28 Nov 09:00 AEDT" in text
    # Completed on 25 Nov: covered by the earlier digest, not repeated.
    assert "Refund took 3 weeks" not in text.split("Reviews completed")[-1].split("*")[0]
    assert "Black Friday" in text


def test_templates_folder_overrides_one_template(busy: Session, tmp_path: Path) -> None:
    (tmp_path / "digest_quiet.mrkdwn.j2").write_text("nothing")
    (tmp_path / "digest_intro.mrkdwn.j2").write_text(
        "Our agenda for {{ content.meeting_starts_at | when }} <{{ '<!here>' }}>"
    )
    text = as_mrkdwn(_digest(busy, templates_dir=tmp_path))  # POSTMORTEM_TEMPLATES_DIR
    assert "Our agenda for Wed 2 Dec 10:00 AEDT <&lt;!here&gt;>" in text
    assert "Lessons to share" in text  # the other templates are still the built-in ones

"""`postmortem-bot insights` writes the figures as JSON, CSV or a PNG chart."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.cli.main import main

from .history import LESSON_TITLE, seed_history
from .seed import Seed

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


def run(engine: Engine, *args: str) -> tuple[int, str]:
    env = {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "POSTMORTEM_TIMEZONE": "Australia/Sydney",
    }
    result = CliRunner().invoke(main, ["insights", "--now", NOW.isoformat(), *args], env=env)
    return result.exit_code, result.output


def test_json_has_every_figure(engine: Engine, session: Session, tmp_path: Path) -> None:
    seed_history(session, NOW)
    out = tmp_path / "insights.json"
    code, output = run(engine, "--since", "2026-01-01", "--format", "json", "-o", str(out))
    assert code == 0, output
    assert "as json to" in output
    data = json.loads(out.read_text())
    assert data["period"] == {
        "start": "2026-01-01",
        "end": "2026-06-16",
        "label": "since 1 Jan 2026",
    }
    assert sum(r["started"] for r in data["reviews"]) == 6
    assert data["action_items_total"] == {
        "done_on_time": 2,
        "done_late": 2,
        "open_overdue": 1,
        "open_not_due": 0,
    }
    [theme] = data["repeat_themes"]
    assert (theme["theme"], theme["repeats"]) == ("refunds", 2)
    assert theme["first_lesson"]["title"] == LESSON_TITLE
    assert data["tickets_open_over_14_days"] == 1
    assert data["service_delivery"]["sent_back"][0]["loops"] == {"quality_outcome": 1}
    [budget] = data["service_delivery"]["budget"]
    assert (budget["budget_excl_gst"], budget["actual_excl_gst"]) == ("1000.00", "1200.00")
    assert (budget["budget_incl_gst"], budget["actual_incl_gst"]) == ("1100.00", "1320.00")


def test_csv_is_one_figure_a_row(engine: Engine, session: Session) -> None:
    seed_history(session, NOW)
    code, output = run(engine, "--since", "3m", "--format", "csv")
    assert code == 0, output
    rows = list(csv.reader(output.splitlines()))
    assert rows[0] == ["figure", "month", "group", "measure", "value"]
    assert ["tickets open over 14 days", "", "", "tickets", "1"] in rows
    assert ["repeat themes", "", "refunds", "reviews after a lesson", "2"] in rows
    assert ["budget vs actual", "2026-05", "", "actual excl. GST", "1200.00"] in rows
    assert {r[1] for r in rows[1:] if r[1]} <= {"2026-04", "2026-05", "2026-06"}


def test_png_is_the_overview_chart(engine: Engine, session: Session, tmp_path: Path) -> None:
    seed_history(session, NOW)
    out = tmp_path / "insights.png"
    code, output = run(engine, "--format", "png", "-o", str(out))
    assert code == 0, output
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000


def test_mistakes_get_one_line(engine: Engine, session: Session) -> None:
    code, output = run(engine, "--format", "png")
    assert code == 1 and "--format png needs --output FILE" in output
    code, output = run(engine)
    assert code == 1 and "no workspace yet" in output
    Seed(session)
    Seed(session, team="T0OTHER")
    session.commit()
    code, output = run(engine)
    assert code == 1 and "several workspaces (T0TEST, T0OTHER): choose one with --team" in output
    code, output = run(engine, "--team", "T0OTHER", "--since", "someday")
    assert code == 1 and "--since: I can't read the period `someday`" in output
    code, output = run(engine, "--team", "T0OTHER", "--format", "csv")
    assert code == 0 and output.startswith("figure,month,group,measure,value\n")

"""The charts are PNGs of Slack's preview size, with something on them, in safe colours."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from matplotlib.image import imread

from bot.insights import charts
from workflows.insights import ItemCounts

from .samples import MONTHS, empty, half_year


def size_of(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def pixels(png: bytes) -> np.ndarray:
    return imread(io.BytesIO(png), format="png")[:, :, :3]


def has_colour(image: np.ndarray, hex_colour: str) -> bool:
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return bool((np.abs(image - rgb).max(axis=2) < 0.02).sum() > 500)


def assert_not_blank(png: bytes) -> None:
    image = pixels(png)
    assert image.std() > 0.05  # a white page has none
    assert (image.min(axis=2) < 0.9).mean() > 0.02  # more than a few stray pixels are inked


def test_the_digest_chart_is_a_preview_sized_png_in_okabe_ito_colours() -> None:
    png = charts.items_png(
        MONTHS, [ItemCounts(5, 2, 1)] * 6, ItemCounts(4, 1, 3), title="Action items"
    )
    assert size_of(png) == (1200, 675)
    assert_not_blank(png)
    image = pixels(png)
    for colour in (charts.ON_TIME_COLOUR, charts.LATE_COLOUR, charts.OVERDUE_COLOUR):
        assert has_colour(image, colour), colour


def test_the_commands_chart_marks_the_repeats() -> None:
    png = charts.reviews_png(half_year())
    assert size_of(png) == (1200, 675)
    assert_not_blank(png)
    assert has_colour(pixels(png), charts.VERMILLION) and has_colour(pixels(png), charts.SKY_BLUE)


def test_the_overview_has_four_panels_at_desktop_size() -> None:
    png = charts.overview_png(half_year())
    assert size_of(png) == (2400, 1350)
    assert_not_blank(png)
    image = pixels(png)
    for colour in (charts.BLUE, charts.ORANGE, charts.GREEN, charts.VERMILLION):
        assert has_colour(image, colour), colour


@pytest.mark.parametrize("draw", [charts.reviews_png, charts.overview_png])
def test_with_nothing_to_show_the_chart_says_so(draw) -> None:
    png = draw(empty())
    image = pixels(png)
    assert image.std() > 0.01  # titles and the "nothing in this period" note, not a blank page
    assert not has_colour(image, charts.VERMILLION)


def test_digest_chart_from_the_database(session) -> None:
    from datetime import date, timedelta

    from bot.insights.service import digest_chart, digest_figures

    from .seed import SYDNEY, Seed
    from .test_storage import syd

    seed = Seed(session)
    r = seed.review(created=syd(2026, 2, 1))
    seed.item(r, due=date(2026, 3, 10), status="done", completed=syd(2026, 3, 9))
    seed.item(r, due=date(2026, 3, 1), status="open")
    session.commit()
    end = syd(2026, 3, 18, 9)
    figures = digest_figures(session, seed.ws.id, end - timedelta(weeks=2), end, zone=SYDNEY)
    assert figures.months == ("2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03")
    assert figures.since == ItemCounts(on_time=1, late=0, overdue=1)
    assert figures.by_month[-1] == ItemCounts(on_time=1, late=0, overdue=1)
    png = digest_chart(session, seed.ws.id, end - timedelta(weeks=2), end, zone=SYDNEY)
    assert size_of(png) == (1200, 675)
    assert_not_blank(png)

"""The insights' charts as PNG bytes, drawn with matplotlib's Agg canvas (no display, no pyplot).

pyplot keeps global state and is not safe across the listener threads; a `Figure` drawn on its
own canvas is. Every chart is sized for Slack's preview (1200 x 675 px, 16:9, shown at about half
that), with large type, titles and axis labels in words, and the Okabe–Ito palette (readable with
every common colour-vision deficiency); overdue bars are also hatched, so they never rely on
colour alone.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from workflows.insights import Insights, ItemCounts, ces_by, month_label

# Okabe & Ito (2008), "Color Universal Design".
ORANGE, SKY_BLUE, GREEN, YELLOW = "#E69F00", "#56B4E9", "#009E73", "#F0E442"
BLUE, VERMILLION, PURPLE, BLACK, GREY = "#0072B2", "#D55E00", "#CC79A7", "#000000", "#999999"
SERIES = (BLUE, ORANGE, GREEN, PURPLE, SKY_BLUE, VERMILLION, YELLOW, BLACK)
ON_TIME_COLOUR, LATE_COLOUR, OVERDUE_COLOUR = GREEN, ORANGE, VERMILLION
SLACK_SIZE = (8.0, 4.5)  # inches: 1200 x 675 px at 150 dpi
DPI = 150
STYLE: dict[str, Any] = {
    "font.size": 12,
    "axes.titlesize": 15,
    "axes.titleweight": "bold",
    "axes.labelsize": 13,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


# matplotlib promises no thread safety; listeners run on a pool, so one chart at a time.
_LOCK = threading.Lock()


@contextmanager
def _drawing(size: tuple[float, float] = SLACK_SIZE) -> Iterator[Figure]:
    import matplotlib

    with _LOCK:
        cast(Any, matplotlib.rcParams).update(STYLE)  # the same values every time
        fig = Figure(figsize=size, dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        yield fig


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, facecolor="white")
    return out.getvalue()


def _one(draw: Callable[[Axes], None]) -> bytes:
    with _drawing() as fig:
        draw(fig.add_subplot())
        return _png(fig)


def _labels(months: Sequence[str]) -> list[str]:
    """Month names on the axis; with many months, only every few are written."""
    step = max(1, (len(months) + 11) // 12)
    return [
        month_label(m).replace(" ", "\n") if i % step == 0 else "" for i, m in enumerate(months)
    ]


def _nothing(ax: Axes, text: str) -> None:
    ax.text(
        0.5,
        0.5,
        text,
        ha="center",
        va="center",
        fontsize=14,
        color="#444444",
        transform=ax.transAxes,
        wrap=True,
    )
    ax.set_xticks([])
    ax.set_yticks([])


def _whole_numbers(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)


def _headroom(ax: Axes, highest: float) -> None:
    """Room above the tallest bar for the legend, which sits inside the plot at the top."""
    ax.set_ylim(0, highest * 1.35 + 1)


def _stacked(
    ax: Axes, x: Sequence[int], layers: Sequence[tuple[str, str, str | None, Sequence[int]]]
) -> list[int]:
    bottom = [0] * len(x)
    for label, colour, hatch, values in layers:
        ax.bar(
            x,
            values,
            bottom=bottom,
            label=label,
            color=colour,
            hatch=hatch,
            edgecolor="white" if hatch is None else "#5a1e00",
            linewidth=0.6,
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if len(x) <= 14:
        for xi, total in zip(x, bottom, strict=True):
            if total:
                ax.annotate(
                    str(total),
                    (xi, total),
                    ha="center",
                    va="bottom",
                    xytext=(0, 2),
                    textcoords="offset points",
                    fontsize=10,
                )
    return bottom


def draw_items(
    ax: Axes,
    months: Sequence[str],
    counts: Sequence[ItemCounts],
    since: ItemCounts | None = None,
    *,
    title: str,
) -> None:
    """Stacked bars per due month (and, for the digest, one bar since the last meeting)."""
    labels = _labels(months)
    values = list(counts)
    if since is not None:
        labels.append("Since last\nmeeting")
        values.append(since)
    if not any(c.promised for c in values):
        ax.set_title(title, loc="left")
        _nothing(ax, "No action items were due in this period.")
        return
    x = list(range(len(values)))
    totals = _stacked(
        ax,
        x,
        [
            ("Done on time", ON_TIME_COLOUR, None, [c.on_time for c in values]),
            ("Done late", LATE_COLOUR, None, [c.late for c in values]),
            ("Open and overdue", OVERDUE_COLOUR, "//", [c.overdue for c in values]),
        ],
    )
    if since is not None:
        ax.axvline(len(values) - 1.5, color=GREY, linestyle="--", linewidth=1)
    ax.set_xticks(x, labels)
    ax.set_title(title, loc="left")
    ax.set_ylabel("Action items")
    ax.set_xlabel(
        "Month the items were due"
        if since is None
        else "Month the items were due, then the items done since the last meeting"
    )
    _whole_numbers(ax)
    ax.legend(loc="upper left", frameon=False, ncols=3)
    _headroom(ax, max(totals))


def draw_reviews(ax: Axes, ins: Insights) -> None:
    """Reviews started per month, the part that repeats a lesson's theme marked, and completed."""
    title = "Reviews per month, and how many repeat a lesson's theme"
    started = ins.started_by_month()
    completed = [sum(ins.completed[k].get(m, 0) for k in ins.completed) for m in ins.months]
    if not any(started) and not any(completed):
        ax.set_title(title, loc="left")
        _nothing(ax, "No reviews were started or completed in this period.")
        return
    repeats = [
        min(ins.repeat_reviews.get(m, 0), s) for m, s in zip(ins.months, started, strict=True)
    ]
    x = list(range(len(ins.months)))
    totals = _stacked(
        ax,
        x,
        [
            (
                "Started: a new theme",
                SKY_BLUE,
                None,
                [s - r for s, r in zip(started, repeats, strict=True)],
            ),
            ("Started: repeats a theme with a lesson", VERMILLION, "//", repeats),
        ],
    )
    ax.plot(x, completed, color=BLACK, marker="o", linewidth=2, label="Completed")
    ax.set_xticks(x, _labels(ins.months))
    ax.set_title(title, loc="left")
    ax.set_ylabel("Reviews")
    ax.set_xlabel("Month")
    _whole_numbers(ax)
    ax.legend(loc="upper left", frameon=False, ncols=2)
    _headroom(ax, max([*totals, *completed]))


def draw_ces(ax: Axes, ins: Insights) -> None:
    title = "Support: customer effort (CES) by ticket category"
    groups = ces_by(ins.ces, "category")
    if not groups:
        ax.set_title(title, loc="left")
        _nothing(ax, "No scored tickets behind post-mortems in this period.")
        return
    ranked = sorted(groups, key=lambda g: -sum(n for _, n in groups[g].values()))[:5]
    x = list(range(len(ins.months)))
    markers = ("o", "s", "^", "D", "v")
    for i, group in enumerate(ranked):
        points = [
            (xi, groups[group][m][0])
            for xi, m in zip(x, ins.months, strict=True)
            if m in groups[group]
        ]
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker=markers[i],
            color=SERIES[i],
            linewidth=2,
            label=group or "no category",
        )
    ax.set_ylim(1, 7.4)
    ax.set_xticks(x, _labels(ins.months))
    ax.set_title(title, loc="left")
    ax.set_ylabel("Average CES (1 hard – 7 easy)")
    ax.set_xlabel("Month the post-mortem started")
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.legend(loc="lower left", frameon=False, ncols=3)


def draw_budget(ax: Axes, ins: Insights) -> None:
    title = "Budget vs actual spend, excluding GST"
    if not ins.budget:
        ax.set_title(title, loc="left")
        _nothing(ax, "No reviews with a budget and an actual spend in this period.")
        return
    by_month = {b.month: b for b in ins.budget}
    x = list(range(len(ins.months)))
    budget = [by_month[m].budget_excl / 100 if m in by_month else 0 for m in ins.months]
    actual = [by_month[m].actual_excl / 100 if m in by_month else 0 for m in ins.months]
    ax.bar([xi - 0.2 for xi in x], budget, width=0.4, color=BLUE, label="Budget")
    ax.bar(
        [xi + 0.2 for xi in x],
        actual,
        width=0.4,
        color=ORANGE,
        hatch="..",
        edgecolor="white",
        label="Actual",
    )
    ax.set_xticks(x, _labels(ins.months))
    ax.set_title(title, loc="left")
    ax.set_ylabel("Dollars (AUD, excl. GST)")
    ax.set_xlabel("Month the review started")
    ax.yaxis.set_major_formatter(lambda v, _: f"${v:,.0f}")
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", frameon=False, ncols=2)
    _headroom(ax, max([*budget, *actual]))


def items_png(
    months: Sequence[str],
    counts: Sequence[ItemCounts],
    since: ItemCounts | None = None,
    *,
    title: str = "Action items",
) -> bytes:
    return _one(lambda ax: draw_items(ax, months, counts, since, title=title))


def reviews_png(ins: Insights) -> bytes:
    """The command's chart: are the same mistakes coming back?"""
    return _one(lambda ax: draw_reviews(ax, ins))


def overview_png(ins: Insights) -> bytes:
    """Four panels for a desktop or a report (the CLI's --format png, the README)."""
    with _drawing((16.0, 9.0)) as fig:
        axes: Any = fig.subplots(2, 2)
        draw_reviews(axes[0][0], ins)
        draw_items(
            axes[0][1],
            ins.months,
            [ins.items.get(m, ItemCounts()) for m in ins.months],
            title="Action items: kept on time, late, or overdue",
        )
        draw_ces(axes[1][0], ins)
        draw_budget(axes[1][1], ins)
        fig.suptitle(f"Post-mortem insights: {ins.period.label}", fontsize=18, fontweight="bold")
        return _png(fig)

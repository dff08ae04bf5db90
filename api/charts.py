"""Charts drawn on the server as inline SVG: pure functions from numbers to markup (no script, no CDN).

Each chart is a `Figure`: the SVG (role img, named by its <title>, summarised by its <desc>) and
the same numbers as a table, which the page shows beside it, so a screen reader or a phone loses
nothing. Colours are SVG attributes, not style attributes, so the pages' CSP needs no exception;
each has at least 3:1 contrast on white (graphics, WCAG 1.4.11) and text is the page's ink.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import count
from typing import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 14, 52  # room for the axes' labels
INK, MUTED, GRID = "#1c2733", "#4f5d6b", "#d8dee4"
# Distinct hues, each at least 4.5:1 against white (tests/unit/test_charts.py measures them); stacked segments
# are parted by a white line, so each meets its neighbour across white.
PALETTE = ("#1d4f91", "#a34700", "#1e6b3a", "#7b2d8e", "#a3261b", "#00695c", "#5d4037", "#37474f")
LIGHT_PAIR = "#6f8fbf"  # the p90 bar, a gap below the median's: 3.3:1 on white
_ids = count(1)


@dataclass(frozen=True)
class Figure:
    """A chart and its numbers: `columns` head the table, each row is a label and its values."""

    title: str
    svg: Markup
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    legend: tuple[tuple[str, str], ...] = ()  # (colour, name) for the series of a stacked chart


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is at least `value` (at least 1): the axis' top."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def bar_heights(values: Sequence[float], plot_height: float) -> list[float]:
    """Each value's bar height: proportional to it, the axis' top (`nice_ceiling` of the largest) at full height."""
    top = nice_ceiling(max(values, default=0))
    return [plot_height * v / top for v in values]


def bar_chart(title: str, description: str, labels: Sequence[str], values: Sequence[int],
              colour: str = PALETTE[0]) -> Figure:
    """Vertical bars, one per label (a month), with a y axis."""
    return stacked_bar_chart(title, description, labels, {"": list(values)}, colours=(colour,))


def stacked_bar_chart(title: str, description: str, labels: Sequence[str], series: dict[str, Sequence[int]],
                      colours: Sequence[str] = PALETTE) -> Figure:
    """Bars stacked by series (states), one bar per label (a month); the series' names make the legend."""
    names = list(series)
    totals = [sum(series[n][i] for n in names) for i in range(len(labels))]
    top = nice_ceiling(max(totals, default=0))
    plot_h, plot_w = HEIGHT - TOP - BOTTOM, WIDTH - LEFT - RIGHT
    slot = plot_w / max(len(labels), 1)
    parts = _y_axis(top, plot_h)
    for i, label in enumerate(labels):
        x, y = LEFT + i * slot + slot * 0.15, TOP + plot_h
        for n, name in enumerate(names):
            height = plot_h * series[name][i] / top
            if height > 0:
                y -= height
                what = f"{name}: " if name else ""
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" '
                             f'fill="{colours[n % len(colours)]}" stroke="#ffffff"><title>{escape(label)}: {escape(what)}'
                             f'{series[name][i]}</title></rect>')
        if i % _label_step(len(labels)) == 0:
            parts.append(_x_label(LEFT + i * slot + slot / 2, label, every_other=i // _label_step(len(labels)) % 2 == 1))
    header = ("Month", *(names if names != [""] else [title]))
    rows = tuple((label, *(str(series[n][i]) for n in names)) for i, label in enumerate(labels))
    legend = tuple((colours[n % len(colours)], name) for n, name in enumerate(names)) if names != [""] else ()
    return Figure(title, _svg(title, description, parts), header, rows, legend)


def line_chart(title: str, description: str, labels: Sequence[str], values: Sequence[int],
               colour: str = PALETTE[4]) -> Figure:
    """A line through one point per label (a month), with a y axis."""
    top = nice_ceiling(max(values, default=0))
    plot_h, plot_w = HEIGHT - TOP - BOTTOM, WIDTH - LEFT - RIGHT
    slot = plot_w / max(len(labels), 1)
    points = [(LEFT + i * slot + slot / 2, TOP + plot_h - plot_h * v / top) for i, v in enumerate(values)]
    parts = _y_axis(top, plot_h)
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    for (x, y), label, v in zip(points, labels, values):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"><title>{escape(label)}: {v}'
                     f'</title></circle>')
    for i, ((x, _), label) in enumerate(zip(points, labels)):
        if i % _label_step(len(labels)) == 0:
            parts.append(_x_label(x, label, every_other=i // _label_step(len(labels)) % 2 == 1))
    rows = tuple((label, str(v)) for label, v in zip(labels, values))
    return Figure(title, _svg(title, description, parts), ("Month", title), rows)


def duration_chart(title: str, description: str, stays: Sequence[tuple[str, float, float, int]]) -> Figure:
    """Per state (label, median seconds, p90 seconds, stays): two horizontal bars, median above p90."""
    top = max((p90 for _, _, p90, _ in stays), default=0) or 1
    row_h, label_w, value_w = 56, 130, 180
    height = TOP + row_h * max(len(stays), 1) + 8
    bar_w = WIDTH - label_w - value_w - RIGHT
    parts = []
    for i, (label, median, p90, _) in enumerate(stays):
        y = TOP + i * row_h
        parts.append(_text(label_w - 8, y + 26, label, anchor="end"))
        for j, (what, seconds, colour) in enumerate((("median", median, PALETTE[0]), ("p90", p90, LIGHT_PAIR))):
            width = max(bar_w * seconds / top, 1)
            parts.append(f'<rect x="{label_w}" y="{y + 4 + j * 22}" width="{width:.1f}" height="16" fill="{colour}">'
                         f'<title>{escape(label)}: {what} {human_duration(seconds)}</title></rect>')
            parts.append(_text(label_w + width + 6, y + 17 + j * 22, f"{what} {human_duration(seconds)}"))
    rows = tuple((label, human_duration(m), human_duration(p), str(n)) for label, m, p, n in stays)
    return Figure(title, _svg(title, description, parts, height), ("State", "Median", "90th percentile", "Stays"),
                  rows, ((PALETTE[0], "median"), (LIGHT_PAIR, "90th percentile")))


def human_duration(seconds: float) -> str:
    """A duration as people say it: "45 min", "5.5 h", "3.2 days"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _y_axis(top: float, plot_h: float) -> list[str]:
    """Grid lines and labels at fifths of the axis (whole numbers only)."""
    steps = 5 if top >= 5 else int(top)
    parts = []
    for k in range(steps + 1):
        value = top * k / steps
        y = TOP + plot_h - plot_h * k / steps
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID if k else MUTED}"/>')
        parts.append(_text(LEFT - 6, y + 4, f"{value:g}", anchor="end"))
    return parts


def _text(x: float, y: float, text: str, *, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{INK}">{escape(text)}</text>'


def _label_step(labels: int) -> int:
    """Every how many bars a label goes: at most 12 labels fit across."""
    return max(1, math.ceil(labels / 12))


def _x_label(x: float, label: str, *, every_other: bool = False) -> str:
    """A month under its bar: "Nov" above "2026", so that three years of months fit side by side.
    `every_other` labels are left out on a phone (pages.css), where the chart's text is drawn larger."""
    first, _, rest = label.partition(" ")
    lines = f'<tspan x="{x:.1f}" dy="0">{escape(first)}</tspan>'
    if rest:
        lines += f'<tspan x="{x:.1f}" dy="1.15em">{escape(rest)}</tspan>'
    kind = ' class="every-other"' if every_other else ""
    return f'<text{kind} x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" fill="{INK}">{lines}</text>'


def _svg(title: str, description: str, parts: list[str], height: int = HEIGHT) -> Markup:
    n = next(_ids)  # ids unique on the page, however many charts it holds
    return Markup(f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
                  f'aria-labelledby="chart-{n}-title chart-{n}-desc" font-size="13" '
                  f'font-family="system-ui, sans-serif"><title id="chart-{n}-title">{escape(title)}</title>'
                  f'<desc id="chart-{n}-desc">{escape(description)}</desc>{"".join(parts)}</svg>')

"""The charts' drawing, with real numbers: bars in proportion, percentiles of known durations, the diagram's layout."""

from __future__ import annotations

import statistics
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from api.charts import (BOTTOM, HEIGHT, INK, LIGHT_PAIR, MUTED, PALETTE, TOP, bar_chart, bar_heights, duration_chart,
                        human_duration, line_chart, nice_ceiling, stacked_bar_chart)
from api.workflow_diagram import CURRENT_FILL, layers, moves, workflow_diagram
from domain.application import WORKFLOWS
from projections.items_tables import duration_bucket
from projections.queries import time_in_state_of
from projections.time_series import MAX_MONTHS, month_starts

PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
HOUR, DAY = 3600, 86400


def drawn(figure) -> ET.Element:
    return ET.fromstring(str(figure.svg))


def bars(figure) -> list[ET.Element]:
    return [r for r in drawn(figure).iter("rect")]


@pytest.mark.parametrize("value, top", [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (10, 10), (12, 20), (51, 100),
                                        (4999, 5000)])
def test_the_axis_top_is_the_next_one_two_or_five_times_a_power_of_ten(value, top):
    assert nice_ceiling(value) == top


def test_bar_heights_are_proportional_to_the_values_with_the_axis_top_at_full_height():
    assert bar_heights([1, 2, 4], 200) == [40.0, 80.0, 160.0]  # the axis' top is 5
    assert bar_heights([0, 10], 100) == [0.0, 100.0]


def test_a_bar_chart_draws_one_bar_per_month_in_proportion_and_none_for_a_zero():
    figure = bar_chart("Tasks done per month", "Done per month.", ["Sep 2026", "Oct 2026", "Nov 2026"], [3, 0, 6])
    heights = [float(r.get("height")) for r in bars(figure)]
    assert heights == pytest.approx([PLOT_HEIGHT * 3 / 10, PLOT_HEIGHT * 6 / 10], abs=0.1)
    assert figure.rows == (("Sep 2026", "3"), ("Oct 2026", "0"), ("Nov 2026", "6"))
    svg = drawn(figure)
    assert svg.get("role") == "img" and svg.find("title").text == "Tasks done per month"
    assert svg.get("aria-labelledby").split() == [svg.find("title").get("id"), svg.find("desc").get("id")]


def test_stacked_bars_put_each_state_on_the_one_below_and_reach_the_months_total():
    figure = stacked_bar_chart("Open tasks by state", "By state.", ["Oct 2026", "Nov 2026"],
                               {"Open": [2, 4], "In progress": [3, 1], "Blocked": [0, 5]})
    segments = bars(figure)
    assert len(segments) == 5  # Oct's blocked is zero: not drawn
    november = segments[2:]
    assert [float(r.get("height")) for r in november] == pytest.approx(
        [PLOT_HEIGHT * n / 10 for n in (4, 1, 5)], abs=0.1)
    for lower, upper in zip(november, november[1:]):
        assert float(upper.get("y")) + float(upper.get("height")) == pytest.approx(float(lower.get("y")), abs=0.1)
    assert figure.columns == ("Month", "Open", "In progress", "Blocked")
    assert [name for _, name in figure.legend] == ["Open", "In progress", "Blocked"]


def test_a_line_chart_puts_each_month_at_its_height():
    figure = line_chart("Overdue deadlines", "Overdue.", ["Sep 2026", "Oct 2026", "Nov 2026"], [0, 1, 2])
    ys = [float(c.get("cy")) for c in drawn(figure).iter("circle")]
    base = TOP + PLOT_HEIGHT
    assert ys == pytest.approx([base, base - PLOT_HEIGHT / 2, base - PLOT_HEIGHT], abs=0.1)


def test_median_and_p90_of_known_durations_come_out_of_the_histogram_within_nine_percent_and_are_drawn_so():
    durations = [1 * HOUR] * 5 + [3 * HOUR] * 3 + [2 * DAY] + [10 * DAY]  # the 5th of ten: 1 h; the 9th: 2 days
    histogram: dict[int, int] = {}
    for seconds in durations:
        histogram[duration_bucket(seconds)] = histogram.get(duration_bucket(seconds), 0) + 1
    rows = [("tasks", "open", bucket, n) for bucket, n in sorted(histogram.items())]
    measured = time_in_state_of(rows)["tasks"]["open"]
    assert measured["samples"] == 10
    # The histogram's median is the bucket reaching half the stays (the fifth: 1 hour), its p90 the ninth's.
    assert measured["median_seconds"] == pytest.approx(statistics.median_low(durations), rel=0.09)
    assert measured["p90_seconds"] == pytest.approx(sorted(durations)[8], rel=0.09)

    figure = duration_chart("Tasks: time in each state", "Time in state.",
                            [("Open", measured["median_seconds"], measured["p90_seconds"], 10)])
    median_bar, p90_bar = bars(figure)
    assert float(median_bar.get("width")) / float(p90_bar.get("width")) == pytest.approx(
        measured["median_seconds"] / measured["p90_seconds"], rel=0.01)
    assert figure.rows == (("Open", human_duration(measured["median_seconds"]),
                            human_duration(measured["p90_seconds"]), "10"),)


@pytest.mark.parametrize("seconds, said", [(42, "42 s"), (45 * 60, "45 min"), (5.5 * HOUR, "5.5 h"),
                                           (3.2 * DAY, "3.2 days")])
def test_durations_are_said_as_people_say_them(seconds, said):
    assert human_duration(seconds) == said


def test_text_in_a_chart_is_escaped():
    figure = bar_chart("<script>x</script>", "a & b", ["<b>"], [1])
    assert "<script>" not in str(figure.svg) and "&lt;script&gt;" in str(figure.svg)


def test_the_months_are_the_last_ones_across_a_new_year_and_capped():
    assert month_starts(date(2026, 2, 10), 3) == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    assert len(month_starts(date(2026, 2, 10), 10_000)) == MAX_MONTHS
    assert month_starts(date(2026, 2, 10), 0) == [date(2026, 2, 1)]


def test_the_task_diagram_rows_states_by_moves_from_the_first_with_the_terminal_ones_last():
    task = next(w for w in WORKFLOWS.values() if w.name == "task")
    assert layers(task) == {"open": 0, "in_progress": 1, "blocked": 2, "in_review": 2, "done": 3, "cancelled": 3}
    assert ("in_review", "return", "in_progress") in moves(task)
    assert not [m for m in moves(task) if m[1] in ("assign", "reschedule")]  # they leave the state as it is


@pytest.mark.parametrize("collection", list(WORKFLOWS))
def test_every_workflow_diagram_fills_the_current_state_only_and_lists_every_move(collection):
    workflow = WORKFLOWS[collection]
    current = workflow.states[-1]
    figure = workflow_diagram(workflow, current)
    svg = drawn(figure)
    boxes = [g.find("rect") for g in svg.iter("g")]
    assert len(boxes) == len(workflow.states)
    assert [b.get("fill") for b in boxes].count("#1d4f91") == 1
    assert sum(1 for t in svg.iter("text") if t.text.endswith("(now)")) == 1
    assert len(figure.rows) == len(moves(workflow)) and figure.columns == ("From", "Action", "To")
    assert len([p for p in svg.iter("path") if p.get("marker-end")]) == len({(s, t) for s, _, t in moves(workflow)})


def contrast(a: str, b: str) -> float:
    """WCAG 2's contrast ratio of two #rrggbb colours."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_colour_a_chart_draws_with_stands_out_from_the_white_page():
    assert min(contrast(c, "#ffffff") for c in PALETTE) >= 4.5
    assert contrast(LIGHT_PAIR, "#ffffff") >= 3  # a graphic, not text
    assert contrast(INK, "#ffffff") >= 4.5 and contrast(MUTED, "#ffffff") >= 4.5
    assert contrast("#ffffff", CURRENT_FILL) >= 4.5  # the current state's name, white on its fill

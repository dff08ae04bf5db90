"""The charts' month by month series, read from the items view's history, on SQLite and PostgreSQL.

A story from August to late November 2026: three tasks, one done in August and one in
October (late: due in September), one still at work; Albania's request waits for a decision
throughout, Serbia's is rejected at once. Each month is read as at its last instant.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from api.chart_figures import dashboard_figures
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.runner import ProjectionRunner
from projections.time_series import monthly_series
from tests.factories import ADMIN, ALBA, ERIK, HANA, MILAN, SARA, register_cast, request_values, task_values

TZ = ZoneInfo("Europe/Ljubljana")
DAY = 86400


def on(clock, month: int, day: int) -> None:
    clock.now = datetime(2026, month, day, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def story(service, clock, store_env):
    """The story's events, projected; the AL request's decision day."""
    on(clock, 8, 10)
    register_cast(service)
    task = {}
    for key, due in (("first", date(2026, 8, 20)), ("late", date(2026, 9, 15)), ("still", date(2026, 12, 15))):
        task[key] = service.create("tasks", SARA, task_values(title=f"The {key} task", due=due)).item.id
    albania = service.create("support-requests", ALBA, request_values()).item
    serbia = service.create("support-requests", MILAN, request_values(party="RS")).item.id

    def act(key, action, actor=SARA, **values):
        service.act("tasks", task[key], action, actor, values)

    on(clock, 8, 12)
    act("first", "start")
    service.act("support-requests", serbia, "start_screening", SARA, {})
    service.act("support-requests", serbia, "reject", HANA, {}, reason="Operational involvement")
    on(clock, 8, 14)
    act("first", "submit", result="Done")
    on(clock, 8, 17)
    act("first", "approve", ERIK)
    on(clock, 9, 20)
    act("late", "start")
    on(clock, 10, 5)
    act("late", "submit", result="Done late")
    on(clock, 10, 6)
    act("late", "approve", ERIK)
    on(clock, 11, 23)
    act("still", "start")
    runner = ProjectionRunner(service, engine_for(store_env, writer=True), [ItemsProjection(service.mapper.transcoder)])
    runner.setup()
    runner.catch_up(runner.projections[0])
    runner.engine.dispose()
    return albania.fields["decision_due"]


MONTH_ENDS = [date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 23)]  # the last: today


def test_tasks_done_are_counted_in_the_month_they_were_approved(story, read_models, clock):
    series = monthly_series(read_models.engine, SARA, clock(), TZ, 4)
    assert series.months == [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert (series.done_collection, series.done_state) == ("tasks", "done")
    assert series.done == [1, 0, 1, 0]


def test_open_tasks_by_state_are_as_they_stood_at_each_months_end(story, read_models, clock):
    tasks = monthly_series(read_models.engine, SARA, clock(), TZ, 4).states["tasks"]
    working = [{s: n for s, n in month.items() if n and s not in ("done", "cancelled")} for month in tasks]
    assert working == [{"open": 2}, {"open": 1, "in_progress": 1}, {"open": 1}, {"in_progress": 1}]
    assert [month["done"] for month in tasks] == [1, 1, 2, 2]


def test_months_before_anything_was_recorded_count_nothing(story, read_models, clock):
    series = monthly_series(read_models.engine, SARA, clock(), TZ, 6)
    assert series.done[:2] == [0, 0] and series.overdue[:2] == [0, 0]
    assert all(n == 0 for month in series.states["tasks"][:2] for n in month.values())


def test_overdue_deadlines_are_counted_at_each_months_end_within_what_the_reader_may_read(story, read_models, clock):
    albania_late = [int(story < day) for day in MONTH_ENDS]  # waits for a decision all along
    late_task = [0, 1, 0, 0]  # due 15 September, done 6 October
    assert monthly_series(read_models.engine, SARA, clock(), TZ, 4).overdue == [
        a + t for a, t in zip(albania_late, late_task)]
    assert monthly_series(read_models.engine, ALBA, clock(), TZ, 4).overdue == albania_late
    assert monthly_series(read_models.engine, MILAN, clock(), TZ, 4).overdue == [0, 0, 0, 0]  # rejected at once
    assert sum(albania_late) >= 2  # the story does test the scoping


def test_a_party_liaison_gets_no_counts_and_an_admin_no_charts(story, read_models, clock):
    liaison = monthly_series(read_models.engine, ALBA, clock(), TZ, 4)
    assert liaison.states == {} and liaison.done is None
    assert dashboard_figures(read_models, ADMIN, clock(), TZ, 4) == []


def test_the_dashboard_charts_time_in_state_from_the_known_stays(story, read_models, clock):
    # In review: the first task 3 days, the late one 1 day. In progress: 2 days and 15 days.
    measured = read_models.time_in_state()["tasks"]
    assert measured["in_review"]["samples"] == 2
    assert measured["in_review"]["median_seconds"] == pytest.approx(1 * DAY, rel=0.09)
    assert measured["in_review"]["p90_seconds"] == pytest.approx(3 * DAY, rel=0.09)
    assert measured["in_progress"]["p90_seconds"] == pytest.approx(15 * DAY, rel=0.09)
    figures = {f.title: f for f in dashboard_figures(read_models, SARA, clock(), TZ, 4)}
    in_review = next(row for row in figures["Tasks: time in each state"].rows if row[0] == "In review")
    assert in_review[3] == "2"
    assert figures["Tasks done per month"].rows == (("Aug 2026", "1"), ("Sep 2026", "0"), ("Oct 2026", "1"),
                                                    ("Nov 2026", "0"))


def test_a_long_span_is_cut_to_three_years(story, read_models, clock):
    series = monthly_series(read_models.engine, SARA, clock() + timedelta(days=3650), TZ, 10_000)
    assert len(series.months) == len(series.overdue) == len(series.done) == 36

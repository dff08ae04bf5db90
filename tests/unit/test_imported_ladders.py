"""A deadline set by an imported event starts its ladder at the import: earlier rungs pass silently."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from domain.reminders import ReminderClock, passed_at_start, restarted_ladders
from domain.task import Task
from tests.factories import ERIK, task_values

CLOCK = ReminderClock()
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # 10:00 in Ljubljana


def imported_task(due: date, occurred_at: datetime = datetime(2015, 6, 1, tzinfo=timezone.utc)) -> Task:
    return Task.start_new(ERIK, task_values(due=due), now=NOW, occurred_at=occurred_at)


def test_a_deadline_whose_whole_ladder_lies_before_the_import_raises_nothing_ever():
    task = imported_task(date(2015, 9, 1))
    assert task.deadlines(CLOCK)[0]["last_reminder"] == "escalated"
    assert task.raise_due_reminders(CLOCK, NOW + timedelta(days=30)) == []


def test_the_rungs_ahead_of_the_import_are_raised_in_their_time():
    task = imported_task(date(2026, 11, 25))
    assert task.deadlines(CLOCK)[0]["last_reminder"] == "upcoming"  # 18 Nov: before the import, passed
    assert task.raise_due_reminders(CLOCK, NOW) == []
    assert [r["rung"] for r in task.raise_due_reminders(CLOCK, NOW + timedelta(days=1))] == ["due_soon"]


def test_a_live_deadline_raises_the_latest_rung_fallen_due_as_before():
    task = Task.start_new(ERIK, task_values(due=date(2026, 11, 25)), now=NOW)
    assert task.deadlines(CLOCK)[0]["last_reminder"] is None
    assert [r["rung"] for r in task.raise_due_reminders(CLOCK, NOW)] == ["upcoming"]


def test_a_live_reschedule_of_an_imported_deadline_starts_a_live_ladder():
    starts = {"due": {"due": date(2015, 9, 1), "from": NOW}}
    assert restarted_ladders(starts, {"due": date(2015, 9, 1)}, {"due": date(2026, 12, 1)},
                             imported=False, at=NOW) == {}
    assert restarted_ladders({}, {}, {"due": date(2015, 9, 1)}, imported=True, at=NOW) == starts
    assert passed_at_start(CLOCK, date(2026, 12, 31), NOW) is None

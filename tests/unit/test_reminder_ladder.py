"""The reminder ladder on a controlled clock: each rung at its instant, none early, none twice."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.errors import Forbidden, NotFound
from domain.reminders import RUNGS, ReminderClock, reminder_id, rung_named
from tests.factories import ERIK, HANA, SARA, register_cast, request_values, task_values

LJUBLJANA = ZoneInfo("Europe/Ljubljana")
DUE = date(2026, 12, 15)
CLOCK = ReminderClock(LJUBLJANA, time(9, 0))


@pytest.fixture
def service(memory_service):
    register_cast(memory_service)
    return memory_service


def new_task(service, **values):
    return service.create_task(ERIK, task_values(**values)).item


def raised_rungs(service, item_id) -> list[str]:
    return [r["rung"] for r in service.raise_reminders([item_id])]


def test_a_rung_falls_due_at_nine_local_time_on_its_day():
    assert CLOCK.instant(DUE, rung_named("upcoming")) == datetime(2026, 12, 8, 8, 0, tzinfo=timezone.utc)  # CET
    assert CLOCK.instant(date(2027, 7, 10), rung_named("overdue")) == datetime(2027, 7, 11, 7, 0,
                                                                                 tzinfo=timezone.utc)  # CEST
    assert [r.days for r in RUNGS] == [-7, -1, 1, 7]


def test_each_rung_is_raised_at_its_instant_never_early_and_never_twice(service, clock):
    task = new_task(service, due=DUE)
    for rung in RUNGS:
        instant = CLOCK.instant(DUE, rung)
        clock.now = instant - timedelta(seconds=1)
        assert raised_rungs(service, task.id) == [], f"{rung.name} raised early"
        clock.now = instant
        assert raised_rungs(service, task.id) == [rung.name]
        assert raised_rungs(service, task.id) == [], f"{rung.name} raised twice"


def test_reminders_are_events_in_the_items_history_by_the_scheduler(service, clock):
    task = new_task(service, due=DUE)
    clock.now = CLOCK.instant(DUE, rung_named("due_soon"))
    [reminder] = service.raise_reminders([task.id])
    history = service.history("tasks", task.id, SARA)
    assert history[-1]["type"] == "Task.ReminderRaised"
    assert history[-1]["actor"] == "scheduler"
    assert history[-1]["data"]["rung"] == "due_soon"
    assert history[-1]["data"]["due"] == DUE
    assert history[-1]["state_before"] == history[-1]["state_after"] == "open"
    assert reminder["reminder_id"] == str(reminder_id(task.id, history[-1]["version"]))
    assert reminder["addressed_to"] == ["user:sara"]
    assert reminder["instant"] == CLOCK.instant(DUE, rung_named("due_soon"))


def test_after_a_downtime_only_the_latest_rung_fallen_due_is_raised(service, clock):
    task = new_task(service, due=DUE)
    clock.now = datetime(2026, 12, 18, 12, 0, tzinfo=timezone.utc)  # upcoming, due_soon and overdue all past
    assert raised_rungs(service, task.id) == ["overdue"]
    clock.now = datetime(2027, 3, 1, tzinfo=timezone.utc)
    assert raised_rungs(service, task.id) == ["escalated"]
    assert raised_rungs(service, task.id) == []


def test_a_ladder_wholly_past_raises_only_its_escalation_to_the_head(service, clock):
    task = new_task(service, due=date(2026, 10, 1))
    [reminder] = service.raise_reminders([task.id])
    assert (reminder["rung"], reminder["addressed_to"]) == ("escalated", ["role:head"])


def test_a_reschedule_starts_a_fresh_ladder(service, clock):
    task = new_task(service, due=DUE)
    clock.now = CLOCK.instant(DUE, rung_named("upcoming"))
    assert raised_rungs(service, task.id) == ["upcoming"]
    new_due = date(2027, 1, 20)
    service.act("tasks", task.id, "reschedule", ERIK, {"due": new_due}, reason="waiting for the Parties' input")
    item = service.get_item("tasks", task.id, SARA)
    assert [(d["due"], d["last_reminder"]) for d in item.deadlines()] == [(new_due, None)]
    clock.now = CLOCK.instant(new_due, rung_named("upcoming")) - timedelta(seconds=1)
    assert raised_rungs(service, task.id) == []
    clock.now = CLOCK.instant(new_due, rung_named("upcoming"))
    assert raised_rungs(service, task.id) == ["upcoming"]


def test_a_deadline_moved_away_and_back_starts_a_fresh_ladder_with_new_reminder_ids(service, clock):
    task = new_task(service, due=DUE)
    clock.now = CLOCK.instant(DUE, rung_named("due_soon"))
    [first] = service.raise_reminders([task.id])
    assert first["rung"] == "due_soon"
    for due in (date(2027, 2, 1), DUE):
        service.act("tasks", task.id, "reschedule", ERIK, {"due": due}, reason="the CoM moved its meeting")
    item = service.get_item("tasks", task.id, SARA)
    assert [(d["due"], d["last_reminder"]) for d in item.deadlines()] == [(DUE, None)]
    [again] = service.raise_reminders([task.id])  # due_soon is due again on the fresh ladder: raised, not skipped
    assert again["rung"] == "due_soon" and again["reminder_id"] != first["reminder_id"]
    assert item.reminders[first["reminder_id"]]["superseded"] is True


def test_a_terminal_state_closes_the_ladder(service, clock):
    task = new_task(service, due=DUE)
    service.act("tasks", task.id, "cancel", ERIK, {}, reason="overtaken by the CoM's decision")
    clock.now = datetime(2027, 6, 1, tzinfo=timezone.utc)
    assert raised_rungs(service, task.id) == []


def test_an_unassigned_task_reminds_the_secretariat(service, clock):
    task = new_task(service, due=DUE, assignee=None)
    clock.now = CLOCK.instant(DUE, rung_named("upcoming"))
    [reminder] = service.raise_reminders([task.id])
    assert reminder["addressed_to"] == ["role:secretariat"]


def test_a_support_requests_decision_deadline_reminds_screening_staff(service, clock):
    request = service.submit_support_request(SARA, request_values()).item
    decision_due = request.fields["decision_due"]
    clock.now = CLOCK.instant(decision_due, rung_named("due_soon"))
    [reminder] = service.raise_reminders([request.id])
    assert (reminder["deadline"], reminder["rung"], reminder["addressed_to"]) == (
        "decision", "due_soon", ["role:secretariat"])
    service.act("support-requests", request.id, "start_screening", SARA, {})
    service.act("support-requests", request.id, "reject", HANA, {}, reason="outside the Convention's scope")
    clock.now = datetime(2027, 6, 1, tzinfo=timezone.utc)
    assert raised_rungs(service, request.id) == [], "a decided request's decision deadline is closed"


def test_an_addressee_acknowledges_a_reminder_once(service, clock):
    task = new_task(service, due=DUE)
    clock.now = CLOCK.instant(DUE, rung_named("upcoming"))
    [reminder] = service.raise_reminders([task.id])
    with pytest.raises(Forbidden):
        service.acknowledge_reminder("tasks", task.id, reminder["reminder_id"], HANA)
    with pytest.raises(NotFound):
        service.acknowledge_reminder("tasks", task.id, str(reminder_id(task.id, 99)), SARA)
    item, position = service.acknowledge_reminder("tasks", task.id, reminder["reminder_id"], SARA)
    again, no_position = service.acknowledge_reminder("tasks", task.id, reminder["reminder_id"], SARA)
    assert position is not None and no_position is None and again.version == item.version
    history = service.history("tasks", task.id, SARA)
    assert [e["type"] for e in history].count("Task.ReminderAcknowledged") == 1
    assert history[-1]["actor"] == "sara"

"""The scheduler on each real store: every due reminder raised exactly once, whoever races and whatever crashes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from eventsourcing.utils import get_topic

from domain.reminders import rung_named
from domain.task import Task
from scheduler.ticker import ReminderScheduler
from secretariat.bootstrap import build_projections
from tests.conftest import make_service
from tests.factories import ERIK, SARA, register_cast, task_values

DEADLINES = 1000
REMINDER_TOPIC = get_topic(Task.ReminderRaised)


def scheduler_for(store_env, hasher, clock) -> ReminderScheduler:
    """A scheduler with its own application and connections, as another process would have."""
    service = make_service(store_env, hasher, clock)
    read_models, runner = build_projections(service, store_env)
    return ReminderScheduler(service, read_models, runner)


def close(scheduler: ReminderScheduler) -> None:
    scheduler.runner.engine.dispose()
    scheduler.read_models.engine.dispose()
    scheduler.service.close()


def project_all(scheduler: ReminderScheduler) -> None:
    for projection in scheduler.runner.projections:
        scheduler.runner.catch_up(projection)


def past_due_tasks(service, count: int, due: date) -> list[str]:
    return [str(service.create_task(ERIK, task_values(title=f"Task {n}", due=due)).item.id) for n in range(count)]


def recorded_reminders(service) -> list[str]:
    """The reminder ids of every ReminderRaised event in the log, read from the store itself."""
    head = service.recorder.max_notification_id() or 0
    found, position = [], 1
    while position <= head:
        batch = service.recorder.select_notifications(position, 1000, topics=[REMINDER_TOPIC])
        if not batch:
            break
        found += [service.mapper.to_domain_event(n).data["reminder_id"] for n in batch]
        position = batch[-1].id + 1
    return found


@pytest.fixture
def service(service):
    register_cast(service)
    return service


def test_two_schedulers_racing_over_a_thousand_due_deadlines_raise_a_thousand_reminders(
        service, store_env, hasher, clock):
    past_due_tasks(service, DEADLINES, (clock.now - timedelta(days=3)).date())
    schedulers = [scheduler_for(store_env, hasher, clock) for _ in range(2)]
    try:
        results: list[list] = [[], []]
        start = threading.Barrier(2)

        def run(index: int) -> None:
            start.wait()
            results[index] = schedulers[index].tick()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        raised_ids = [r["reminder_id"] for result in results for r in result]
        assert len(raised_ids) == len(set(raised_ids)) == DEADLINES
        recorded = recorded_reminders(service)
        assert len(recorded) == len(set(recorded)) == DEADLINES
        assert {r["rung"] for result in results for r in result} == {"overdue"}
        assert schedulers[0].tick() == [] and schedulers[1].tick() == []  # nothing is left, nothing twice
    finally:
        for scheduler in schedulers:
            close(scheduler)


def test_a_tick_raises_a_rung_when_it_falls_due_and_the_inbox_shows_it(service, store_env, hasher, clock):
    due = date(2026, 12, 15)
    task = service.create_task(ERIK, task_values(due=due)).item
    scheduler = scheduler_for(store_env, hasher, clock)
    try:
        upcoming = scheduler.service.reminder_clock.instant(due, rung_named("upcoming"))
        clock.now = upcoming - timedelta(seconds=1)
        assert scheduler.tick() == []
        clock.now = upcoming
        [reminder] = scheduler.tick()
        assert (reminder["item_id"], reminder["rung"]) == (str(task.id), "upcoming")
        project_all(scheduler)  # the follower's job in serve: the inbox is not a view the tick reads
        inbox, total = scheduler.read_models.reminders(SARA, mine=True)
        assert total == 1 and inbox[0]["id"] == reminder["reminder_id"]
        assert inbox[0]["instant"] == upcoming and inbox[0]["acknowledged_by"] is None
        assert scheduler.read_models.reminders(ERIK, mine=True) == ([], 0)

        scheduler.service.acknowledge_reminder("tasks", task.id, reminder["reminder_id"], SARA)
        project_all(scheduler)
        [seen] = scheduler.read_models.reminders(SARA, mine=True)[0]
        assert seen["acknowledged_by"] == "sara"
        assert scheduler.read_models.reminders(SARA, mine=True, acknowledged=False) == ([], 0)
    finally:
        close(scheduler)


def test_the_view_nominates_nothing_once_rungs_are_raised_and_closed_ladders_never(service, store_env, hasher,
                                                                                      clock):
    past_due_tasks(service, 3, (clock.now - timedelta(days=30)).date())
    closed = service.create_task(ERIK, task_values(due=(clock.now - timedelta(days=30)).date())).item
    service.act("tasks", closed.id, "cancel", ERIK, {}, reason="no longer needed")
    scheduler = scheduler_for(store_env, hasher, clock)
    try:
        assert len(scheduler.tick()) == 3  # escalations: each ladder was wholly past
        up_to = scheduler.service.reminder_clock.last_rung_day(clock.now)
        assert scheduler.read_models.items_with_rungs_due(up_to) == []  # nothing left to nominate
    finally:
        close(scheduler)


def database_url(store_env: dict[str, str]) -> str:
    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return f"sqlite:///{store_env['SQLITE_DBNAME']}"
    return (f"postgresql://{store_env['POSTGRES_USER']}@{store_env['POSTGRES_HOST']}:{store_env['POSTGRES_PORT']}/"
            f"{store_env['POSTGRES_DBNAME']}?schema={store_env['POSTGRES_SCHEMA']}")


def test_a_scheduler_killed_mid_tick_and_restarted_loses_none_and_duplicates_none(service, store_env, tmp_path):
    # Real time in the child processes: deadlines a month past are due whatever the hour.
    past_due_tasks(service, DEADLINES, (datetime.now(timezone.utc) - timedelta(days=30)).date())
    env = {**os.environ, "SECRETARIAT_DATABASE_URL": database_url(store_env), "SECRETARIAT_DATA_DIR": str(tmp_path)}
    command = [str(Path(sys.executable).with_name("secretariat")), "schedule", "--tick", "0.2"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not recorded_reminders(service) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        child.kill()  # SIGKILL: whatever it was saving is rolled back by the store, not by us
        child.wait(timeout=30)
    at_kill = len(recorded_reminders(service))
    assert 0 < at_kill <= DEADLINES

    restarted = subprocess.run([*command[:2], "--once"], env=env, capture_output=True, text=True, timeout=300)
    assert restarted.returncode == 0, restarted.stderr
    recorded = recorded_reminders(service)
    assert len(recorded) == len(set(recorded)) == DEADLINES, f"{at_kill} at the kill"

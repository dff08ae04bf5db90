"""A rebuild commits in short transactions (so that commands get SQLite's lock in between), and the rows
it ends with are those of the view followed event by event."""

from __future__ import annotations

import math
import threading

import pytest
from sqlalchemy import event, select

from projections import items as items_module
from projections import tracking
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.runner import ProjectionRunner
from tests.factories import ERIK, SARA, register_cast, task_values


@pytest.fixture
def runner(service, store_env):
    register_cast(service)
    runner = ProjectionRunner(service, engine_for(store_env, writer=True),
                              [ItemsProjection(service.mapper.transcoder)], batch_size=3, rebuild_batch_size=4,
                              rebuild_pause_seconds=0)
    runner.setup()
    yield runner
    runner.engine.dispose()


def view_rows(runner) -> dict:
    with runner.engine.connect() as conn:
        return {table.name: sorted(tuple(row) for row in conn.execute(select(table)))
                for table in runner.projections[0].tables}


def test_a_rebuild_writes_what_it_gathered_a_chunk_per_transaction_and_ends_as_the_followed_view(
        service, runner, monkeypatch):
    for n in range(9):
        task = service.create_task(ERIK, task_values(title=f"Task {n}")).item
        if n % 2:
            service.act("tasks", task.id, "start", SARA, {})
    projection = runner.projections[0]
    runner.catch_up(projection)
    followed = view_rows(runner)
    monkeypatch.setattr(items_module, "FLUSH_ROWS", 2)
    commits = []
    event.listen(runner.engine, "commit", lambda _conn: commits.append(1))

    runner.rebuild(projection)

    # The start, the log in batches of 4, the 9 items written 2 at a time, the switch: each its own transaction.
    assert len(commits) == 1 + math.ceil(runner.head() / 4) + math.ceil(9 / 2) + 1
    assert view_rows(runner) == followed


@pytest.mark.parametrize("store_env", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_rebuild_switching_beside_a_live_batch_waits_for_it_instead_of_deadlocking(service, runner):
    """A live batch claims the view's position, then writes rows; the rebuild's switch waits for it, in that order."""
    projection = runner.projections[0]
    for n in range(3):
        service.create_task(ERIK, task_values(title=f"Task {n}"))
    runner.catch_up(projection)
    late = service.create_task(ERIK, task_values(title="Recorded while the rebuild runs")).item
    start = runner.positions()[projection.name]
    notifications = service.recorder.select_notifications(start + 1, 10)
    batch = [(n.id, service.mapper.to_domain_event(n)) for n in notifications]
    failures = []

    def rebuild() -> None:
        try:
            runner.rebuild(projection)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    with runner.engine.connect() as live:
        claim = live.begin()
        tracking.advance(live, projection.name, start, batch[-1][0])  # as run_batch does, first
        pid = live.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        rebuilding = threading.Thread(target=rebuild)
        rebuilding.start()
        with runner.engine.connect() as watcher:  # until the rebuild waits on the live batch's lock
            query = f"SELECT count(*) FROM pg_stat_activity WHERE {pid} = ANY(pg_blocking_pids(pid))"
            # Each look in a transaction of its own: pg_stat_activity is read once per transaction, so a
            # watcher that first looked before the rebuild blocked would otherwise never see it block.
            while not watcher.exec_driver_sql(query).scalar() and rebuilding.is_alive():
                watcher.rollback()
                threading.Event().wait(0.05)
        try:
            projection.handle(live, batch)  # then the rows: a deadlock if the rebuild locked the tables first
            claim.commit()
        except Exception as error:  # noqa: BLE001
            failures.append(error)
    rebuilding.join()

    assert failures == []
    with runner.engine.connect() as conn:
        ids = {row.id for row in conn.execute(select(projection.tables[0]))}
    assert str(late.id) in ids

"""The follower's views at one position take each batch together: one read, one decode, one transaction.

What each view ends with is what it ends with alone; a view moved by another runner, or one that fails,
takes its batches apart, and a failing one holds up neither the others' rows nor their positions.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from audit.chain import GENESIS
from audit.log import AuditLogProjection
from audit.seal import AuditChainProjection, audit_chain, chain
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.reminders import RemindersProjection
from projections.runner import ProjectionRunner
from tests.factories import ERIK, SARA, register_cast, task_values


class Broken(Exception):
    pass


@pytest.fixture
def runner(service, store_env):
    register_cast(service)
    transcoder = service.mapper.transcoder
    runner = ProjectionRunner(service, engine_for(store_env, writer=True),
                              [ItemsProjection(transcoder), RemindersProjection(), AuditLogProjection(transcoder),
                               AuditChainProjection()], batch_size=3, rebuild_batch_size=4)
    runner.setup()
    yield runner
    runner.engine.dispose()


def some_commands(service, n: int = 3) -> None:
    for i in range(n):
        task = service.create_task(ERIK, task_values(title=f"Together {i}")).item
        service.act("tasks", task.id, "start", SARA, {})


def rows_of(runner, name: str) -> dict:
    projection = next(p for p in runner.projections if p.name == name)
    with runner.engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in projection.tables}


def sealed(runner) -> list[tuple]:
    with runner.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(audit_chain.c.position, audit_chain.c.hash, audit_chain.c.seq)
                                               .order_by(audit_chain.c.position))]


def expected_seal(service) -> list[tuple]:
    stored = service.recorder.select_notifications(1, 10_000)
    entries = [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in stored]
    return [(position, digest, seq) for seq, (position, digest) in enumerate(chain(entries, GENESIS), 1)]


def test_views_together_end_as_each_would_alone(service, runner):
    some_commands(service)
    assert runner.catch_up_together() > 0
    assert set(runner.positions().values()) == {runner.head()}
    live = {name: rows_of(runner, name) for name in ("items", "audit_log")}
    for projection in runner.projections:
        if projection.name in live:
            runner.rebuild(projection)  # from the first event, batch by batch, alone
            assert rows_of(runner, projection.name) == live[projection.name]
    assert sealed(runner) == expected_seal(service)


def test_views_at_different_positions_are_brought_together(service, runner):
    some_commands(service)
    items_view = runner.projections[0]
    runner.run_batch(items_view)  # ahead of the others by a batch
    some_commands(service, 1)
    runner.catch_up_together()
    assert set(runner.positions().values()) == {runner.head()}
    live = rows_of(runner, "items")
    runner.rebuild(items_view)
    assert rows_of(runner, "items") == live
    assert sealed(runner) == expected_seal(service)


def test_a_view_moved_by_another_runner_is_never_projected_twice(service, runner, store_env):
    some_commands(service, 4)
    rival = ProjectionRunner(service, engine_for(store_env, writer=True), runner.projections, batch_size=2)
    threads = [threading.Thread(target=runner.catch_up_together),
               threading.Thread(target=lambda: [rival.catch_up(p) for p in rival.projections])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runner.catch_up_together()
    assert set(runner.positions().values()) == {runner.head()}
    assert sealed(runner) == expected_seal(service)
    live = rows_of(runner, "items")
    runner.rebuild(runner.projections[0])
    assert rows_of(runner, "items") == live
    rival.engine.dispose()


def test_a_failing_view_rolls_back_the_batch_it_shared_and_holds_up_no_other(service, runner):
    some_commands(service)
    audit_log = next(p for p in runner.projections if p.name == "audit_log")
    original = audit_log.handle

    def broken(conn, batch):
        raise Broken()

    audit_log.handle = broken
    with pytest.raises(Broken):
        runner.run_batches()
    assert set(runner.positions().values()) == {0}  # nothing committed: rows and positions roll back together
    assert sealed(runner) == []

    stop = threading.Event()
    follower = threading.Thread(target=runner.follow, args=(stop,), kwargs={"poll_seconds": 0.05})
    follower.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            positions = runner.positions()
            if all(n == runner.head() for name, n in positions.items() if name != "audit_log"):
                break
            time.sleep(0.05)
        positions = runner.positions()
        assert positions["audit_log"] == 0
        assert all(n == runner.head() for name, n in positions.items() if name != "audit_log"), positions
        audit_log.handle = original  # mended: the failing view is tried again, and catches up
        while time.monotonic() < deadline and runner.positions()["audit_log"] < runner.head():
            time.sleep(0.05)
        assert runner.positions()["audit_log"] == runner.head()
    finally:
        stop.set()
        follower.join()
    live = rows_of(runner, "audit_log")
    runner.rebuild(audit_log)
    assert rows_of(runner, "audit_log") == live
    assert sealed(runner) == expected_seal(service)


def test_a_request_waiting_for_the_views_does_not_wait_out_the_gathering_window(service, runner):
    """The follower gathers a wake-up's events for `gather_seconds` (here far longer than the wait allows);
    `wait_for` hurries it, so the write is projected within the wait all the same."""
    stop = threading.Event()
    follower = threading.Thread(target=runner.follow, args=(stop,), kwargs={"gather_seconds": 600.0}, daemon=True)
    service.on_recorded.append(lambda _position: runner.wake())
    follower.start()
    try:
        some_commands(service, 2)
        head = runner.head()
        assert runner.wait_for(head, timeout=30.0)
        assert set(runner.positions().values()) == {head}
    finally:
        stop.set()
        runner.hurry()  # ends the gathering window the follower is in, so that it sees `stop`
        follower.join(timeout=30)
    assert not follower.is_alive()

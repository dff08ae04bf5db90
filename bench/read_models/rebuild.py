"""Part 1: `ProjectionRunner.rebuild` and `catch_up` from zero over the history, checked and timed.

Beside the rebuild, three floors measured in the same run: `time_floor` (read, decode and apply through
the library, no view), `time_raw_floor` (the stored rows read by a plain SELECT and their states parsed
by orjson, no library at all) and `time_write_floor` (the rows the rebuild wrote, inserted again as the
rebuild inserts them: what its database side costs at the least). Also the view checks the other parts
use (`check_view`), and `--profile`'s cProfile of a rebuild.
"""

from __future__ import annotations

import argparse
import cProfile
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from sqlalchemy import Table, select

from domain.item import WorkflowItem
from projections import tracking
from projections.bulk import insert_rows
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.runner import ProjectionRunner
from projections.views import copies_beside
from shared import log, profile_text
from stores import History, make_service
from workload import Clock


def reset_view(runner: ProjectionRunner, projection: ItemsProjection) -> None:
    """An empty view at position 0, as before its first catch-up."""
    with runner.engine.begin() as conn:
        for table in reversed(projection.tables):
            conn.execute(table.delete())
        tracking.start_afresh(conn, projection.name, projection.version)


def view_counts(runner: ProjectionRunner) -> dict[tuple[str, str], int]:
    from sqlalchemy import select

    from projections.items_tables import item_counts

    with runner.engine.connect() as conn:
        return {(r.collection, r.state): r.n for r in conn.execute(select(item_counts))}


def check_view(runner: ProjectionRunner, history: History, what: str) -> None:
    """The benchmark itself is wrong, not slow, if the view does not match what was generated."""
    got, want = view_counts(runner), history.expected()
    if got != want:
        diff = {k: (got.get(k, 0), want.get(k, 0)) for k in set(got) | set(want) if got.get(k, 0) != want.get(k, 0)}
        raise RuntimeError(f"{what}: the view's counts differ from the generated items: {diff}")
    position = runner.positions()[runner.projections[0].name]
    if position != history.events:
        raise RuntimeError(f"{what}: the view is at position {position}, the log at {history.events}")


@dataclass
class RebuildResult:
    events: int
    rebuild: list[float] = field(default_factory=list)
    catch_up: dict[int, list[float]] = field(default_factory=dict)
    floor: list[float] = field(default_factory=list)  # read, decode and apply only; no view
    raw_floor: list[float] = field(default_factory=list)  # SELECT every stored row + orjson.loads; no library
    write_floor: list[float] = field(default_factory=list)  # the view's rows inserted again as a rebuild inserts them
    # This process's CPU seconds (all its threads; not the database server's) for each of the above, per run:
    # on a machine shared with other work they vary far less than the wall-clock seconds.
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"rebuild": [], "floor": [], "raw floor": [],
                                                                 "write floor": []})


def time_floor(service, batch_size: int) -> float:
    """What any rebuild that applies the domain's events must spend: read the log, decode each event,
    apply it to its item in memory and encode each item's fields once. No SQL for the view at all."""
    began = time.perf_counter()
    items: dict = {}
    position = 0
    while notifications := service.recorder.select_notifications(position + 1, batch_size):
        for notification in notifications:
            event = service.mapper.to_domain_event(notification)
            if isinstance(event, WorkflowItem.Event):
                items[event.originator_id] = event.mutate(items.get(event.originator_id))
        position = notifications[-1].id
    for item in items.values():
        service.mapper.transcoder.encode(item.fields)
    return time.perf_counter() - began


def time_raw_floor(service, env: dict[str, str]) -> float:
    """The physical floor under any rebuild: a plain SELECT of every stored event row, in log order, and
    `orjson.loads` of each state. No library (no mapper, no domain objects) and no SQL writes."""
    table = service.recorder.events_table_name
    select = f"SELECT originator_id, originator_version, topic, state FROM {table} ORDER BY {{order}}"
    loads = orjson.loads
    began = time.perf_counter()
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        conn = sqlite3.connect(env["SQLITE_DBNAME"])
        try:
            for row in conn.execute(select.format(order="rowid")):
                loads(row[3])
        finally:
            conn.close()
    else:
        import psycopg

        with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
                             user=env["POSTGRES_USER"], password=env.get("POSTGRES_PASSWORD") or None,
                             options=f"-csearch_path={env['POSTGRES_SCHEMA']}") as conn:
            for row in conn.execute(select.format(order="notification_id")):
                loads(row[3])
    return time.perf_counter() - began


def time_write_floor(engine, projection: ItemsProjection) -> tuple[float, float]:
    """What the database's side of a rebuild costs at the least: every row the rebuild left in the view's tables
    (a rebuild writes each row once), read back and inserted again into empty copies with no secondary indexes
    (as a rebuild's copies have none) by the rebuild's own `insert_rows` (projections/bulk.py: `executemany` on
    SQLite, COPY on PostgreSQL), in one transaction. Only the inserts and the commit are timed: no Python work of
    the view's own, no index built afterwards. Seconds, and this process's CPU seconds."""
    copies = copies_beside(projection.tables, "__floor")
    with engine.begin() as conn:
        for copy in copies:
            copy.drop(conn, checkfirst=True)
            copy.create(conn)
    written: list[tuple[Table, list[str], list[tuple]]] = []
    with engine.connect() as conn:
        for live, copy in zip(projection.tables, copies):
            columns = [c for c in live.columns if c.computed is None]  # not PostgreSQL's generated tsvector
            written.append((copy, [c.name for c in columns], [tuple(row) for row in conn.execute(select(*columns))]))
    began, cpu = time.perf_counter(), time.process_time()
    with engine.begin() as conn:
        for copy, names, rows in written:
            insert_rows(conn, copy, names, rows)
    spent = time.perf_counter() - began, time.process_time() - cpu
    with engine.begin() as conn:
        for copy in reversed(copies):
            copy.drop(conn)
    return spent


def bench_rebuild(env: dict[str, str], history: History, args: argparse.Namespace) -> RebuildResult:
    service = make_service(env, Clock(datetime.fromisoformat(history.clock)))
    engine = engine_for(env, writer=True)
    projection = ItemsProjection(service.mapper.transcoder)
    result = RebuildResult(history.events, catch_up={size: [] for size in args.batch_sizes})
    try:
        ProjectionRunner(service, engine, [projection]).setup()
        # Turns: each round does every catch-up (from an emptied view), a rebuild (over the full view, whose
        # rows it deletes first, as `secretariat projections rebuild` does) and the two floors, so noise
        # falls on all alike.
        for run in range(args.runs):
            for size in args.batch_sizes if not args.skip_catch_up else ():
                runner = ProjectionRunner(service, engine, [projection], batch_size=size)
                reset_view(runner, projection)
                began = time.perf_counter()
                done = runner.catch_up(projection)
                result.catch_up[size].append(time.perf_counter() - began)
                check_view(runner, history, f"catch_up, batch {size}")
                log(f"    run {run + 1}/{args.runs}: catch_up from zero, batch {size}: {done:,} events in "
                    f"{result.catch_up[size][-1]:.2f} s")
            runner = ProjectionRunner(service, engine, [projection])
            began, cpu = time.perf_counter(), time.process_time()
            done = runner.rebuild(projection)
            result.rebuild.append(time.perf_counter() - began)
            result.cpu["rebuild"].append(time.process_time() - cpu)
            check_view(runner, history, "rebuild")
            log(f"    run {run + 1}/{args.runs}: rebuild: {done:,} events in {result.rebuild[-1]:.2f} s")
            cpu = time.process_time()
            result.floor.append(time_floor(service, runner.rebuild_batch_size))
            result.cpu["floor"].append(time.process_time() - cpu)
            log(f"    run {run + 1}/{args.runs}: floor (read, decode, apply; no view): {result.floor[-1]:.2f} s")
            cpu = time.process_time()
            result.raw_floor.append(time_raw_floor(service, env))
            result.cpu["raw floor"].append(time.process_time() - cpu)
            log(f"    run {run + 1}/{args.runs}: raw floor (SELECT + orjson.loads; no library): "
                f"{result.raw_floor[-1]:.2f} s")
            seconds, cpu_seconds = time_write_floor(engine, projection)
            result.write_floor.append(seconds)
            result.cpu["write floor"].append(cpu_seconds)
            log(f"    run {run + 1}/{args.runs}: write floor (the view's rows inserted again, inserts only): "
                f"{result.write_floor[-1]:.2f} s")
    finally:
        engine.dispose()
        service.close()
    return result


def profile_rebuild(env: dict[str, str], history: History) -> str:
    """cProfile of one `ProjectionRunner.rebuild` over the history: where a rebuild's time goes."""
    service = make_service(env, Clock(datetime.fromisoformat(history.clock)))
    engine = engine_for(env, writer=True)
    projection = ItemsProjection(service.mapper.transcoder)
    runner = ProjectionRunner(service, engine, [projection])
    profiler = cProfile.Profile()
    try:
        runner.setup()
        profiler.enable()
        done = runner.rebuild(projection)
        profiler.disable()
    finally:
        engine.dispose()
        service.close()
    return profile_text(profiler, f"cProfile of ProjectionRunner.rebuild over {done:,} events (batches of "
                        f"{runner.rebuild_batch_size:,}; cProfile itself slows Python code down, so compare shares, "
                        f"not seconds)", own=25)

"""Part 1: `ProjectionRunner.rebuild` and `catch_up` from zero over the history, checked and timed.

Also the view checks the other parts use (`check_view`), and `--profile`'s cProfile of a rebuild.
"""

from __future__ import annotations

import argparse
import cProfile
import time
from dataclasses import dataclass, field
from datetime import datetime

from domain.item import WorkflowItem
from projections import tracking
from projections.database import engine_for
from projections.items import ItemsProjection
from projections.runner import ProjectionRunner
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


def bench_rebuild(env: dict[str, str], history: History, args: argparse.Namespace) -> RebuildResult:
    service = make_service(env, Clock(datetime.fromisoformat(history.clock)))
    engine = engine_for(env, writer=True)
    projection = ItemsProjection(service.mapper.transcoder)
    result = RebuildResult(history.events, catch_up={size: [] for size in args.batch_sizes})
    try:
        ProjectionRunner(service, engine, [projection]).setup()
        # Turns: each round does every catch-up (from an emptied view) and a rebuild (over the full view, whose
        # rows it deletes first, as `secretariat projections rebuild` does), so noise falls on all alike.
        for run in range(args.runs):
            for size in args.batch_sizes:
                runner = ProjectionRunner(service, engine, [projection], batch_size=size)
                reset_view(runner, projection)
                began = time.perf_counter()
                done = runner.catch_up(projection)
                result.catch_up[size].append(time.perf_counter() - began)
                check_view(runner, history, f"catch_up, batch {size}")
                log(f"    run {run + 1}/{args.runs}: catch_up from zero, batch {size}: {done:,} events in "
                    f"{result.catch_up[size][-1]:.2f} s")
            runner = ProjectionRunner(service, engine, [projection])
            began = time.perf_counter()
            done = runner.rebuild(projection)
            result.rebuild.append(time.perf_counter() - began)
            check_view(runner, history, "rebuild")
            log(f"    run {run + 1}/{args.runs}: rebuild: {done:,} events in {result.rebuild[-1]:.2f} s")
            result.floor.append(time_floor(service, runner.rebuild_batch_size))
            log(f"    run {run + 1}/{args.runs}: floor (read, decode, apply; no view): {result.floor[-1]:.2f} s")
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

"""The projection follower's CPU per event on the live path, for small batches: `bench/follower.py`.

On SQLite (a temporary file) and PostgreSQL (a fresh schema, dropped afterwards), the task workflow
(create, start, submit, approve) runs through `SecretariatApplication` for `--workflows` items. Then,
for each batch size (1, 4 and 16 events: what a live follower sees with one to a few clients), the
five views that `secretariat serve` keeps (secretariat/bootstrap.py build_projections) are emptied and
projected from the first event, a batch of that size at a time, and the process's CPU time is taken
with `time.process_time` (the database server's own CPU on PostgreSQL is not in it):

- *together*: `ProjectionRunner.catch_up_together`, as the follower runs now: the views at one position
  take each batch together, read and decoded once, in one transaction (absent before it was written).
- *each view*: `ProjectionRunner.catch_up` of each view in turn, as the follower ran before: each view
  reads, decodes and projects every batch in a transaction of its own.
- *floor*: the same batches read (`select_notifications`) and decoded (`mapper.to_domain_event`) once,
  with no view and no transaction: what any follower pays.

The modes take turns for `--rounds` rounds on the same store; each figure is the median over the
rounds. `statements/batch` counts the statements SQLAlchemy executes per batch (the rows that
projections/bulk.py writes through the driver's executemany or COPY are not counted).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

BENCH_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH_DIR.parent), str(BENCH_DIR)]

from sqlalchemy import event  # noqa: E402

from in_process import make_ours, postgres_store, sqlite_store  # noqa: E402
from projections import tracking  # noqa: E402
from projections.runner import ProjectionRunner  # noqa: E402
from secretariat.bootstrap import build_projections  # noqa: E402
from shared import DUE, HANA, RESULT, SARA, load_average, log, postgres_reachable, table  # noqa: E402

BATCH_SIZES = (1, 4, 16)


def make_history(app: Any, workflows: int) -> None:
    for i in range(workflows):
        task_id = app.create_task(SARA, {"title": f"Task {i}", "assignee": "sara", "due": DUE}).item.id
        app.act("tasks", task_id, "start", SARA, {})
        app.act("tasks", task_id, "submit", SARA, {"result": RESULT})
        app.act("tasks", task_id, "approve", HANA, {})


def start_afresh(runner: ProjectionRunner) -> None:
    """Every view emptied and at position 0 (the outbox too, which a first setup puts at the head)."""
    with runner.engine.begin() as conn:
        for projection in runner.projections:
            for table_ in reversed(projection.tables):
                table_.drop(conn, checkfirst=True)
        conn.execute(tracking.tracking.delete())
    runner._known.clear()
    runner.setup()
    with runner.engine.begin() as conn:
        for projection in runner.projections:
            position = tracking.position_of(conn, projection.name)
            if position:
                tracking.advance(conn, projection.name, position, 0)
    runner._known.clear()


def together(runner: ProjectionRunner) -> int:
    catch_up_together = getattr(runner, "catch_up_together", None)
    if catch_up_together is None:
        return -1  # before the follower projected batches together: nothing to time
    catch_up_together()
    return runner.head()


def each_view(runner: ProjectionRunner) -> int:
    for projection in runner.projections:
        runner.catch_up(projection)
    return runner.head()


def floor(runner: ProjectionRunner) -> int:
    """Read and decode every batch once: no view, no transaction."""
    read, decode = runner.app.recorder.select_notifications, runner.app.mapper.to_domain_event
    position, size = 0, runner.batch_size
    while True:
        notifications = read(position + 1, size)
        if not notifications:
            return position
        [decode(n) for n in notifications]
        position = notifications[-1].id


MODES: dict[str, Callable[[ProjectionRunner], int]] = {"together": together, "each view": each_view,
                                                        "floor": floor}


class StatementCount:
    def __init__(self, *engines: Any) -> None:
        self.n = 0
        for engine in engines:
            event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.n += 1


def bench_store(name: str, env: dict[str, str], args: argparse.Namespace) -> list[list[str]]:
    app = make_ours(env)
    try:
        make_history(app, args.workflows)
        _read_models, runner = build_projections(app, env)
        statements = StatementCount(runner.engine, runner.reader)
        events = runner.head()
        log(f"  {name}: {events} events; batch sizes {', '.join(map(str, args.batch_sizes))}, {args.rounds} rounds")
        cpu: dict[tuple[int, str], list[float]] = {}
        counted: dict[tuple[int, str], int] = {}
        for size in args.batch_sizes:
            runner.batch_size = size
            for round_ in range(args.rounds):
                modes = list(MODES) if round_ % 2 == 0 else list(reversed(MODES))
                for mode in modes:
                    if mode != "floor":
                        start_afresh(runner)
                    statements.n = 0
                    began = time.process_time()
                    done = MODES[mode](runner)
                    spent = time.process_time() - began
                    if done < 0:
                        continue
                    assert done == events, (mode, done, events)
                    cpu.setdefault((size, mode), []).append(spent)
                    counted[(size, mode)] = statements.n
        rows = []
        batches = {size: -(-events // size) for size in args.batch_sizes}
        for size in args.batch_sizes:
            floor_ms = statistics.median(cpu[(size, "floor")]) / events * 1000
            for mode in MODES:
                if (size, mode) not in cpu:
                    rows.append([name, str(size), mode, "-", "-", "-", "-"])
                    continue
                per_event = statistics.median(cpu[(size, mode)]) / events * 1000
                rows.append([name, str(size), mode, f"{per_event:.3f}", f"{per_event * size:.2f}",
                             f"{per_event / floor_ms:.1f}", f"{counted[(size, mode)] / batches[size]:.1f}"])
        runner.engine.dispose()
        runner.reader.dispose()
        return rows
    finally:
        app.close()


def stores(args: argparse.Namespace, tmp: Path) -> Iterator[tuple[str, Callable[[Path], Iterator[dict[str, str]]]]]:
    if not args.skip_sqlite:
        yield "SQLite", sqlite_store
    if not args.skip_postgres:
        why = postgres_reachable()
        if why is None:
            yield "PostgreSQL", postgres_store
        else:
            log(f"PostgreSQL skipped: {why}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="Progress goes to stderr, the table to stdout.")
    parser.add_argument("--workflows", type=int, default=150, help="task workflows (4 commands each) to project")
    parser.add_argument("--rounds", type=int, default=5, help="turns of each mode per batch size (median)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES), help="events per batch")
    parser.add_argument("--quick", action="store_true", help="40 workflows, 3 rounds")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.workflows, args.rounds = 40, 3
    log(f"load average before: {load_average()}")
    rows: list[list[str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-follower-"))
    try:
        for name, store in stores(args, tmp):
            for env in store(tmp):
                rows += bench_store(name, env, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"load average after: {load_average()}")
    print(table(["store", "events/batch", "mode", "CPU ms/event", "CPU ms/batch", "x floor", "statements/batch"],
                rows))
    print("\nCPU: this process's (time.process_time), median of the rounds, over every event of the history "
          "projected into the five views serve keeps. floor: read + decode only. statements/batch: SQLAlchemy's "
          "executions per batch (a bulk insert through the driver counts as none).")


if __name__ == "__main__":
    main()

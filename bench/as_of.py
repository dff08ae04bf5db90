"""As-of dashboard benchmark: `GET /dashboard?as_of=`'s read, from the items view's history, at 100,000 items.

It prints figures; it asserts nothing about timing. Per store (SQLite in a temporary file,
PostgreSQL in a fresh schema, dropped afterwards), it makes the same store as
bench/read_models part 3 (a history of `--events` events through the application's
commands, topped up to `--items` items with a backlog saved 500 items per transaction; the
SQLite files come from, and go to, that benchmark's cache), projects it with the items
projection (which writes the history beside the view), and then times, in turns:

- `dashboard_as_of` as the head (hana) and as a Party liaison (alba), each at a fresh random
  instant between the first and the last event (`--calls` of each);
- the floor, in the same run: the live dashboard (`ReadModels.dashboard`, hana) and a bare
  indexed COUNT of the open tasks.

Before that, for one instant in the middle of the history, the old way (the whole log replayed
into a private view, tests/as_of_replay.py) is timed once and its answer compared with the
history's, for the head and the liaison. Goal: as-of p99 <= 50 ms on both stores.

    .venv/bin/python bench/as_of.py            # full run: 100,000 items (minutes; less with the SQLite cache)
    .venv/bin/python bench/as_of.py --quick    # 10,000 events and items
    .venv/bin/python bench/as_of.py --help
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path[1:1] = [p for p in (str(HERE / "read_models"), str(HERE.parent), str(HERE)) if p not in sys.path]

from sqlalchemy import func, select  # noqa: E402

from projections.as_of import dashboard_as_of  # noqa: E402
from projections.database import engine_for  # noqa: E402
from projections.history_tables import TABLES as HISTORY_TABLES  # noqa: E402
from projections.items import ItemsProjection  # noqa: E402
from projections.items_tables import items  # noqa: E402
from projections.queries import ReadModels  # noqa: E402
from projections.runner import ProjectionRunner  # noqa: E402
from shared import load_average, log, percentile, postgres_reachable, table  # noqa: E402
from stores import History, add_backlog, cached_sqlite, generate_history, make_service, postgres_store  # noqa: E402
from tests.as_of_replay import dashboards_as_of  # noqa: E402
from tests.factories import ALBA, HANA  # noqa: E402
from workload import Clock  # noqa: E402

TZ = ZoneInfo("Europe/Ljubljana")


def make_store(env: dict[str, str], args: argparse.Namespace) -> History:
    """bench/read_models' store: the history by commands, then the backlog (cached on SQLite)."""
    is_pg = env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    target = Path(env.get("SQLITE_DBNAME", "."))

    def history_of(store_env: dict[str, str]) -> History:
        return generate_history(store_env, args.events, args.seed, args.fast_pg_generate)[0]

    history = history_of(env) if is_pg else cached_sqlite("history", args, target, history_of)

    def backlog_of(store_env: dict[str, str]) -> History:
        return add_backlog(store_env, history, None, args.items, args.seed, args.fast_pg_generate)

    return backlog_of(env) if is_pg else cached_sqlite("backlog", args, target, backlog_of)


def run_store(name: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    log(f"{name}: the store ({args.events:,} events by commands, topped up to {args.items:,} items) ...")
    made = make_store(env, args)
    service = make_service(env, Clock(datetime.fromisoformat(made.clock)))
    runner = ProjectionRunner(service, engine_for(env, writer=True), [ItemsProjection(service.mapper.transcoder)])
    read_models = ReadModels(engine_for(env), service.mapper.transcoder)
    try:
        runner.setup()
        log(f"{name}: projecting {made.events:,} events into the items view and its history ...")
        began = time.perf_counter()
        runner.catch_up(runner.projections[0])
        projected = time.perf_counter() - began
        if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":  # as autovacuum would, a minute later
            with runner.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for view in runner.projections[0].tables:
                    conn.exec_driver_sql(f"VACUUM ANALYZE {view.name}")
        engine = read_models.engine
        with engine.connect() as conn:
            rows = {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in HISTORY_TABLES}
        stamps = [service.mapper.to_domain_event(n).timestamp
                  for n in service.recorder.select_notifications(1, 1, stop=1)]
        first = stamps[0]
        last = datetime.fromisoformat(made.clock)
        rng = random.Random(args.seed)
        middle = first + (last - first) / 2
        log(f"{name}: the old way once, at {middle.isoformat()} (the log replayed into a private view) ...")
        t0 = time.perf_counter()
        replayed = dashboards_as_of(service, [HANA, ALBA], middle, TZ)
        replay_seconds = time.perf_counter() - t0
        same = all(r == dashboard_as_of(engine, a, middle, TZ) for a, r in zip((HANA, ALBA), replayed))
        today = last.astimezone(TZ).date()
        open_tasks = select(func.count()).select_from(items).where(items.c.collection == "tasks",
                                                                   items.c.state == "open")

        def bare_count() -> int:
            with engine.connect() as conn:
                return conn.execute(open_tasks).scalar_one()

        def some_instant() -> datetime:
            return first + (last - first) * rng.random()

        calls: dict[str, Callable[[], Any]] = {
            "as of a random instant, head (hana)": lambda: dashboard_as_of(engine, HANA, some_instant(), TZ),
            "as of a random instant, liaison (alba, AL)": lambda: dashboard_as_of(engine, ALBA, some_instant(), TZ),
            "floor: live dashboard, head (hana)": lambda: read_models.dashboard(HANA, today),
            "floor: bare indexed COUNT of open tasks": bare_count,
        }
        shape = read_models.dashboard(HANA, today)
        for _ in range(10):  # warm-up: connections, statement caches
            for call in calls.values():
                call()
        gc.freeze()  # as `serve` does once started
        latencies: dict[str, list[float]] = {n: [] for n in calls}
        cpu: dict[str, list[float]] = {n: [] for n in calls}  # this process's CPU: the machine is shared
        for _ in range(args.calls):
            for n, call in calls.items():
                t0, c0 = time.perf_counter(), time.process_time()
                call()
                latencies[n].append(time.perf_counter() - t0)
                cpu[n].append(time.process_time() - c0)
        gc.unfreeze()
        return {"name": name, "made": made, "projected": projected, "rows": rows, "replay": replay_seconds,
                "same": same, "latencies": latencies, "cpu": cpu,
                "shape": f"{len(shape['overdue'])} overdue, {len(shape['upcoming'])} upcoming, "
                         f"{len(shape['mandates'])} active mandates now"}
    finally:
        runner.engine.dispose()
        read_models.engine.dispose()
        service.close()


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    rows = []
    notes = []
    for r in results:
        for n, values in r["latencies"].items():
            cpu = r["cpu"][n]
            rows.append([r["name"], n, *(f"{percentile(v, q) * 1000:.1f}" for v, q in
                                         ((values, 0.5), (values, 0.99), (values, 1.0), (cpu, 0.5), (cpu, 0.99))),
                         "<= 50 ms" if n.startswith("as of") else "(floor)"])
        made = r["made"]
        notes.append(f"{r['name']}: {made.events:,} events, {made.items:,} items; projected with the history in "
                     f"{r['projected']:.0f} s; history rows {r['rows']}; {r['shape']}. The old replay at one "
                     f"instant took {r['replay']:.1f} s; its answer equals the history's: {r['same']}.")
    headers = ["store", "call", "p50 ms", "p99 ms", "max ms", "CPU p50", "CPU p99", "goal (p99)"]
    return "\n".join([table(headers, rows), "", *notes])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The as-of dashboard from the items view's history, at 100,000 "
                                                 "items, on SQLite and PostgreSQL, beside a floor. Prints figures.")
    parser.add_argument("--quick", action="store_true", help="10,000 events and items")
    parser.add_argument("--events", type=int, help="events in the history by commands (default 100000)")
    parser.add_argument("--items", type=int, help="items in the store, topped up with a backlog (default 100000)")
    parser.add_argument("--calls", type=int, default=300, help="timed calls of each read (default 300)")
    parser.add_argument("--seed", type=int, default=2026, help="the workload's seed (default 2026)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--no-cache", action="store_true", help="make the SQLite store afresh")
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "secretariat-bench-projections"),
                        help="bench/read_models' cache of SQLite stores (default %(default)s)")
    parser.add_argument("--no-fast-pg-generate", dest="fast_pg_generate", action="store_false",
                        help="generate the PostgreSQL store with synchronous commits")
    args = parser.parse_args(argv)
    args.events = args.events or (10_000 if args.quick else 100_000)
    args.items = args.items or (10_000 if args.quick else 100_000)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began, load_before = time.perf_counter(), load_average()
    results, notes = [], []
    with tempfile.TemporaryDirectory(prefix="secretariat-bench-as-of-") as tmp:
        if not args.skip_sqlite:
            env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(Path(tmp) / "events.db")}
            results.append(run_store("SQLite", env, args))
            log(report(results[-1:], args))
        if not args.skip_postgres:
            why = postgres_reachable()
            if why:
                notes.append(f"PostgreSQL skipped: {why}")
            else:
                with postgres_store() as env:
                    results.append(run_store("PostgreSQL", env, args))
                    log(report(results[-1:], args))
    print(f"\nAs-of dashboard benchmark ({time.perf_counter() - began:.0f} s; load average before {load_before}, "
          f"after {load_average()}; 2 cores shared with other work):\n{report(results, args)}", *notes, sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

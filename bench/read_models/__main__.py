"""Read-model benchmark: rebuild and catch-up time, lag under a write load, and read latency.

It prints figures; it asserts nothing about timing. For SQLite (a temporary file) and
PostgreSQL (a fresh schema per run, created and dropped here, via the library's
POSTGRES_SCHEMA), each store gets:

0. A history of `--events` events (default 100,000) made through `SecretariatApplication`'s
   own commands, one command per transaction as the API makes them: a seeded mix of the demo
   workflows (mandates recorded/started/reported/fulfilled/withdrawn; tasks created, started,
   submitted, approved, blocked, rescheduled, returned, reassigned, cancelled, linked to
   mandates; support requests submitted, screened, questioned, approved, delivered, closed,
   rejected, withdrawn), each step by the demo actor the workflow table allows
   (tests/factories.py, secretariat/demo.py). On SQLite the generated file is cached under
   /tmp between runs (`--no-cache` makes it afresh).
1. Part 1: `ProjectionRunner.rebuild` of the items view over that history, and `catch_up`
   from zero (an emptied view) with each `--batch-sizes`; median of `--runs`.
2. Part 3 (done second, it needs the bigger store): the history is topped up to `--items`
   items (default 100,000) with a backlog made by the same aggregates and checks, but saved
   with `service.save(*aggregates)` 500 items per transaction (one command per transaction
   would take minutes on PostgreSQL); the runner projects it; then `ReadModels.dashboard`
   and a filtered `ReadModels.list_items` are timed (p50/p99 of `--read-calls` calls each).
3. Part 2: a writer thread issues commands at a steady `--rate` per second (open loop) for
   `--lag-seconds` while `runner.follow(stop)` keeps the view live in another thread, wired
   as `secretariat serve` does (`build_projections`: wake-ups on each save, and LISTEN/NOTIFY
   on PostgreSQL). Lag = time from each save to the first moment the view's tracking
   position covers it (polled every `--poll-ms` by a small separate process).

Run the folder with the project's virtualenv:

    .venv/bin/python bench/read_models            # full run (about 10–12 minutes; less with the SQLite cache)
    .venv/bin/python bench/read_models --quick    # short run (about 2 minutes)
    .venv/bin/python bench/read_models --help

This file parses the options and runs the parts per store; workload.py holds the commands'
script, stores.py the stores and the generated data, rebuild.py, lag.py and reads.py the
three parts, report.py the tables (bench/README.md has the list).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from importlib.metadata import version
from pathlib import Path
from typing import Callable

# Run as `python bench/read_models`, this folder is sys.path[0] and its modules import each other as
# top-level modules. Behind it: the repository (domain, projections, secretariat, tests) and bench/ (shared).
HERE = Path(__file__).resolve().parent
sys.path[1:1] = [p for p in (str(HERE.parents[1]), str(HERE.parent)) if p not in sys.path]

from lag import bench_lag  # noqa: E402
from reads import bench_reads  # noqa: E402
from rebuild import bench_rebuild, profile_rebuild  # noqa: E402
from report import StoreReport, report_generation, report_lag, report_reads, report_rebuild  # noqa: E402
from shared import load_average, log  # noqa: E402
from stores import (History, add_backlog, cached_sqlite, generate_history, postgres_reachable,  # noqa: E402
                    postgres_store)
from workload import Scenario  # noqa: E402


def run_store(name: str, env: dict[str, str], args: argparse.Namespace, tmp: Path) -> StoreReport:
    report = StoreReport(name)
    is_pg = env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    scenario_holder: list[Scenario] = []

    def make_history(store_env: dict[str, str]) -> History:
        history, scenario = generate_history(store_env, args.events, args.seed, args.fast_pg_generate)
        scenario_holder.append(scenario)
        return history

    log(f"  {name}: the history ({args.events:,} events through SecretariatApplication's commands) ...")
    if is_pg:
        report.history = make_history(env)
    else:
        report.history = cached_sqlite("history", args, Path(env["SQLITE_DBNAME"]), make_history)
    h = report.history
    log(f"  {name}: {h.events:,} events, {h.items:,} items, {h.commands:,} commands "
        f"({h.refused} refused by a rule and left out)")

    def part(title: str, run: Callable[[], None]) -> None:
        log(f"  {name}: {title} ...")
        try:
            run()
        except Exception as error:  # noqa: BLE001 - one broken part must not hide the others' figures
            report.failures.append(f"{title}: FAILED: {type(error).__name__}: {error}")
            log(traceback.format_exc())

    if not args.skip_rebuild:
        part("part 1, rebuild and catch-up", lambda: setattr(report, "rebuild", bench_rebuild(env, h, args)))
    if args.profile:
        part("profile of a rebuild", lambda: setattr(report, "profile", profile_rebuild(env, h)))
    if args.skip_reads and args.skip_lag:
        return report

    def top_up() -> None:
        scenario = scenario_holder[0] if scenario_holder else None

        def make(store_env: dict[str, str]) -> History:
            return add_backlog(store_env, h, scenario, args.items, args.seed, args.fast_pg_generate)

        if is_pg:
            report.topped = make(env)
        else:
            report.topped = cached_sqlite("backlog", args, Path(env["SQLITE_DBNAME"]), make)
        t = report.topped
        log(f"  {name}: now {t.events:,} events, {t.items:,} items")

    if not args.skip_reads:
        part(f"part 3, top-up to {args.items:,} items", top_up)
        if report.topped:
            def reads() -> None:
                report.reads, report.backlog_catch_up, report.read_note = bench_reads(env, report.topped, args)
            part("part 3, reads", reads)
    if not args.skip_lag:
        base = report.topped or h
        part(f"part 2, lag at {args.rate:.0f} commands/s for {args.lag_seconds:.0f} s",
             lambda: setattr(report, "lag", bench_lag(env, base, args)))
        if args.diagnose:
            part("part 2, the same write load with no follower",
                 lambda: setattr(report, "alone", bench_lag(env, base, args, follow=False)))
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Secretariat's read models: rebuild and catch-up time, lag under a steady write load, and "
                    "read latency, on SQLite and PostgreSQL. Prints figures; asserts nothing on timing.")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: 10,000 events and items, 5 s of write load (defaults below)")
    parser.add_argument("--events", type=int, help="events in the history made by commands (default 100000, "
                                                   "quick 10000)")
    parser.add_argument("--items", type=int, help="items in the store for the reads, topped up with a backlog "
                                                  "(default 100000, quick 10000)")
    parser.add_argument("--runs", type=int, default=3, help="rebuild and catch-up runs; the median is reported "
                                                            "(default 3)")
    parser.add_argument("--batch-sizes", default="1000", help="catch-up batch sizes, comma-separated "
                                                              "(default 1000, the runner's default)")
    parser.add_argument("--rate", type=float, default=200.0, help="write load, commands/s (default 200)")
    parser.add_argument("--lag-seconds", type=float, help="how long the write load lasts (default 20, quick 5)")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="how often the lag watcher reads the view's "
                                                                   "position, ms (default 2)")
    parser.add_argument("--read-calls", type=int, default=300, help="timed calls of each read (default 300)")
    parser.add_argument("--seed", type=int, default=2026, help="the workload's random seed (default 2026)")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--skip-rebuild", action="store_true", help="leave out part 1")
    parser.add_argument("--skip-catch-up", action="store_true", help="part 1 without the catch-ups from zero "
                                                                     "(rebuild and floors only)")
    parser.add_argument("--skip-lag", action="store_true", help="leave out part 2")
    parser.add_argument("--skip-reads", action="store_true", help="leave out part 3 (and the backlog)")
    parser.add_argument("--no-cache", action="store_true", help="make the SQLite stores afresh, neither reading "
                                                                "nor writing the cache")
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "secretariat-bench-projections"),
                        help="where generated SQLite files are kept between runs (default %(default)s)")
    parser.add_argument("--no-fast-pg-generate", dest="fast_pg_generate", action="store_false",
                        help="generate the PostgreSQL history with synchronous commits (slower; by default the "
                             "generating connections use synchronous_commit=off)")
    parser.add_argument("--diagnose", action="store_true",
                        help="also: the dashboard's queries timed one by one with the query plans of the costliest, "
                             "and the write load run again with no follower (the writer's own baseline)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of one rebuild over the "
                                                               "history, per store")
    args = parser.parse_args(argv)
    args.events = args.events or (10_000 if args.quick else 100_000)
    args.items = args.items or (10_000 if args.quick else 100_000)
    args.lag_seconds = args.lag_seconds or (5.0 if args.quick else 20.0)
    try:
        args.batch_sizes = [int(s) for s in str(args.batch_sizes).split(",") if s.strip()]
    except ValueError:
        parser.error("--batch-sizes takes integers, e.g. 250,1000,5000")
    if not args.batch_sizes or min(args.batch_sizes) < 1:
        parser.error("--batch-sizes must name at least one size >= 1")
    if min(args.events, args.items, args.runs, args.read_calls) < 1 or args.rate <= 0 or args.poll_ms <= 0:
        parser.error("sizes, runs, calls, rate and poll interval must be positive")
    if args.events < 100:
        parser.error("--events must be at least 100")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    load_before = load_average()
    reports: list[StoreReport] = []
    with tempfile.TemporaryDirectory(prefix="secretariat-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if not args.skip_sqlite:
            log("SQLite (a temporary file, WAL) ...")
            env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp / "events.db")}
            try:
                reports.append(run_store("SQLite", env, args, tmp))
            except Exception as error:  # noqa: BLE001
                reports.append(StoreReport("SQLite", failures=[f"FAILED: {type(error).__name__}: {error}"]))
                log(traceback.format_exc())
        if not args.skip_postgres:
            skipped = postgres_reachable()
            if skipped:
                reports.append(StoreReport("PostgreSQL", skipped=skipped))
            else:
                log("PostgreSQL (a fresh schema) ...")
                try:
                    with postgres_store() as env:
                        reports.append(run_store("PostgreSQL", env, args, tmp))
                except Exception as error:  # noqa: BLE001
                    reports.append(StoreReport("PostgreSQL", failures=[f"FAILED: {type(error).__name__}: {error}"]))
                    log(traceback.format_exc())
    import sqlalchemy

    header = (f"Secretariat read-model benchmark ({'quick' if args.quick else 'full'} run, "
              f"{time.perf_counter() - began:.0f} s): Python {sys.version.split()[0]}, eventsourcing "
              f"{version('eventsourcing')}, SQLAlchemy {sqlalchemy.__version__}, "
              f"{os.cpu_count()} cores shared with other work; load average before {load_before}, after "
              f"{load_average()}. Figures are noisy: medians and percentiles, no single runs.")
    sections = [header, report_generation(reports, args)]
    if not args.skip_rebuild:
        sections.append(report_rebuild(reports, args))
    if not args.skip_lag:
        sections.append(report_lag(reports, args))
    if not args.skip_reads:
        sections.append(report_reads(reports, args))
    for r in reports:
        if r.skipped:
            sections.append(f"{r.name}: skipped ({r.skipped})")
        for failure in r.failures:
            sections.append(f"{r.name}: {failure}")
        if r.profile:
            sections.append(f"Profile, {r.name}: {r.profile}")
    print("\n" + "\n\n".join(sections) + "\n", flush=True)
    return 1 if any(r.failures for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())

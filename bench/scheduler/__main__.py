"""Scheduler benchmark: the idle tick over many open deadlines, and how late reminders go out.

It prints figures; it asserts nothing about timing. For SQLite (a temporary file; the bulk
store is cached under /tmp between runs) and PostgreSQL (a fresh schema, dropped afterwards):

1. `--deadlines` open tasks (default 100,000), due 30–400 days ahead so that no rung is due,
   made by `Task.start_new` and saved 500 per transaction; the views projected; then
   `ReminderScheduler.tick()` (which catches up the views, asks the deadlines view and raises
   nothing) timed over `--tick-calls` calls, in turns with its deadlines query alone
   (`items_with_rungs_due`) and the aimed tick's query (`next_rung_day_after`). Goal: p99 <= 50 ms.
2. `--rungs` tasks (default 1,000) due tomorrow whose `due_soon` rung falls a few seconds
   ahead, with `--tick-seconds` (1 s) ticks from `ReminderScheduler.start` in a background
   APScheduler and the projection follower running, as `secretariat serve` runs them;
   lateness = the wall time each reminder's save committed minus the rung's instant. Once as
   `serve` runs (with the tick aimed at the rung instant) and once with no aimed tick.
   Goal: p99 <= one tick.

Run the folder with the project's virtualenv:

    .venv/bin/python bench/scheduler            # full run (about 4–5 minutes)
    .venv/bin/python bench/scheduler --quick    # 10,000 deadlines and 200 rungs (about 1 minute)
    .venv/bin/python bench/scheduler --help

Its modules import each other as top-level modules (this folder is sys.path[0]): deadlines.py
(the stores, the bulk deadlines, the SQLite cache), idle.py (part 1), lateness.py (part 2).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Callable

# Run as `python bench/scheduler`, this folder is sys.path[0]. Behind it: the repository (domain, projections,
# scheduler, secretariat) and bench/ (shared). The repository's `scheduler` package wins over this folder,
# which has no __init__.py.
HERE = Path(__file__).resolve().parent
sys.path[1:1] = [p for p in (str(HERE.parents[1]), str(HERE.parent)) if p not in sys.path]

from deadlines import (PER_SAVE, Made, Store, cached_deadlines, make_deadlines, postgres_store,  # noqa: E402
                       sqlite_store)
from idle import IdleResult, bench_idle  # noqa: E402
from lateness import LatenessResult, bench_lateness  # noqa: E402
from shared import load_average, log, percentile, postgres_reachable, postgres_schema, table  # noqa: E402

GOALS = {"tick_p99_ms": 50.0}  # and lateness p99 <= one tick (--tick-seconds)


@dataclass
class StoreReport:
    name: str
    skipped: str | None = None
    made: Made | None = None
    idle: IdleResult | None = None
    lateness: list[LatenessResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def run_store(store: Store, args: argparse.Namespace) -> StoreReport:
    report = StoreReport(store.name)

    def part(title: str, run: Callable[[], None]) -> None:
        log(f"  {store.name}: {title} ...")
        try:
            run()
        except Exception as error:  # noqa: BLE001 - one broken part must not hide the others' figures
            report.failures.append(f"{title}: FAILED: {type(error).__name__}: {error}")
            log(traceback.format_exc())

    def make() -> None:
        if store.is_sqlite:
            report.made = cached_deadlines(store, args.deadlines, args.seed, None if args.no_cache else args.cache_dir)
        else:
            report.made = make_deadlines(store, args.deadlines, args.seed)

    part(f"{args.deadlines:,} open deadlines, {PER_SAVE} tasks per save", make)
    if report.made is None:
        return report
    part(f"part 1, the idle tick ({args.tick_calls} calls)",
         lambda: setattr(report, "idle", bench_idle(store, report.made, args.tick_calls, args.profile)))
    for aim in (True, False) if not args.skip_unaimed else (True,):
        part(f"part 2, lateness of {args.rungs:,} rungs, {args.tick_seconds:g} s tick, "
             f"{'with' if aim else 'without'} the aimed tick",
             lambda: report.lateness.append(bench_lateness(store, args.rungs, args.tick_seconds, args.lead_seconds,
                                                           aim)))
    for result in report.lateness:
        report.failures += [f"part 2 ({result.label}): {problem}" for problem in result.problems]
    return report


def ms(values: list[float], q: float | None = None) -> str:
    if not values:
        return "-"
    return f"{(max(values) if q is None else percentile(values, q)):,.1f}"


def report_idle(reports: list[StoreReport], args: argparse.Namespace) -> str:
    rows, notes = [], []
    for r in reports:
        if r.idle is None or r.made is None:
            continue
        i = r.idle
        for name, values in i.ms.items():
            tick = not name.startswith(" ")
            rows.append([r.name, name, ms(values, 0.5), ms(values, 0.99), ms(values),
                         f"<= {GOALS['tick_p99_ms']:.0f} ms" if tick else "-",
                         _verdict(percentile(values, 0.99), GOALS["tick_p99_ms"]) if tick else "-"])
        made = "copied from the cache" if r.made.cached else f"made in {r.made.seconds:.0f} s"
        notes.append(f"{r.name}: view_deadlines holds {i.rows:,} rows, {i.open_rows:,} open; {i.events:,} events "
                     f"({r.made.deadlines:,} tasks {made}, relative to {r.made.made_on}); projected by "
                     f"runner.catch_up in {i.catch_up_seconds:.1f} s" + (f"; {i.note}" if i.note else ""))
        notes.append(f"{r.name}: plan of items_with_rungs_due: {i.plan}")
    title = (f"1. The idle tick: {args.deadlines:,} open deadlines, none due; {args.tick_calls} calls of each, in "
             "turns, after 10 untimed ones, with gc.freeze() as serve does. tick = ReminderScheduler.tick() (catch up "
             "both views, ask the deadlines view, raise nothing); below it, its deadlines query alone, and the "
             "query the scheduled tick adds to aim at the next rung")
    return title + "\n\n" + table(["store", "call", "p50 ms", "p99 ms", "max ms", "goal p99", "verdict"], rows) + \
        "\n\n" + "\n".join(notes)


def report_lateness(reports: list[StoreReport], args: argparse.Namespace) -> str:
    rows, notes = [], []
    goal = args.tick_seconds * 1000
    for r in reports:
        for res in r.lateness:
            late, stamped = res.lateness_ms, res.stamped_ms
            rows.append([r.name, res.label, f"{len(late):,}", f"{min(late):,.1f}" if late else "-", ms(late, 0.5),
                         ms(late, 0.99), ms(late),
                         ms(stamped, 0.5), ms(stamped, 0.99), ms(stamped), f"<= {goal:.0f} ms",
                         _verdict(percentile(late, 0.99), goal) if late else "-"])
            rounds = ", ".join(f"{n} started {start:+,.0f} committed {done:+,.0f}" for start, done, n in res.rounds)
            ticks = ", ".join(f"{t:+,.0f}" for t in res.ticks_ms[:6])
            notes.append(f"{r.name}, {res.label}: rounds (ms after the instant): {rounds or '-'}; scheduled ticks "
                         f"started at {ticks or '-'} ms; the scheduler ran {res.lead_ms / 1000:.1f} s before the "
                         f"instant; setup: {res.setup_note}")
    title = (f"2. Reminder lateness: {args.rungs:,} due_soon rungs falling due at one instant (the reminder time, set "
             f"a few seconds ahead), in part 1's store (its {args.deadlines:,} open deadlines beside them), "
             f"{args.tick_seconds:g} s ticks from ReminderScheduler.start in a background "
             "APScheduler, the projection follower in a thread, as serve runs them. lateness = wall time the save "
             "holding the reminder committed (service.on_recorded) - the rung's instant; stamp = the event's "
             "timestamp (when the save that raised it started) - the instant. A tick saves 500 items per transaction, "
             "so the percentiles take the commit times of a few saves (nearest rank); the notes give each save")
    headers = ["store", "run", "rungs", "late min ms", "p50 ms", "p99 ms", "max ms", "stamp p50 ms", "p99 ms", "max ms",
               "goal p99", "verdict"]
    return title + "\n\n" + table(headers, rows) + "\n\n" + "\n".join(notes)


def report_summary(reports: list[StoreReport], args: argparse.Namespace) -> str:
    rows = []
    for r in reports:
        if r.idle is not None and r.idle.ms:
            p99 = percentile(r.idle.ms["ReminderScheduler.tick()"], 0.99)
            rows.append([r.name, f"idle tick p99, {args.deadlines:,} open deadlines",
                         f"<= {GOALS['tick_p99_ms']:.0f} ms", f"{p99:,.1f} ms", _verdict(p99, GOALS["tick_p99_ms"])])
        for res in r.lateness:
            if res.lateness_ms:
                p99 = percentile(res.lateness_ms, 0.99)
                rows.append([r.name, f"lateness p99, {res.rungs:,} rungs, {res.label}",
                             f"<= {args.tick_seconds * 1000:.0f} ms", f"{p99:,.1f} ms",
                             _verdict(p99, args.tick_seconds * 1000)])
    return "Summary\n\n" + table(["store", "what", "goal", "measured", "met"], rows)


def _verdict(value: float, goal: float) -> str:
    return "met" if value <= goal else "NOT met"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Secretariat's reminder scheduler: the idle tick over many open deadlines, and how late "
                    "reminders go out with a real clock, on SQLite and PostgreSQL. Prints figures; asserts nothing "
                    "on timing.")
    parser.add_argument("--quick", action="store_true", help="a short run: 10,000 deadlines and 200 rungs")
    parser.add_argument("--deadlines", type=int, help="open deadlines for the idle tick (default 100000, quick 10000)")
    parser.add_argument("--rungs", type=int, help="reminders falling due at one instant (default 1000, quick 200)")
    parser.add_argument("--tick-calls", type=int, help="timed idle ticks (default 200, quick 100)")
    parser.add_argument("--tick-seconds", type=float, default=1.0, help="the scheduler's tick (default 1)")
    parser.add_argument("--lead-seconds", type=float, default=5.0,
                        help="how far ahead the reminder time is set once set up (default 5)")
    parser.add_argument("--seed", type=int, default=2026, help="spreads the due dates (default 2026)")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--skip-unaimed", action="store_true", help="leave out part 2 with no aimed tick")
    parser.add_argument("--no-cache", action="store_true", help="make the SQLite store afresh, neither reading nor "
                                                                "writing the cache")
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "secretariat-bench-scheduler"),
                        help="where the SQLite store of open deadlines is kept between runs (default %(default)s)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of 50 idle ticks per store")
    args = parser.parse_args(argv)
    args.deadlines = args.deadlines or (10_000 if args.quick else 100_000)
    args.rungs = args.rungs or (200 if args.quick else 1_000)
    args.tick_calls = args.tick_calls or (100 if args.quick else 200)
    if min(args.deadlines, args.rungs, args.tick_calls) < 1 or args.tick_seconds <= 0 or args.lead_seconds < 1:
        parser.error("sizes and calls must be positive, --tick-seconds > 0 and --lead-seconds >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    load_before = load_average()
    reports: list[StoreReport] = []
    with tempfile.TemporaryDirectory(prefix="secretariat-bench-scheduler-") as tmp:
        if not args.skip_sqlite:
            log("SQLite (a temporary file) ...")
            try:
                reports.append(run_store(sqlite_store(Path(tmp) / "events.db"), args))
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
                    with contextmanager(postgres_schema)() as env:
                        reports.append(run_store(postgres_store(env), args))
                except Exception as error:  # noqa: BLE001
                    reports.append(StoreReport("PostgreSQL", failures=[f"FAILED: {type(error).__name__}: {error}"]))
                    log(traceback.format_exc())
    import sqlalchemy

    header = (f"Secretariat scheduler benchmark ({'quick' if args.quick else 'full'} run, "
              f"{time.perf_counter() - began:.0f} s): Python {sys.version.split()[0]}, eventsourcing "
              f"{version('eventsourcing')}, SQLAlchemy {sqlalchemy.__version__}, APScheduler {version('APScheduler')}, "
              f"{os.cpu_count()} cores shared with other work; load average before {load_before}, after "
              f"{load_average()}. Figures are noisy: percentiles, no single runs.")
    sections = [header, report_idle(reports, args), report_lateness(reports, args), report_summary(reports, args)]
    for r in reports:
        if r.skipped:
            sections.append(f"{r.name}: skipped ({r.skipped})")
        for failure in r.failures:
            sections.append(f"{r.name}: {failure}")
        if r.idle is not None and r.idle.profile:
            sections.append(f"Profile, {r.name}: {r.idle.profile}")
    print("\n" + "\n\n".join(sections) + "\n", flush=True)
    return 1 if any(r.failures for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Command-path benchmark: Secretariat against a bare `eventsourcing` floor, in process and over HTTP.

It prints figures; it asserts nothing about timing. Two parts:

1. In process, on SQLite (a temporary file) and PostgreSQL (a fresh schema per run,
   dropped afterwards): `SecretariatApplication` runs the task workflow (create_task,
   then act start, submit, approve: four commands, each load-act-save) beside a bare
   `eventsourcing` application doing the same four load-act-save commands with no
   checks (bench/bare_http_app.py). Commands/s is the median of the runs.
2. Over HTTP, on SQLite: `secretariat serve` (after `secretariat demo`) beside a bare
   FastAPI app on uvicorn (httptools, uvloop, one worker), each driven by closed-loop
   client threads (one keep-alive httpx.Client each) on 127.0.0.1 only, bounded in
   workflows and in time. Then `secretariat serve --workers 2`, to look for the
   40 ms Nagle/delayed-ACK stall. A one-client probe on each server gives the
   unloaded latency (and warms the server up).

Run it with the project's virtualenv:

    .venv/bin/python bench/commands.py            # full run (about 3 minutes)
    .venv/bin/python bench/commands.py --quick    # short run (under a minute)
    .venv/bin/python bench/commands.py --help

The parts live beside this entry point, each imported as a top-level module:

    shared.py        the workload (cast, payload), progress log, table layout, percentiles
    in_process.py    part 1 and the optional cProfile
    http_servers.py  part 2's server subprocesses (ours, bare FastAPI) and their CPU time
    http_load.py     part 2's closed-loop clients, rounds and report
    command_budget.py  part 3 (--budget): server CPU per command by part, ours and the bare app
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
for path in (str(ROOT), str(BENCH_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

from command_budget import bench_budget, report_budget  # noqa: E402
from http_load import bench_http, report_http  # noqa: E402
from in_process import bench_in_process, profile_in_process, report_in_process  # noqa: E402
from shared import load_average, log  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Secretariat's command path against a bare eventsourcing floor: in process (SQLite, "
                    "PostgreSQL) and over HTTP (uvicorn on 127.0.0.1). Prints figures; asserts nothing on timing.")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: fewer tasks, workflows and seconds (defaults below become "
                             "60 tasks, 150 HTTP workflows, 8 s)")
    parser.add_argument("--tasks", type=int, help="in process: task workflows per run (4 commands each; "
                                                  "default 400, quick 60)")
    parser.add_argument("--runs", type=int, default=3, help="in process: runs per store and implementation; the "
                                                            "median is reported (default 3)")
    parser.add_argument("--warmup", type=int, default=10, help="in process: untimed task workflows before each run "
                                                               "(default 10)")
    parser.add_argument("--http-workflows", type=int, help="HTTP: at most this many workflows per server under load, "
                                                           "split over the rounds "
                                                           "(default 1000, quick 150)")
    parser.add_argument("--http-seconds", type=float, help="HTTP: at most this long per server under load, split over "
                                                           "the rounds (default 30, "
                                                           "quick 8)")
    parser.add_argument("--probe-workflows", type=int, help="HTTP: workflows of the 1-client probe (default 50, "
                                                            "quick 15)")
    parser.add_argument("--rounds", type=int, default=3, help="HTTP: the loaded runs take turns in this many rounds "
                                                              "(default 3)")
    parser.add_argument("--clients", type=int, default=16, help="HTTP: closed-loop client threads (default 16)")
    parser.add_argument("--chunks", type=int, default=10, help="in process: slices in which the implementations "
                                                               "take turns within a run (default 10)")
    parser.add_argument("--skip-postgres", action="store_true", help="in process: SQLite only")
    parser.add_argument("--skip-in-process", action="store_true", help="leave out part 1")
    parser.add_argument("--skip-http", action="store_true", help="leave out part 2")
    parser.add_argument("--diagnose", action="store_true",
                        help="in process: add a column for ours with no snapshot store (diagnostic)")
    parser.add_argument("--budget", action="store_true",
                        help="also print the HTTP command path's server CPU per command by part, ours beside the "
                             "bare app (bench/command_budget.py)")
    parser.add_argument("--budget-only", action="store_true", help="only the budget (implies --budget)")
    parser.add_argument("--budget-workflows", type=int, help="budget: task workflows per round (default 200, "
                                                             "quick 60)")
    parser.add_argument("--budget-warmup", type=int, default=20, help="budget: untimed workflows first (default 20)")
    parser.add_argument("--budget-clients", type=int, default=1,
                        help="budget: requests in flight (default 1: each part's time is then exact)")
    parser.add_argument("--budget-rounds", type=int, default=2, help="budget: rounds, bare and ours in turns "
                                                                     "(default 2)")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of ours on SQLite over --tasks task workflows")
    args = parser.parse_args(argv)
    quick = args.quick
    args.tasks = args.tasks or (60 if quick else 400)
    args.http_workflows = args.http_workflows or (150 if quick else 1000)
    args.http_seconds = args.http_seconds or (8.0 if quick else 30.0)
    args.probe_workflows = args.probe_workflows or (15 if quick else 50)
    args.budget_workflows = args.budget_workflows or (60 if quick else 200)
    if args.budget_only:
        args.budget = args.skip_in_process = args.skip_http = True
    for name in ("tasks", "runs", "chunks", "rounds", "http_workflows", "clients", "probe_workflows",
                 "budget_workflows", "budget_rounds", "budget_clients"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or args.http_seconds <= 0 or args.http_seconds > 300:
        parser.error("--warmup must be >= 0 and --http-seconds in (0, 300]")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    load_before = load_average()
    failed = False
    sections = []
    with tempfile.TemporaryDirectory(prefix="secretariat-bench-") as tmp_name:
        tmp = Path(tmp_name)
        parts = [("1. In process", lambda: report_in_process(bench_in_process(args, tmp), args), args.skip_in_process),
                 ("2. HTTP", lambda: report_http(*bench_http(args, tmp), args), args.skip_http),
                 ("3. HTTP budget", lambda: report_budget(bench_budget(args, tmp), args), not args.budget),
                 ("Profile of ours in process on SQLite", lambda: profile_in_process(args, tmp), not args.profile)]
        for title, run, skipped in parts:
            if skipped:
                continue
            log(f"{title} ...")
            try:
                sections.append(run())
            except Exception as error:  # noqa: BLE001 - one broken part must not hide the others' figures
                failed = True
                sections.append(f"{title}: FAILED, no figures: {type(error).__name__}: {error}")
                log(traceback.format_exc())
    import eventsourcing
    import fastapi
    import uvicorn

    header = (f"Secretariat command-path benchmark ({'quick' if args.quick else 'full'} run, "
              f"{time.perf_counter() - began:.0f} s): Python {sys.version.split()[0]}, eventsourcing "
              f"{getattr(eventsourcing, '__version__', '9.5.6')}, FastAPI {fastapi.__version__}, uvicorn "
              f"{uvicorn.__version__}, {os.cpu_count()} cores; load average before {load_before}, after "
              f"{load_average()} (other work on the machine makes every figure noisier)")
    print("\n" + header + "\n\n" + "\n\n".join(sections) + "\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

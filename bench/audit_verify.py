"""Audit chain: how fast the log is sealed, verified and exported, over 100,000 events on SQLite (and PostgreSQL).

    .venv/bin/python bench/audit_verify.py [--events 100000] [--runs 3] [--skip-postgres]

The SQLite history is the read-model benchmark's (bench/read_models/stores.py): made by commands
once and kept in its cache folder, so both benchmarks share it. PostgreSQL gets a copy of the same
stored events (COPY into a fresh schema), which is quicker than making it again by commands; it is
measured before any ANALYZE, so its planner has no statistics yet. Each store is sealed once by the
audit chain projection alone, then verified `--runs` times (median reported), then exported whole
as `secretariat audit export` does and the bundle checked as `verify-export` does. Prints figures;
asserts nothing on timing (the goal is 50,000 events/s on SQLite).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

HERE = Path(__file__).resolve().parent
sys.path[1:1] = [p for p in (str(HERE.parent), str(HERE), str(HERE / "read_models")) if p not in sys.path]

from shared import log, postgres_reachable, postgres_schema, table  # noqa: E402
from stores import cached_sqlite, generate_history, make_service  # noqa: E402
from workload import Clock  # noqa: E402

from audit.bundle_check import verify_bundle  # noqa: E402
from audit.export import write_bundle  # noqa: E402
from audit.seal import AuditChainProjection  # noqa: E402
from audit.store import verify_store  # noqa: E402
from projections.database import engine_for  # noqa: E402
from projections.runner import ProjectionRunner  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402


def measure(name: str, env: dict[str, str], runs: int) -> list[str]:
    service = make_service(env, Clock())
    runner = ProjectionRunner(service, engine_for(env, writer=True), [AuditChainProjection()],
                              reader=engine_for(env), batch_size=10_000)
    try:
        runner.setup()
        began = time.perf_counter()
        sealed = runner.catch_up(runner.projections[0])
        seal_seconds = time.perf_counter() - began
        log(f"    {name}: sealed {sealed:,} events in {seal_seconds:.2f} s")
        times = []
        for run in range(runs):
            began = time.perf_counter()
            result = verify_store(service, runner.reader)
            times.append(time.perf_counter() - began)
            log(f"    {name}: verify run {run + 1}: {result['events']:,} events in {times[-1]:.2f} s "
                f"(ok={result['ok']})")
            if not result["ok"]:
                raise RuntimeError(f"the chain does not verify: {result}")
        median = statistics.median(times)
        export_seconds, size, check_seconds = export_and_check(service, runner.reader)
        log(f"    {name}: exported in {export_seconds:.2f} s ({size / 1e6:.1f} MB), checked offline in "
            f"{check_seconds:.2f} s")
        return [name, f"{result['events']:,}", f"{sealed / seal_seconds:,.0f}" if sealed else "-",
                f"{median:.2f}", f"{result['events'] / median:,.0f}", f"{export_seconds:.2f}", f"{size / 1e6:.1f}",
                f"{check_seconds:.2f}"]
    finally:
        runner.engine.dispose()
        runner.reader.dispose()
        service.close()


def export_and_check(service, engine) -> tuple[float, int, float]:
    """`secretariat audit export` of the whole log, then `verify-export` of the bundle: seconds, bytes, seconds."""
    with tempfile.TemporaryDirectory(prefix="secretariat-bench-export-") as folder:
        bundle = Path(folder) / "audit.zip"
        key = Ed25519PrivateKey.generate()
        began = time.perf_counter()
        write_bundle(service, engine, bundle, key)
        export_seconds = time.perf_counter() - began
        began = time.perf_counter()
        checked = verify_bundle(bundle)
        check_seconds = time.perf_counter() - began
        if not checked["ok"]:
            raise RuntimeError(f"the bundle does not verify: {checked}")
        return export_seconds, bundle.stat().st_size, check_seconds


@contextmanager
def postgres_copy_of(sqlite_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL schema holding the SQLite store's events, in the same order."""
    import sqlite3

    import psycopg

    with contextmanager(postgres_schema)() as env:
        make_service(env, Clock()).close()  # the library creates its tables
        source = sqlite3.connect(sqlite_env["SQLITE_DBNAME"])
        with psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
                             user=env["POSTGRES_USER"], options=f"-csearch_path={env['POSTGRES_SCHEMA']}") as conn:
            with conn.cursor().copy("COPY secretariat_events (originator_id, originator_version, topic, state) "
                                    "FROM STDIN") as copy:
                for row in source.execute("SELECT originator_id, originator_version, topic, state "
                                          "FROM stored_events ORDER BY rowid"):
                    copy.write_row(row)
        source.close()
        yield env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events in the history (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="verify runs per store; the median is reported")
    parser.add_argument("--seed", type=int, default=2026, help="the workload's random seed (default 2026)")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-cache", action="store_true", help="make the SQLite history afresh")
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "secretariat-bench-projections"),
                        help="the read-model benchmark's cache of SQLite stores (default %(default)s)")
    args = parser.parse_args(argv)
    args.items = args.events  # the cache key names the read-model benchmark's default sizes too
    rows = []
    with tempfile.TemporaryDirectory(prefix="secretariat-bench-audit-") as tmp:
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(Path(tmp) / "events.db")}
        log("SQLite: the history ...")
        history = cached_sqlite("history", args, Path(env["SQLITE_DBNAME"]),
                                lambda e: generate_history(e, args.events, args.seed, True)[0])
        log(f"    {history.events:,} events")
        rows.append(measure("SQLite", env, args.runs))
        if not args.skip_postgres:
            skipped = postgres_reachable()
            if skipped:
                log(f"PostgreSQL skipped: {skipped}")
            else:
                log("PostgreSQL: copying the same events ...")
                with postgres_copy_of(env) as pg_env:
                    rows.append(measure("PostgreSQL", pg_env, args.runs))
    print(table(["store", "events", "sealed/s", "verify s (median)", "verified/s", "export s", "bundle MB",
                 "verify-export s"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

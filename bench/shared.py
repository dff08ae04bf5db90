"""What the benchmark's parts share: the workload, progress logging, the table layout and percentiles.

The other bench modules import this one as a top-level module: bench/ is on sys.path when
bench/commands.py runs (as a script it is sys.path[0]; commands.py also puts it there), and
bench/read_models/__main__.py puts it there too (the read-model benchmark uses log, table
and load_average; it keeps its own nearest-rank percentile).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
from datetime import date
from pathlib import Path
from typing import Iterator
from uuid import uuid4

from domain.actor import Actor

BENCH_DIR = Path(__file__).resolve().parent

# The demo cast's secretariat officer and head, as in tests/factories.py.
SARA = Actor("sara", frozenset({"secretariat"}))
HANA = Actor("hana", frozenset({"head"}))
ADMIN = Actor("admin", frozenset({"admin"}))  # registers the two users

DUE = date(2026, 12, 15)
RESULT = "A catalogue of the bilateral agreements between the Contracting Parties."
COMMANDS_PER_WORKFLOW = 4  # create, start, submit, approve


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    line = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def percentile(values: list[float], q: float) -> float:
    """The element at rank int(q * n) of the sorted values (the last one for q = 1); NaN if there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


POSTGRES = {
    "host": os.environ.get("BENCH_POSTGRES_HOST", "127.0.0.1"),
    "port": int(os.environ.get("BENCH_POSTGRES_PORT", "5432")),
    "user": os.environ.get("BENCH_POSTGRES_USER", "postgres"),
    "dbname": os.environ.get("BENCH_POSTGRES_DBNAME", "test"),
}


def postgres_reachable() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        import psycopg

        psycopg.connect(connect_timeout=3, **POSTGRES).close()
    except Exception as error:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    return None


def postgres_schema() -> Iterator[dict[str, str]]:
    """A fresh schema for one run, dropped afterwards (POSTGRES_SCHEMA in the library's settings)."""
    import psycopg

    schema = f"bench_{uuid4().hex[:12]}"
    with psycopg.connect(autocommit=True, connect_timeout=5, **POSTGRES) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": POSTGRES["dbname"],
               "POSTGRES_HOST": POSTGRES["host"], "POSTGRES_PORT": str(POSTGRES["port"]),
               "POSTGRES_USER": POSTGRES["user"], "POSTGRES_PASSWORD": "", "POSTGRES_SCHEMA": schema}
    finally:
        with psycopg.connect(autocommit=True, connect_timeout=5, **POSTGRES) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def profile_text(profiler: cProfile.Profile, title: str, *, cumulative: int = 30, own: int = 20) -> str:
    """A cProfile's top entries by cumulative and by own time, under a title line."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    out.write(title + "\n")
    out.write("\n-- by cumulative time --\n")
    stats.sort_stats("cumulative").print_stats(cumulative)
    out.write("\n-- by own time --\n")
    stats.sort_stats("tottime").print_stats(own)
    return out.getvalue()

"""What the benchmark's parts share: the workload, progress logging, the table layout and percentiles.

The other bench modules import this one as a top-level module: bench/ is on sys.path when
bench/commands.py runs (as a script it is sys.path[0]; commands.py also puts it there).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

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

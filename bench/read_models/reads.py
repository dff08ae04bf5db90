"""Part 3: read latency of `ReadModels.dashboard` and `list_items` on the topped-up store.

With `--diagnose`, also the dashboard's queries one by one and the plans of the costliest.
`percentile` (nearest rank) serves the lag's report too.
"""

from __future__ import annotations

import argparse
import gc
import math
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from domain.mandate import Mandate
from projections.queries import ReadModels
from rebuild import check_view
from secretariat.bootstrap import build_projections
from stores import History, make_service
from tests.factories import SARA
from workload import Clock


@dataclass
class ReadResult:
    name: str
    latencies: list[float]
    shape: str

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


def percentile(values: list[Any], q: float) -> Any:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def bench_reads(env: dict[str, str], history: History, args: argparse.Namespace) -> tuple[list[ReadResult], str, str]:
    clock = Clock(datetime.fromisoformat(history.clock))
    service = make_service(env, clock)
    read_models, runner = build_projections(service, env)
    try:
        began = time.perf_counter()
        done = runner.catch_up(runner.projections[0])
        caught = f"{done:,} events in {time.perf_counter() - began:.1f} s"
        check_view(runner, history, "catch-up of the backlog")
        note = "no ANALYZE: the product never runs it, so SQLite plans without statistics"
        if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
            # VACUUM cannot run inside a transaction block.
            with runner.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in runner.projections[0].tables:
                    conn.exec_driver_sql(f"VACUUM ANALYZE {table.name}")
            note = ("VACUUM ANALYZE ran on the view tables first, as autovacuum would within a minute of the "
                    "catch-up's updates (it also sets the visibility map that lets counts read only the index)")
        today = clock.now.astimezone(service.tz).date()
        calls = {
            f"dashboard(sara, today={today})": lambda: read_models.dashboard(SARA, today),
            'list_items("tasks", sara, {state: open, assignee: sara}, limit=50)':
                lambda: read_models.list_items("tasks", SARA, {"state": "open", "assignee": "sara"}, limit=50),
        }
        shapes = {}
        board = read_models.dashboard(SARA, today)
        shapes[next(iter(calls))] = (f"{len(board['overdue'])} overdue, {len(board['upcoming'])} upcoming, "
                                     f"{len(board['mandates'])} active mandates")
        page, total = read_models.list_items("tasks", SARA, {"state": "open", "assignee": "sara"}, limit=50)
        shapes[list(calls)[1]] = f"{len(page)} of {total:,} matching"
        if args.diagnose:
            calls.update(dashboard_parts(read_models, today))
            shapes.update({name: "a part of the dashboard" for name in calls if name not in shapes})
        latencies: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(10):  # warm-up: connections, statement caches
            for call in calls.values():
                call()
        # As `secretariat serve` does once started: what exists now is left out of the collector's
        # full passes, which would otherwise pause reads for the benchmark's own large data.
        gc.freeze()
        for _ in range(args.read_calls):  # interleaved, so noise falls on all alike
            for name, call in calls.items():
                t0 = time.perf_counter()
                call()
                latencies[name].append(time.perf_counter() - t0)
        if args.diagnose:
            note = "; ".join(filter(None, [note, query_plans(read_models)]))
        return [ReadResult(name, latencies[name], shapes[name]) for name in calls], caught, note
    finally:
        gc.unfreeze()
        runner.engine.dispose()
        read_models.engine.dispose()
        service.close()


def dashboard_parts(read_models: ReadModels, today: date) -> dict[str, Callable[[], Any]]:
    """The dashboard's queries one by one (--diagnose), through ReadModels' own methods."""
    from sqlalchemy import select

    from projections.items_tables import items

    workflow = Mandate.workflow
    with read_models.engine.connect() as conn:
        active = [r.id for r in conn.execute(select(items.c.id).where(
            items.c.collection == "mandates", items.c.state.not_in(workflow.terminal)))]
    parts: dict[str, Callable[[], Any]] = {"  part: counts()": read_models.counts}
    parts[f"  part: mandate_progress({len(active)} active mandates)"] = lambda: read_models.mandate_progress(active)
    parts["  part: open_deadlines(due_before=today)"] = lambda: read_models.open_deadlines(due_before=today)
    parts["  part: time_in_state()"] = read_models.time_in_state
    return parts


def query_plans(read_models: ReadModels) -> str:
    """The plans the store picks for the two costliest statements (--diagnose)."""
    from sqlalchemy import func, select

    from projections.items_tables import items, mandate_tasks

    with read_models.engine.connect() as conn:
        ids = [r.id for r in conn.execute(select(items.c.id).where(items.c.collection == "mandates").limit(50))]
        statements = {
            "list_items' count": select(func.count()).select_from(items).where(
                items.c.collection == "tasks", items.c.state == "open", items.c.assignee == "sara"),
            "mandate_progress": select(mandate_tasks).where(mandate_tasks.c.mandate_id.in_(ids)),
        }
        plans = []
        for name, statement in statements.items():
            sql = str(statement.compile(conn, compile_kwargs={"literal_binds": True}))
            if conn.dialect.name == "sqlite":
                lines = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
            else:
                lines = [row[0].strip() for row in conn.exec_driver_sql("EXPLAIN " + sql)]
                lines = [line.split("  (cost")[0] for line in lines if "cost=" in line or "Cond" in line
                         or "Filter" in line]
            plans.append(f"plan of {name}: " + " | ".join(line[:90] + ("..." if len(line) > 90 else "")
                                                           for line in lines))
        return "; ".join(plans)

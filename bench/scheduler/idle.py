"""Part 1: the tick when nothing is due, over a store of many open deadlines.

The application, views and scheduler are wired as `secretariat serve` wires them
(build_application, build_projections, build_scheduler), with the real clock. The views are
projected first (runner.catch_up per projection); then `ReminderScheduler.tick()` (catch up
the views, ask the deadlines view, raise nothing), the deadlines query alone
(`ReadModels.items_with_rungs_due`) and the aimed tick's query (`next_rung_day_after`) are
timed in turns.
"""

from __future__ import annotations

import cProfile
import gc
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import event, func, select

from deadlines import Made, Store, settings_for
from projections import tracking
from projections.items_tables import deadlines
from secretariat.bootstrap import build_application, build_projections, build_scheduler
from shared import log, profile_text

WARM_UP = 10


@dataclass
class IdleResult:
    open_rows: int = 0
    rows: int = 0
    events: int = 0
    catch_up_seconds: float = 0.0
    ms: dict[str, list[float]] = field(default_factory=dict)  # what was timed -> milliseconds per call
    plan: str = ""
    note: str = ""
    profile: str = ""


def bench_idle(store: Store, made: Made, calls: int, profile: bool) -> IdleResult:
    result = IdleResult()
    settings = settings_for(store)
    service = build_application(settings)
    read_models, runner = build_projections(service, store.env)
    try:
        result.events = service.recorder.max_notification_id() or 0
        if result.events != made.events:
            raise RuntimeError(f"the store holds {result.events:,} events, not the {made.events:,} made")
        log(f"  {store.name}: projecting {result.events:,} events (runner.catch_up per projection) ...")
        started = time.perf_counter()
        for projection in runner.projections:
            runner.catch_up(projection)
        result.catch_up_seconds = time.perf_counter() - started
        if not store.is_sqlite:
            # As autovacuum would within a minute of the catch-up; SQLite gets no ANALYZE, as the product runs none.
            tables = [t.name for p in runner.projections for t in p.tables] + [tracking.tracking.name]
            with runner.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for name in tables:
                    conn.exec_driver_sql(f"VACUUM ANALYZE {name}")
            result.note = "view tables VACUUM ANALYZEd after the catch-up"
        with read_models.engine.connect() as conn:
            result.rows = conn.execute(select(func.count()).select_from(deadlines)).scalar_one()
            result.open_rows = conn.execute(select(func.count()).select_from(deadlines).where(
                deadlines.c.open)).scalar_one()
        scheduler = build_scheduler(settings, service, read_models, runner)
        reminder_clock = service.reminder_clock
        up_to = reminder_clock.last_rung_day(service.clock())
        result.plan = query_plan(read_models, lambda: read_models.items_with_rungs_due(up_to, limit=500))

        def tick() -> None:
            raised = scheduler.tick()
            if raised:
                raise RuntimeError(f"a tick raised {len(raised)} reminder(s); nothing should be due")

        timed: dict[str, Callable[[], Any]] = {
            "ReminderScheduler.tick()": tick,
            "  items_with_rungs_due(today)": lambda: read_models.items_with_rungs_due(
                reminder_clock.last_rung_day(service.clock()), limit=500),
            "  next_rung_day_after(today)": lambda: read_models.next_rung_day_after(
                reminder_clock.last_rung_day(service.clock())),
        }
        for call in timed.values():
            for _ in range(WARM_UP):
                call()
        result.ms = {name: [] for name in timed}
        log(f"  {store.name}: {calls} timed calls of each, in turns ...")
        gc.freeze()  # as `secretariat serve` does once started
        try:
            for _ in range(calls):
                for name, call in timed.items():
                    started = time.perf_counter()
                    call()
                    result.ms[name].append((time.perf_counter() - started) * 1000)
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(50):
                    tick()
                profiler.disable()
                result.profile = profile_text(profiler, f"50 idle ticks on {store.name}", cumulative=20, own=12)
        finally:
            gc.unfreeze()
        return result
    finally:
        runner.engine.dispose()
        read_models.engine.dispose()
        service.close()


def query_plan(read_models: Any, call: Callable[[], Any]) -> str:
    """The plan the store picks for the statement `call` sends (captured as sent, parameters and all)."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        sent.append((statement, parameters))

    engine = read_models.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = [s for s in sent if s[0].lstrip().upper().startswith("SELECT")][-1]
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            lines = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
        else:
            lines = [row[0].strip().split("  (cost")[0] for row in conn.exec_driver_sql("EXPLAIN " + statement,
                                                                                          parameters)]
    return " | ".join(lines)

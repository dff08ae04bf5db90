"""Part 1 of the command-path benchmark: Secretariat against the bare floor, in process.

On SQLite (a temporary file) and PostgreSQL (a fresh schema per run, dropped afterwards):
`SecretariatApplication` runs the task workflow (create_task, then act start, submit,
approve: four commands, each load-act-save) beside a bare `eventsourcing` application doing
the same four load-act-save commands with no checks (bench/bare_http_app.py), once with the
library's JSONTranscoder and once with Secretariat's orjson codec (the same stored bytes), so
that the codec's gain is counted on both sides only where the bare app has it too.
Commands/s is the median of the runs. `profile_in_process` is the optional cProfile of ours
on SQLite.
"""

from __future__ import annotations

import argparse
import cProfile
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from argon2 import PasswordHasher

from bare_http_app import BareApplication, BareApplicationWithOrjson
from domain.application import SecretariatApplication
from domain.calendar import BusinessCalendar
from secretariat.bootstrap import Argon2Hasher
from shared import (ADMIN, COMMANDS_PER_WORKFLOW, DUE, HANA, RESULT, SARA, log, postgres_reachable,
                    postgres_schema, profile_text, table)

def sqlite_store(tmp: Path) -> Iterator[dict[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix="store-", dir=tmp))
    try:
        yield {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "events.db")}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def postgres_store(tmp: Path) -> Iterator[dict[str, str]]:
    yield from postgres_schema()


class OursWithoutSnapshots(SecretariatApplication):
    """Diagnostic only: the same application with no snapshot store (one query less per load)."""

    snapshotting_intervals = {}


def make_ours(env: dict[str, str], cls: type[SecretariatApplication] = SecretariatApplication) -> Any:
    # Cheap Argon2 parameters: hashing happens only when the two users register, outside the timing.
    hasher = Argon2Hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    app = cls(env, hasher=hasher, calendar=BusinessCalendar())
    for actor in (SARA, HANA):
        app.register_user(actor.username, actor.username, sorted(actor.roles), actor=ADMIN)
    return app


def ours_workflow(app: SecretariatApplication) -> Callable[[int], str]:
    def workflow(i: int) -> str:
        task_id = app.create_task(SARA, {"title": f"Task {i}", "assignee": "sara", "due": DUE}).item.id
        app.act("tasks", task_id, "start", SARA, {})
        app.act("tasks", task_id, "submit", SARA, {"result": RESULT})
        return app.act("tasks", task_id, "approve", HANA, {}).item.state

    return workflow


def bare_workflow(app: BareApplication) -> Callable[[int], str]:
    def workflow(i: int) -> str:
        task_id = app.create_task(f"Task {i}", "sara", DUE).id
        app.act(task_id, "start")
        app.act(task_id, "submit", result=RESULT)
        return app.act(task_id, "approve").state

    return workflow


IMPLEMENTATIONS: dict[str, tuple[Callable[[dict[str, str]], Any], Callable[[Any], Callable[[int], str]]]] = {
    "ours": (make_ours, ours_workflow),
    "bare": (BareApplication, bare_workflow),
    "bare+orjson": (BareApplicationWithOrjson, bare_workflow),
    "ours, no snapshot store": (lambda env: make_ours(env, OursWithoutSnapshots), ours_workflow),
}


def time_in_process(impls: list[str], store: Callable[[Path], Iterator[dict[str, str]]], tmp: Path, tasks: int,
                    warmup: int, chunks: int) -> dict[str, float]:
    """Commands per second of each implementation, each on its own fresh store.

    The implementations take turns in `chunks` slices of the `tasks` workflows, so a burst
    of other work on the machine (or a slow patch of fsyncs) falls on all of them alike.
    """
    stores, apps, workflows = [], {}, {}
    try:
        for impl in impls:
            gen = store(tmp)
            stores.append(gen)
            make, workflow_for = IMPLEMENTATIONS[impl]
            apps[impl] = make(next(gen))
            workflows[impl] = workflow_for(apps[impl])
        for impl in impls:
            for i in range(warmup):
                workflows[impl](-1 - i)
        elapsed = dict.fromkeys(impls, 0.0)
        bounds = [tasks * k // chunks for k in range(chunks + 1)]
        for k in range(chunks):
            for impl in (impls if k % 2 == 0 else impls[::-1]):
                workflow = workflows[impl]
                began = time.perf_counter()
                for i in range(bounds[k], bounds[k + 1]):
                    state = workflow(i)
                elapsed[impl] += time.perf_counter() - began
                if state != "done":  # the benchmark itself is wrong, not slow
                    raise RuntimeError(f"{impl}: a task ended in state {state!r}, not 'done'")
        return {impl: tasks * COMMANDS_PER_WORKFLOW / elapsed[impl] for impl in impls}
    finally:
        for app in apps.values():
            app.close()
        for gen in stores:
            gen.close()


@dataclass
class InProcessRow:
    store: str
    rates: dict[str, list[float]] = field(default_factory=dict)
    skipped: str | None = None

    def median(self, impl: str) -> float:
        return statistics.median(self.rates[impl])

    def ratio(self, floor: str = "bare") -> float:
        """Median of the per-run ratios ours/floor (runs pair them in the same time window)."""
        return statistics.median(o / b for o, b in zip(self.rates["ours"], self.rates[floor]))


def bench_in_process(args: argparse.Namespace, tmp: Path) -> list[InProcessRow]:
    impls = ["ours"] + FLOORS + (["ours, no snapshot store"] if args.diagnose else [])
    stores: list[tuple[str, Callable[[Path], Iterator[dict[str, str]]]]] = [("SQLite (file, WAL)", sqlite_store)]
    if not args.skip_postgres:
        stores.append(("PostgreSQL", postgres_store))
    rows = []
    for name, store in stores:
        row = InProcessRow(name, {impl: [] for impl in impls})
        rows.append(row)
        if store is postgres_store:
            row.skipped = postgres_reachable()
            if row.skipped:
                continue
        for run in range(args.runs):
            rates = time_in_process(impls, store, tmp, args.tasks, args.warmup, args.chunks)
            for impl, rate in rates.items():
                row.rates[impl].append(rate)
            log(f"  in process, {name}, run {run + 1}/{args.runs}: "
                + ", ".join(f"{impl} {rate:,.0f}" for impl, rate in rates.items()) + " commands/s")
    return rows


def profile_in_process(args: argparse.Namespace, tmp: Path) -> str:
    """cProfile over ours on SQLite: where a command's time goes."""
    gen = sqlite_store(tmp)
    env = next(gen)
    app = make_ours(env)
    try:
        workflow = ours_workflow(app)
        for i in range(args.warmup):
            workflow(-1 - i)
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(args.tasks):
            workflow(i)
        profiler.disable()
    finally:
        app.close()
        gen.close()
    commands = args.tasks * COMMANDS_PER_WORKFLOW
    return profile_text(profiler, f"cProfile of ours on SQLite: {args.tasks} tasks = {commands} commands")


# The floors ours is compared with: the bare app with the library's transcoder, and with our orjson codec.
FLOORS = ["bare", "bare+orjson"]
GOAL = 0.9


def report_in_process(rows: list[InProcessRow], args: argparse.Namespace) -> str:
    impls = list(rows[0].rates) if rows else []
    headers = (["store"] + [f"{i} cmd/s" for i in impls]
               + [f"ours/{f} (median of run ratios)" for f in FLOORS] + [f"goal {GOAL:.2f}"])
    body, notes = [], []
    for row in rows:
        if row.skipped or not row.rates["ours"]:
            body.append([row.store] + ["-"] * (len(impls) + len(FLOORS) + 1))
            notes.append(f"{row.store}: skipped ({row.skipped})")
            continue
        medians = {i: row.median(i) for i in impls}
        ratios = [row.ratio(f) for f in FLOORS]
        verdict = ", ".join(f"{'met' if r >= GOAL else 'NOT met'} ({f})" for f, r in zip(FLOORS, ratios))
        body.append([row.store] + [f"{medians[i]:,.0f}" for i in impls] + [f"{r:.3f}" for r in ratios] + [verdict])
        notes.append(f"{row.store} runs: " + "; ".join(
            f"{i} " + " / ".join(f"{r:,.0f}" for r in row.rates[i]) for i in impls))
    title = (f"1. In process: one command = load, act, save; a task = {COMMANDS_PER_WORKFLOW} commands "
             f"(create, start, submit, approve); median of {args.runs} runs of {args.tasks} tasks "
             f"({args.tasks * COMMANDS_PER_WORKFLOW} commands) after {args.warmup} warm-up tasks; in each run the "
             f"implementations take turns in {args.chunks} slices, each on its own fresh store")
    return title + "\n\n" + table(headers, body) + "\n\n" + "\n".join(notes)

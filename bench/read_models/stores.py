"""The stores: the application on a store, PostgreSQL's per-run schema, and the generated data.

`generate_history` makes the history by commands, `add_backlog` tops it up (see
workload.make_backlog), and `cached_sqlite` keeps a SQLite store's events file between runs,
keyed by `cache_key`. `History` is what was made and what the view should show.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Callable, Iterator
from uuid import uuid4

from argon2 import PasswordHasher

import workload
from domain.application import SecretariatApplication
from domain.calendar import BusinessCalendar
from secretariat.bootstrap import Argon2Hasher
from shared import log, postgres_reachable, postgres_schema  # noqa: F401 - re-exported
from tests.factories import ADMIN, CAST
from workload import BACKLOG_ITEMS_PER_SAVE, Clock, Commands, Scenario, make_backlog

ROOT = Path(__file__).resolve().parents[2]  # the repository

SCENARIO_VERSION = 1  # the cache key also hashes the generator's code and the domain's, see cache_key


def make_service(env: dict[str, str], clock: Clock) -> SecretariatApplication:
    # Cheap Argon2 parameters: hashing happens only when the cast registers.
    hasher = Argon2Hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return SecretariatApplication(env, hasher=hasher, clock=clock, calendar=BusinessCalendar())


# A fresh schema for this run, dropped afterwards.
postgres_store = contextmanager(postgres_schema)


@contextmanager
def fast_postgres_commits(enabled: bool) -> Iterator[None]:
    """While generating only: this process's new PostgreSQL connections skip waiting for the WAL flush
    (PGOPTIONS, read by libpq at connect). Nothing measured runs on them."""
    before = os.environ.get("PGOPTIONS")
    if enabled:
        os.environ["PGOPTIONS"] = ((before or "") + " -c synchronous_commit=off").strip()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PGOPTIONS", None)
        else:
            os.environ["PGOPTIONS"] = before


class Progress:
    """A line on stderr every few seconds: done/total, rate, time left."""

    def __init__(self, label: str, total: int, every: float = 5.0) -> None:
        self.label, self.total, self.every = label, total, every
        self.done = 0
        self.began = self.last = time.perf_counter()

    def __call__(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            rate = self.done / (now - self.began)
            left = (self.total - self.done) / rate if rate else float("nan")
            log(f"    {self.label}: {self.done:,}/{self.total:,} ({rate:,.0f}/s, about {left:.0f} s left)")

    def finish(self) -> float:
        elapsed = time.perf_counter() - self.began
        log(f"    {self.label}: {self.done:,} in {elapsed:.1f} s ({self.done / elapsed if elapsed else 0:,.0f}/s)")
        return elapsed


@dataclass
class History:
    """What the generator made, and what the view should show afterwards."""

    events: int = 0  # head of the log
    commands: int = 0
    refused: int = 0
    items: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # "collection/state" -> n
    clock: str = ""
    seconds: float = 0.0
    cached: bool = False
    how: str = ""

    def expected(self) -> dict[tuple[str, str], int]:
        return {tuple(k.split("/", 1)): n for k, n in self.counts.items()}


def _book(history: History, scenario: Scenario, service: SecretariatApplication, clock: Clock) -> None:
    history.events = service.recorder.max_notification_id() or 0
    history.items = len(scenario.states)
    history.counts = {f"{c}/{s}": n for (c, s), n in sorted(scenario.expected_counts().items())}
    history.clock = clock.now.isoformat()


def generate_history(env: dict[str, str], events: int, seed: int, fast_pg: bool) -> tuple[History, Scenario]:
    """The cast, then commands until the log holds `events` events."""
    clock = Clock()
    scenario = Scenario(seed, clock, "H")
    history = History(how="commands, one per transaction")
    with fast_postgres_commits(fast_pg and env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"):
        service = make_service(env, clock)
        try:
            for actor in CAST:
                service.register_user(actor.username, actor.username, sorted(actor.roles), party=actor.party,
                                      actor=ADMIN)
            commands = Commands(service, scenario)
            progress = Progress("history (events)", events)
            head = service.recorder.max_notification_id() or 0
            progress(head)
            while head < events:
                position = commands.step()
                history.commands += 1
                if position is None:
                    history.refused += 1
                    continue
                progress(position - head)
                head = position
            history.seconds = progress.finish()
            _book(history, scenario, service, clock)
        finally:
            service.close()
    return history, scenario


def add_backlog(env: dict[str, str], history: History, scenario: Scenario | None, items: int, seed: int,
                fast_pg: bool) -> History:
    """Top the store up to `items` items (see make_backlog)."""
    clock = Clock(datetime.fromisoformat(history.clock))
    if scenario is None:  # the history came from the cache: only its tallies are known
        scenario = Scenario(seed, clock, "H")
        scenario.states = {uuid4(): tuple(k.split("/", 1)) for k, n in history.counts.items() for _ in range(n)}
    backlog_scenario = Scenario(seed + 1, clock, "B")
    backlog_scenario.states = dict(scenario.states)
    todo = max(0, items - len(scenario.states))
    topped = History(how=f"{history.how}; then a backlog of {todo:,} items, {BACKLOG_ITEMS_PER_SAVE} per save",
                     commands=history.commands, refused=history.refused)
    with fast_postgres_commits(fast_pg and env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"):
        service = make_service(env, clock)
        try:
            progress = Progress("backlog (items)", todo)
            make_backlog(service, backlog_scenario, todo, progress)
            topped.seconds = progress.finish()
            _book(topped, backlog_scenario, service, clock)
        finally:
            service.close()
    return topped


def cache_key(kind: str, args: argparse.Namespace) -> str:
    """Changes with the sizes, the seed, the mix and the code that makes or stores events."""
    digest = hashlib.sha256()
    digest.update(f"{SCENARIO_VERSION}/{kind}/{args.events}/{args.items}/{args.seed}/".encode())
    digest.update(version("eventsourcing").encode())
    for path in sorted((ROOT / "domain").glob("*.py")):
        digest.update(path.read_bytes())
    # All of workload.py (the script, its tables and the backlog), and here what makes and tallies the stores.
    for code in (workload, History, _book, generate_history, add_backlog):
        digest.update(inspect.getsource(code).encode())
    return digest.hexdigest()[:16]


def sqlite_files(path: Path) -> list[Path]:
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def cached_sqlite(kind: str, args: argparse.Namespace, target: Path,
                  make: Callable[[dict[str, str]], History]) -> History:
    """Copy the cached events file to `target`, or make it there and cache a copy (events only, no views)."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(target)}
    if args.no_cache:
        return make(env)
    folder = Path(args.cache_dir)
    key = cache_key(kind, args)
    db, meta = folder / f"{kind}-{key}.db", folder / f"{kind}-{key}.json"
    if db.exists() and meta.exists():
        for old in sqlite_files(target):
            old.unlink()
        shutil.copyfile(db, target)
        history = History(**json.loads(meta.read_text()))
        history.cached = True
        log(f"    {kind}: copied from the cache {db} ({history.events:,} events, {history.items:,} items)")
        return history
    history = make(env)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{kind}-{key}.db.partial"
    # The application was closed, so the WAL is checkpointed into the main file.
    shutil.copyfile(target, partial)
    os.replace(partial, db)
    meta.write_text(json.dumps(history.__dict__))
    log(f"    {kind}: cached as {db} (use --no-cache to make it afresh)")
    return history

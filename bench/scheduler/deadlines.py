"""The stores: their URLs and settings, open deadlines made in bulk, and the SQLite cache.

Tasks are made by the domain's own `Task.start_new` (every check of the create action) and
saved `PER_SAVE` per transaction with `service.save(*tasks)`: one command per transaction would
take minutes for 100,000. The SQLite events file is cached under /tmp between runs, keyed by
the sizes, the seed and the code that makes or stores the events (see `cache_key`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import random
import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from domain.application import SecretariatApplication, utc_now
from domain.task import Task
from secretariat.bootstrap import build_application
from secretariat.settings import Settings, event_store_env
from shared import SARA, log

ROOT = Path(__file__).resolve().parents[2]  # the repository
TZ = "Europe/Ljubljana"  # SECRETARIAT_TIMEZONE for every application here
ASSIGNEES = ("sara", "erik", "ana", "marko")  # each task is assigned to one of them, in turn
PER_SAVE = 500  # tasks per service.save, one transaction
DUE_DAYS = (30, 400)  # the bulk deadlines' due dates, days from today: no rung falls due for 23 days
CACHE_MAX_AGE_DAYS = 14  # a cached store's deadlines, made that long ago, are still 16+ days away
CACHE_VERSION = 1


@dataclass
class Store:
    name: str  # "SQLite" or "PostgreSQL"
    url: str  # SECRETARIAT_DATABASE_URL

    @property
    def env(self) -> dict[str, str]:
        """The event store's settings, as `secretariat serve` derives them from the URL."""
        return event_store_env(self.url)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


def sqlite_store(path: Path) -> Store:
    return Store("SQLite", f"sqlite:///{path}")  # an absolute path: sqlite:////tmp/...


def postgres_store(env: dict[str, str]) -> Store:
    """The URL of the schema shared.postgres_schema made (its `POSTGRES_*` settings)."""
    user = quote(env["POSTGRES_USER"], safe="")
    password = f":{quote(env['POSTGRES_PASSWORD'], safe='')}" if env.get("POSTGRES_PASSWORD") else ""
    return Store("PostgreSQL", f"postgresql://{user}{password}@{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/"
                               f"{env['POSTGRES_DBNAME']}?schema={env['POSTGRES_SCHEMA']}")


def settings_for(store: Store, **values: Any) -> Settings:
    return Settings(database_url=store.url, timezone=TZ, **values)


def local_today(service: SecretariatApplication) -> date:
    return utc_now().astimezone(service.tz).date()


class Progress:
    """A line on stderr every few seconds: done/total and the rate."""

    def __init__(self, label: str, total: int, every: float = 5.0) -> None:
        self.label, self.total, self.every = label, total, every
        self.done = 0
        self.began = self.last = time.perf_counter()

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            log(f"    {self.label}: {self.done:,}/{self.total:,} ({self.done / (now - self.began):,.0f}/s)")

    def finish(self) -> float:
        elapsed = time.perf_counter() - self.began
        log(f"    {self.label}: {self.done:,} in {elapsed:.1f} s ({self.done / elapsed if elapsed else 0:,.0f}/s)")
        return elapsed


def save_tasks(service: SecretariatApplication, count: int, due: Callable[[int], date], title: str,
               progress: Callable[[int], None] | None = None) -> list[str]:
    """`count` open tasks created by sara (secretariat), each assigned to someone, saved PER_SAVE per transaction."""
    ids, pending = [], []
    for n in range(count):
        values = {"title": f"{title} {n}", "assignee": ASSIGNEES[n % len(ASSIGNEES)], "due": due(n)}
        pending.append(Task.start_new(SARA, values, now=service.clock()))
        if len(pending) == PER_SAVE or n == count - 1:
            service.save(*pending)
            ids += [str(task.id) for task in pending]
            if progress:
                progress(len(pending))
            pending = []
    return ids


@dataclass
class Made:
    """The bulk deadlines in a store."""

    deadlines: int
    events: int  # head of the log afterwards
    made_on: str  # local date they were made relative to
    seconds: float = 0.0
    cached: bool = False


def make_deadlines(store: Store, count: int, seed: int) -> Made:
    """`count` open tasks due 30–400 days from today (local), so that no rung of theirs is due."""
    service = build_application(settings_for(store))
    try:
        rng = random.Random(seed)
        today = local_today(service)
        progress = Progress("open deadlines (tasks)", count)
        save_tasks(service, count, lambda _n: today + timedelta(days=rng.randint(*DUE_DAYS)), "Deadline", progress)
        seconds = progress.finish()
        return Made(count, service.recorder.max_notification_id() or 0, today.isoformat(), seconds)
    finally:
        service.close()


def cache_key(count: int, seed: int) -> str:
    """Changes with the size, the seed and the code that makes or stores the events."""
    digest = hashlib.sha256(f"{CACHE_VERSION}/{count}/{seed}/{version('eventsourcing')}/".encode())
    for path in sorted((ROOT / "domain").glob("*.py")):
        digest.update(path.read_bytes())
    for code in (save_tasks, make_deadlines, Made):
        digest.update(inspect.getsource(code).encode())
    digest.update(repr((TZ, ASSIGNEES, PER_SAVE, DUE_DAYS)).encode())
    return digest.hexdigest()[:16]


def cached_deadlines(store: Store, count: int, seed: int, cache_dir: str | None) -> Made:
    """Copy the cached events file into the store's file, or make it there and cache a copy (events only)."""
    target = Path(store.env["SQLITE_DBNAME"])
    if cache_dir is None:
        return make_deadlines(store, count, seed)
    folder = Path(cache_dir)
    key = cache_key(count, seed)
    name = f"deadlines-{count}-{key}"
    db, meta = folder / f"{name}.db", folder / f"{name}.json"
    if db.exists() and meta.exists():
        made = Made(**json.loads(meta.read_text()))
        age = (datetime.now().date() - date.fromisoformat(made.made_on)).days
        if age <= CACHE_MAX_AGE_DAYS:
            shutil.copyfile(db, target)
            made.cached = True
            log(f"    copied from the cache {db} ({made.deadlines:,} deadlines made {made.made_on})")
            return made
        log(f"    the cached store is {age} days old (its deadlines are nearer than {DUE_DAYS[0]} days): "
            "made afresh")
    made = make_deadlines(store, count, seed)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"deadlines-{count}-*"):  # this size's store for older code: ~40 MB per 100,000
        old.unlink()
    partial = folder / f"{name}.db.partial"
    shutil.copyfile(target, partial)  # the application was closed, so the WAL is checkpointed into the file
    os.replace(partial, db)
    meta.write_text(json.dumps(made.__dict__))
    log(f"    cached as {db} (--no-cache makes it afresh)")
    return made

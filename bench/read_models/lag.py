"""Part 2: the view's lag behind a steady write load, with `runner.follow` in another thread.

A separate watcher process (`WATCHER`, run by `Watcher`) polls the view's position, so the
polling takes no GIL time from the writer or the follower it measures.
"""

from __future__ import annotations

import argparse
import bisect
import json
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime

from projections import tracking
from secretariat.bootstrap import build_projections
from shared import log
from stores import History, Progress, make_service
from workload import Clock, Commands, Scenario

# The lag watcher runs in its own process, so that its polling takes no GIL time from the writer and
# the follower it measures. time.perf_counter is CLOCK_MONOTONIC on Linux, the same clock in every
# process, so its poll times compare with the writer's save times. It polls in autocommit (each
# SELECT a fresh snapshot; on SQLite a read-only connection), until its stdin says stop.
WATCHER = r"""
import json, select, sys, time
config = json.loads(sys.argv[1])
if config["kind"] == "sqlite":
    import sqlite3
    conn = sqlite3.connect("file:" + config["path"] + "?mode=ro", uri=True, isolation_level=None)
    query, params = "SELECT position FROM projection_tracking WHERE view = ?", (config["view"],)
else:
    import psycopg
    conn = psycopg.connect(autocommit=True, **config["connect"])
    query, params = ("SELECT position FROM " + config["schema"] + ".projection_tracking WHERE view = %s",
                     (config["view"],))
interval = config["interval"]
times, positions = [], []
print("ready", flush=True)
while True:
    row = conn.execute(query, params).fetchone()
    times.append(time.perf_counter())
    positions.append(row[0] if row else 0)
    if select.select([sys.stdin], [], [], interval)[0]:
        break
json.dump({"t": times, "p": positions}, sys.stdout)
"""


class Watcher:
    """The lag watcher's process: start(), then stop() returns its (poll times, positions)."""

    def __init__(self, env: dict[str, str], view: str, interval: float) -> None:
        if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
            config = {"kind": "sqlite", "path": env["SQLITE_DBNAME"]}
        else:
            config = {"kind": "postgres", "schema": env["POSTGRES_SCHEMA"], "connect": {
                "host": env["POSTGRES_HOST"], "port": int(env["POSTGRES_PORT"]), "user": env["POSTGRES_USER"],
                "dbname": env["POSTGRES_DBNAME"], "password": env.get("POSTGRES_PASSWORD") or None}}
        config.update(view=view, interval=interval)
        self.proc = subprocess.Popen([sys.executable, "-c", WATCHER, json.dumps(config)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the lag watcher did not start (exit code {self.proc.poll()})")

    def stop(self) -> tuple[list[float], list[int]]:
        try:
            out, _ = self.proc.communicate("stop\n", timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # the child this object started
            self.proc.communicate()
            raise
        data = json.loads(out)
        return data["t"], data["p"]


@dataclass
class LagResult:
    commands: int = 0
    refused: int = 0
    seconds: float = 0.0
    lag_s: list[float] = field(default_factory=list)
    lag_events: list[int] = field(default_factory=list)
    command_s: list[float] = field(default_factory=list)
    unseen: int = 0
    batches: int = 0
    events: int = 0
    late_starts: int = 0
    polls: int = 0
    busy: float = 0.0  # seconds the follower spent in batches during the load

    @property
    def rate(self) -> float:
        return self.commands / self.seconds if self.seconds else 0.0


def bench_lag(env: dict[str, str], history: History, args: argparse.Namespace, *, follow: bool = True) -> LagResult:
    """The write load with the follower (lag), or without it (--diagnose: the writer's own baseline)."""
    clock = Clock(datetime.fromisoformat(history.clock))
    service = make_service(env, clock)
    read_models, runner = build_projections(service, env)  # wires service.on_recorded -> runner.wake()
    projection = runner.projections[0]
    saves: list[tuple[float, int]] = []  # (perf_counter at the save, its last event's position)
    service.on_recorded.append(lambda position: saves.append((time.perf_counter(), position)))
    polls_t: list[float] = []
    polls_pos: list[int] = []
    stop_follow = threading.Event()
    follower: threading.Thread | None = None
    watcher: Watcher | None = None
    result = LagResult()
    # Its own seed and tag (mandate references are unique per store), whichever run this is.
    scenario = Scenario(args.seed + (2 if follow else 3), clock, "L" if follow else "W", in_flight=100)
    commands = Commands(service, scenario)
    batches0 = events0 = 0
    busy0 = 0.0
    try:
        runner.catch_up(projection)
        for _ in range(20):  # warm-up, untimed: loads, statement caches
            commands.step()
        runner.catch_up(projection)
        saves.clear()
        stats_before = runner.stats.get(projection.name)
        batches0 = stats_before.batches if stats_before else 0
        events0 = stats_before.events if stats_before else 0
        busy0 = stats_before.total_batch_seconds if stats_before else 0.0
        if follow:
            watcher = Watcher(env, projection.name, args.poll_ms / 1000)
            follower = threading.Thread(target=runner.follow, args=(stop_follow,), name="projections", daemon=True)
            follower.start()
        time.sleep(0.5)
        total = int(args.rate * args.lag_seconds)
        progress = Progress("commands at a steady rate", total)
        began = time.perf_counter()
        for i in range(total):
            due = began + i / args.rate
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            elif now - due > 0.05:
                result.late_starts += 1
            t0 = time.perf_counter()
            position = commands.step()
            result.command_s.append(time.perf_counter() - t0)
            if position is None:
                result.refused += 1
            progress()
        result.seconds = time.perf_counter() - began
        result.commands = total
        progress.finish()
        last = max((p for _, p in saves), default=0) if follow else 0
        deadline = time.monotonic() + 60
        with read_models.engine.connect() as conn:  # a reader: never takes SQLite's write lock
            while time.monotonic() < deadline:
                if tracking.position_of(conn, projection.name) >= last:
                    break
                conn.rollback()
                time.sleep(0.01)
        time.sleep(0.05)
    finally:
        if watcher is not None:
            try:
                polls_t, polls_pos = watcher.stop()
            except Exception:  # noqa: BLE001 - no polls: every save counts as never seen
                log(traceback.format_exc())
        stop_follow.set()
        if follower is not None:
            follower.join(timeout=10)
        stats = runner.stats.get(projection.name)
        if stats:
            result.batches, result.events = stats.batches - batches0, stats.events - events0
            result.busy = stats.total_batch_seconds - busy0
        runner.engine.dispose()
        read_models.engine.dispose()
        service.close()
    result.polls = len(polls_t)
    if not follow:
        return result
    for saved_at, position in saves:
        index = bisect.bisect_left(polls_pos, position)
        seen = next((polls_t[j] for j in range(index, len(polls_t)) if polls_t[j] >= saved_at), None)
        if seen is None:
            result.unseen += 1
            continue
        result.lag_s.append(max(0.0, seen - saved_at))
        before = bisect.bisect_right(polls_t, saved_at) - 1
        result.lag_events.append(max(0, position - (polls_pos[before] if before >= 0 else 0)))
    return result

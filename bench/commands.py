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
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator
from uuid import uuid4

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
for path in (str(ROOT), str(BENCH_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

from argon2 import PasswordHasher  # noqa: E402

from bare_http_app import BareApplication  # noqa: E402
from domain.actor import Actor  # noqa: E402
from domain.application import SecretariatApplication  # noqa: E402
from domain.calendar import BusinessCalendar  # noqa: E402
from secretariat.bootstrap import Argon2Hasher  # noqa: E402

# The demo cast's secretariat officer and head, as in tests/factories.py.
SARA = Actor("sara", frozenset({"secretariat"}))
HANA = Actor("hana", frozenset({"head"}))
ADMIN = Actor("admin", frozenset({"admin"}))  # registers the two users

DUE = date(2026, 12, 15)
RESULT = "A catalogue of the bilateral agreements between the Contracting Parties."
COMMANDS_PER_WORKFLOW = 4  # create, start, submit, approve

POSTGRES = {
    "host": os.environ.get("BENCH_POSTGRES_HOST", "127.0.0.1"),
    "port": int(os.environ.get("BENCH_POSTGRES_PORT", "5432")),
    "user": os.environ.get("BENCH_POSTGRES_USER", "postgres"),
    "dbname": os.environ.get("BENCH_POSTGRES_DBNAME", "test"),
}


# --------------------------------------------------------------------------- in process


def sqlite_store(tmp: Path) -> Iterator[dict[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix="store-", dir=tmp))
    try:
        yield {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "events.db")}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def postgres_store(tmp: Path) -> Iterator[dict[str, str]]:
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


def postgres_reachable() -> str | None:
    """None if PostgreSQL answers, else why not."""
    try:
        import psycopg

        psycopg.connect(connect_timeout=3, **POSTGRES).close()
    except Exception as error:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    return None


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

    def ratio(self) -> float:
        """Median of the per-run ratios ours/bare (runs pair them in the same time window)."""
        return statistics.median(o / b for o, b in zip(self.rates["ours"], self.rates["bare"]))


def bench_in_process(args: argparse.Namespace, tmp: Path) -> list[InProcessRow]:
    impls = ["ours", "bare"] + (["ours, no snapshot store"] if args.diagnose else [])
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
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    commands = args.tasks * COMMANDS_PER_WORKFLOW
    out.write(f"cProfile of ours on SQLite: {args.tasks} tasks = {commands} commands\n")
    out.write("\n-- by cumulative time --\n")
    stats.sort_stats("cumulative").print_stats(30)
    out.write("\n-- by own time --\n")
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


# --------------------------------------------------------------------------- over HTTP


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and all its live descendants (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


class Server:
    """A server subprocess of ours or of the bare app, on a fresh SQLite file in its own folder."""

    def __init__(self, kind: str, tmp: Path, workers: int = 1) -> None:
        self.kind, self.workers = kind, workers
        self.folder = Path(tempfile.mkdtemp(prefix=f"http-{kind}-", dir=tmp))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = self.folder / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ)
        if self.kind == "ours":
            env.update(SECRETARIAT_DATABASE_URL=f"sqlite:///{self.folder / 'bench.db'}",
                       SECRETARIAT_SECRET_KEY=secrets.token_urlsafe(36)[:48])
            cli = _secretariat_command()
            demo = subprocess.run([*cli, "demo"], env=env, cwd=self.folder, capture_output=True, text=True,
                                  timeout=180)
            if demo.returncode != 0:
                raise RuntimeError(f"`secretariat demo` failed ({demo.returncode}):\n{demo.stderr[-2000:]}")
            command = [*cli, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                       "--workers", str(self.workers)]
        else:
            env.update(BARE_SQLITE_DBNAME=str(self.folder / "bare.db"))
            command = [sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH_DIR), "bare_http_app:app",
                       "--host", "127.0.0.1", "--port", str(self.port), "--loop", "uvloop", "--http", "httptools",
                       "--workers", str(self.workers), "--no-access-log", "--log-level", "warning"]
        with open(self.log_path, "wb") as log_file:
            self.proc = subprocess.Popen(command, env=env, cwd=self.folder, stdout=log_file,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.kind} server did not answer /health in {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # uvicorn's supervisor stops its own workers on SIGTERM
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)  # the session this script started for it, and only that
            self.proc.wait(timeout=5)

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.proc.pid) if self.proc else 0.0


def _secretariat_command() -> list[str]:
    script = Path(sys.executable).parent / "secretariat"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from secretariat.cli import main; main()"]


@dataclass
class HttpResult:
    label: str
    workers: int
    clients: int
    commands: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.commands / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def sign_in(base: str, username: str) -> dict[str, str]:
    import httpx

    response = httpx.post(f"{base}/auth/token", data={"username": username, "password": username}, timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def drive(server: Server, label: str, sara: dict[str, str], hana: dict[str, str], *, clients: int,
          workflows: int, seconds: float) -> HttpResult:
    """`clients` closed-loop threads run task workflows until `workflows` are started or `seconds` pass."""
    import httpx

    result = HttpResult(label, server.workers, clients)
    lock = threading.Lock()
    issued = [0]
    deadline = [0.0]
    barrier = threading.Barrier(clients + 1)
    per_thread: list[list[float]] = [[] for _ in range(clients)]
    done = [0] * clients
    errors: list[str] = []

    def worker(index: int) -> None:
        latencies = per_thread[index]
        with httpx.Client(base_url=server.base, timeout=15.0) as client:
            client.get("/health")  # open the keep-alive connection before the clock starts
            barrier.wait()
            while True:
                with lock:
                    if issued[0] >= workflows or time.perf_counter() > deadline[0]:
                        return
                    issued[0] += 1
                    n = issued[0]
                steps = [("/tasks", {"title": f"Task {n}", "assignee": "sara", "due": DUE.isoformat()}, sara, 201),
                         ("/tasks/{id}/start", None, sara, 200),
                         ("/tasks/{id}/submit", {"result": RESULT}, sara, 200),
                         ("/tasks/{id}/approve", None, hana, 200)]
                task_id = ""
                for url, body, headers, expected in steps:
                    began = time.perf_counter()
                    try:
                        response = client.post(url.format(id=task_id), json=body, headers=headers)
                        status, text = response.status_code, response.text
                    except httpx.HTTPError as error:
                        status, text = 0, repr(error)
                    latencies.append(time.perf_counter() - began)
                    if status != expected:
                        with lock:
                            errors.append(f"{url} -> {status}: {text[:300]}")
                        break
                    done[index] += 1
                    if not task_id:
                        task_id = response.json()["id"]

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    cpu_server, cpu_client = server.cpu_seconds(), time.process_time()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=seconds + 4 * 15 + 30)
    result.elapsed = time.perf_counter() - began
    result.server_cpu = server.cpu_seconds() - cpu_server
    result.client_cpu = time.process_time() - cpu_client
    result.latencies = [x for lat in per_thread for x in lat]
    result.commands = sum(done)
    result.errors = len(errors)
    result.first_error = errors[0] if errors else ""
    return result


def merge(parts: list[HttpResult]) -> HttpResult:
    """One result from several rounds against the same server."""
    first = parts[0]
    merged = HttpResult(first.label, first.workers, first.clients)
    for part in parts:
        merged.commands += part.commands
        merged.errors += part.errors
        merged.elapsed += part.elapsed
        merged.latencies += part.latencies
        merged.server_cpu += part.server_cpu
        merged.client_cpu += part.client_cpu
        merged.first_error = merged.first_error or part.first_error
    return merged


def bench_http(args: argparse.Namespace, tmp: Path) -> tuple[list[HttpResult], dict[tuple[str, int], float]]:
    """All three servers run at once (idle ones cost nothing); the loaded runs take turns in rounds,
    so other work on the machine falls on each of them alike."""
    scenarios = [("bare FastAPI", "bare", 1), ("ours", "ours", 1), ("ours", "ours", 2)]
    servers: list[tuple[str, Server, dict[str, str], dict[str, str]]] = []
    cold: dict[tuple[str, int], float] = {}
    probes: dict[tuple[str, int], HttpResult] = {}
    rounds: dict[tuple[str, int], list[HttpResult]] = {}
    try:
        for label, kind, workers in scenarios:
            server = Server(kind, tmp, workers)
            servers.append((label, server, {}, {}))
            log(f"  HTTP: starting {label} ({workers} worker{'s' * (workers > 1)}) on {server.base} ...")
            server.start()
            if kind == "ours":
                servers[-1] = (label, server, sign_in(server.base, "sara"), sign_in(server.base, "hana"))
        for label, server, sara, hana in servers:
            key = (label, server.workers)
            # Warm-up, untimed: the first requests after start pay one-off costs (each worker its own);
            # the slowest of them is reported as the cold start.
            warm = drive(server, label, sara, hana, clients=2 * server.workers, workflows=4 * server.workers,
                         seconds=30)
            cold[key] = max(warm.latencies or [float("nan")]) * 1000
            probes[key] = drive(server, label, sara, hana, clients=1, workflows=args.probe_workflows, seconds=10)
            rounds[key] = []
        for n in range(args.rounds):
            share = [args.http_workflows * (n + 1) // args.rounds - args.http_workflows * n // args.rounds]
            for label, server, sara, hana in (servers if n % 2 == 0 else servers[::-1]):
                part = drive(server, label, sara, hana, clients=args.clients, workflows=share[0],
                             seconds=args.http_seconds / args.rounds)
                rounds[(label, server.workers)].append(part)
                log(f"  HTTP: round {n + 1}/{args.rounds}, {label}, {server.workers} worker(s): "
                    f"{part.rate:,.0f} commands/s, p50 {part.pct(0.5):.1f} ms, p99 {part.pct(0.99):.1f} ms, "
                    f"errors {part.errors}" + (f" (first: {part.first_error})" if part.errors else ""))
    finally:
        for label, server, _, _ in servers:
            server.stop()
            parts = rounds.get((label, server.workers), [])
            if any(part.errors for part in parts):
                log(f"  HTTP: {label}, {server.workers} worker(s) answered with errors; its log ends:\n"
                    + server.log_tail())
    results = []
    for key in rounds:
        results += [probes[key], merge(rounds[key])]
    return results, cold


# --------------------------------------------------------------------------- report


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]
    line = lambda cells: "  ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def report_in_process(rows: list[InProcessRow], args: argparse.Namespace) -> str:
    impls = list(rows[0].rates) if rows else []
    headers = ["store"] + [f"{i} cmd/s" for i in impls] + ["ours/bare (median of run ratios)", "goal 0.80"]
    body, notes = [], []
    for row in rows:
        if row.skipped or not row.rates["ours"]:
            body.append([row.store] + ["-"] * (len(impls) + 2))
            notes.append(f"{row.store}: skipped ({row.skipped})")
            continue
        medians = {i: row.median(i) for i in impls}
        ratio = row.ratio()
        body.append([row.store] + [f"{medians[i]:,.0f}" for i in impls]
                    + [f"{ratio:.3f}", "met" if ratio >= 0.8 else "NOT met"])
        notes.append(f"{row.store} runs: " + "; ".join(
            f"{i} " + " / ".join(f"{r:,.0f}" for r in row.rates[i]) for i in impls))
    title = (f"1. In process: one command = load, act, save; a task = {COMMANDS_PER_WORKFLOW} commands "
             f"(create, start, submit, approve); median of {args.runs} runs of {args.tasks} tasks "
             f"({args.tasks * COMMANDS_PER_WORKFLOW} commands) after {args.warmup} warm-up tasks; in each run the "
             f"implementations take turns in {args.chunks} slices, each on its own fresh store")
    return title + "\n\n" + table(headers, body) + "\n\n" + "\n".join(notes)


def report_http(results: list[HttpResult], cold: dict[tuple[str, int], float], args: argparse.Namespace) -> str:
    headers = ["server", "workers", "clients", "commands", "secs", "cmd/s", "p50 ms", "p99 ms", "max ms", "errors",
               "server CPU ms/cmd", "client CPU ms/cmd"]
    body = []
    for r in results:
        per = (lambda cpu: f"{cpu * 1000 / r.commands:.2f}" if r.commands else "-")
        body.append([r.label, r.workers, r.clients, r.commands, f"{r.elapsed:.1f}", f"{r.rate:,.0f}",
                     f"{r.pct(0.5):.1f}", f"{r.pct(0.99):.1f}", f"{max(r.latencies or [0]) * 1000:.1f}", r.errors,
                     per(r.server_cpu), per(r.client_cpu)])
    lines = [f"2. HTTP on SQLite: uvicorn (httptools, uvloop) on 127.0.0.1; closed-loop client threads, one keep-alive "
             f"httpx.Client each; per server at most {args.http_workflows} workflows or {args.http_seconds:.0f} s "
             f"under load, in {args.rounds} rounds taken in turns with the other servers (1-client probe: at most "
             f"{args.probe_workflows} workflows); a command is one POST", "",
             table(headers, body), ""]
    lines.append("cold start (slowest request of the untimed warm-up right after the server answers /health): "
                 + "; ".join(f"{label}, {w} worker(s) {ms:.0f} ms" for (label, w), ms in cold.items()))
    by = {(r.label, r.workers, r.clients): r for r in results}
    bare, ours = by.get(("bare FastAPI", 1, args.clients)), by.get(("ours", 1, args.clients))
    if bare and ours and bare.rate and ours.rate:
        lines.append(f"ratio ours/bare, 1 worker, {args.clients} clients: commands/s {ours.rate / bare.rate:.2f}; "
                     f"p50 {ours.pct(0.5) / bare.pct(0.5):.2f}x; p99 {ours.pct(0.99) / bare.pct(0.99):.2f}x")
    for workers in (1, 2):
        r = by.get(("ours", workers, args.clients))
        if r and r.latencies:
            verdict = "met" if r.pct(0.99) <= 50 else "NOT met"
            lines.append(f"goal p99 <= 50 ms, ours with {workers} worker(s), {args.clients} clients: "
                         f"p99 = {r.pct(0.99):.1f} ms -> {verdict}")
    lines.append("Nagle/delayed-ACK check (a 40 ms stall shows as ~40 ms latency even with one client; "
                 "queueing shows as p50 ~ clients / (commands/s), Little's law):")
    for r in results:
        if r.clients == 1 or not r.rate:
            continue
        probe = by.get((r.label, r.workers, 1))
        unloaded = probe.pct(0.5) if probe else float("nan")
        little = r.clients / r.rate * 1000
        near40 = 30 <= r.pct(0.5) <= 50
        stall = unloaded >= 30
        if stall:
            why = "UNLOADED latency is ~40 ms: looks like a Nagle/delayed-ACK stall"
        elif near40:
            why = "p50 sits near 40 ms, but the 1-client p50 is well under 30 ms and Little's law accounts for it: queueing, not Nagle"
        else:
            why = "no sign of a 40 ms stall"
        lines.append(f"  {r.label}, {r.workers} worker(s): 1-client p50 {unloaded:.1f} ms; {r.clients}-client p50 "
                     f"{r.pct(0.5):.1f} ms vs clients/rate {little:.1f} ms -> {why}")
    return "\n".join(lines)


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


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
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of ours on SQLite over --tasks task workflows")
    args = parser.parse_args(argv)
    quick = args.quick
    args.tasks = args.tasks or (60 if quick else 400)
    args.http_workflows = args.http_workflows or (150 if quick else 1000)
    args.http_seconds = args.http_seconds or (8.0 if quick else 30.0)
    args.probe_workflows = args.probe_workflows or (15 if quick else 50)
    for name in ("tasks", "runs", "chunks", "rounds", "http_workflows", "clients", "probe_workflows"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or args.http_seconds <= 0 or args.http_seconds > 300:
        parser.error("--warmup must be >= 0 and --http-seconds in (0, 300]")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    load_before = _load_average()
    failed = False
    sections = []
    with tempfile.TemporaryDirectory(prefix="secretariat-bench-") as tmp_name:
        tmp = Path(tmp_name)
        parts = [("1. In process", lambda: report_in_process(bench_in_process(args, tmp), args), args.skip_in_process),
                 ("2. HTTP", lambda: report_http(*bench_http(args, tmp), args), args.skip_http),
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
              f"{_load_average()} (other work on the machine makes every figure noisier)")
    print("\n" + header + "\n\n" + "\n\n".join(sections) + "\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

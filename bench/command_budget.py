"""The HTTP command path's server CPU per command, by part: `bench/commands.py --budget`.

Each server (ours, built by `secretariat.server.api_from_settings` as `secretariat serve` builds it
after `secretariat demo`; and the bare FastAPI app) runs in this process on uvicorn (uvloop,
httptools) in a thread. One client in a subprocess of its own runs the task workflow
(create, start, submit, approve) one request at a time over a keep-alive connection, so that
no client CPU lands in this process and one request is in flight at a time.

Functions of each part are wrapped with a timer of the calling thread's CPU time
(`time.thread_time`). A part's time is exclusive: a part called inside another counts for the
inner one only (the user loaded by auth is auth's; the item loaded by the command is the load's).
What a thread spends outside any wrapped part counts for that thread's role: uvicorn's
thread (HTTP parsing, sockets, the event loop), AnyIO's worker threads (the hop of a sync route
or dependency into the pool), the projection follower's thread, the scheduler's threads. The
total is the process's CPU time (`time.process_time`) plus that of any child process, so what a
thread that ended meanwhile spent is still counted ("unattributed").

The wrappers cost a few microseconds per call, counted in the parts they wrap.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from budget_client import CLIENT
from budget_timing import PartClock, Wrapping
from http_servers import _secretariat_command, free_port, tree_cpu_seconds
from shared import BENCH_DIR, COMMANDS_PER_WORKFLOW, DUE, RESULT, log, table

ROOT = BENCH_DIR.parent

# The parts of the budget, in the order the table shows them, and what each one's wrapped code is.
PARTS = [
    ("uvicorn", "uvicorn's thread outside the app: HTTP parsing, sockets, the event loop"),
    ("middleware", "ASGI middleware: Starlette's error and exception layers, the request limiter, HEAD"),
    ("routing", "finding the route (the router's match over every route)"),
    ("dependencies", "FastAPI's request handler and dependency solving, outside the parts below"),
    ("thread pool", "AnyIO worker threads outside the parts below: the hop of sync routes and dependencies"),
    ("validation", "JSON body parsing, pydantic validation of the body, path, query and headers"),
    ("auth", "the bearer token's check and the user's roles (actor lookup)"),
    ("load", "loading the item (and users a field names, the calendar)"),
    ("act", "the domain's action: checks, the event, apply"),
    ("save", "saving: the events' encoding and the INSERTs, commit, listeners"),
    ("idempotency", "the request's fingerprint and the idempotency record lookup"),
    ("response", "the item's document (allowed actions, deadlines) and its JSON encoding"),
    ("projection follower", "the follower thread: reading new events and updating the views"),
    ("scheduler", "the reminder scheduler's threads"),
    ("other threads", "any other thread of the process"),
    ("child processes", "processes the server started (a follower or scheduler process of their own)"),
    ("unattributed", "process CPU not in any live thread's count (threads that ended during the run)"),
]


def _wrap_framework(wrapping: Wrapping, app: Any) -> None:
    """The parts every FastAPI app has: middleware, routing, the handler, validation."""
    import fastapi.dependencies.utils as fastapi_deps
    import fastapi.routing as fastapi_routing
    import starlette.applications
    from starlette.requests import Request

    wrapping.wrap(starlette.applications.Starlette, "__call__", "middleware", http_only=True)
    wrapping.wrap_router(app)
    wrapping.wrap(fastapi_routing.APIRoute, "handle", "dependencies")
    wrapping.wrap(Request, "json", "validation")
    wrapping.wrap(fastapi_deps, "request_body_to_args", "validation")
    wrapping.wrap(fastapi_deps, "request_params_to_args", "validation")
    wrapping.wrap(fastapi_routing, "serialize_response", "response")


def _wrap_ours(wrapping: Wrapping) -> None:
    import api.items
    import api.rendering
    from api.limits import RequestLimiter
    from api.methods import HeadAsGet
    from api.tokens import TokenIssuer
    from domain.application import SecretariatApplication
    from domain.item import WorkflowItem
    from domain.reading import ItemReading
    from domain.user_admin import UserAdministration
    from eventsourcing.application import Application

    wrapping.wrap(RequestLimiter, "__call__", "middleware", http_only=True)
    wrapping.wrap(HeadAsGet, "__call__", "middleware", http_only=True)
    wrapping.wrap(TokenIssuer, "holder_of", "auth")
    wrapping.wrap(UserAdministration, "actor_holding", "auth")
    wrapping.wrap(ItemReading, "visible_item", "load")
    wrapping.wrap(SecretariatApplication, "_check_references", "load")
    wrapping.wrap(SecretariatApplication, "_linked", "load")
    wrapping.wrap(SecretariatApplication, "business_calendar", "load")
    wrapping.wrap(WorkflowItem, "act", "act")
    wrapping.wrap(WorkflowItem, "start_new", "act")
    wrapping.wrap(Application, "save", "save")
    wrapping.wrap(SecretariatApplication, "_replay", "idempotency")
    wrapping.wrap(api.items, "_fingerprint", "idempotency")
    wrapping.wrap(api.items, "_values", "validation")
    wrapping.wrap(api.rendering, "item_document", "response")
    wrapping.wrap(api.rendering.JSON, "render", "response")


def _wrap_bare(wrapping: Wrapping) -> None:
    from eventsourcing.application import Application, Repository
    from bare_http_app import BareApplication

    wrapping.wrap(Repository, "get", "load")
    wrapping.wrap(BareApplication, "create_task", "act")
    wrapping.wrap(BareApplication, "act", "act")
    wrapping.wrap(Application, "save", "save")


def _thread_role(thread: threading.Thread, server_thread: threading.Thread) -> str:
    if thread is server_thread:
        return "uvicorn"
    name = thread.name
    if name.startswith("AnyIO worker"):
        return "thread pool"
    if name == "projections":
        return "projection follower"
    if name.startswith(("APScheduler", "ThreadPoolExecutor")):
        return "scheduler"
    if thread is threading.main_thread():
        return "bench (waiting)"
    return "other threads"


def _thread_cpu() -> dict[int, tuple[threading.Thread, float]]:
    cpu = {}
    for thread in threading.enumerate():
        try:
            cpu[thread.ident] = (thread, time.clock_gettime(time.pthread_getcpuclockid(thread.ident)))
        except (OSError, TypeError):
            pass  # ended meanwhile
    return cpu


@dataclass
class Budget:
    label: str
    commands: int = 0
    elapsed: float = 0.0
    total: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)
    errors: str = ""

    def per_command_ms(self, part: str) -> float:
        return self.parts.get(part, 0.0) * 1000 / self.commands if self.commands else float("nan")


class InProcessServer:
    """An ASGI app on uvicorn (uvloop, httptools) in a thread of this process."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, loop="uvloop", http="httptools",
                                lifespan="on", access_log=False, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)
        self.on_exit: list[Callable[[], None]] = []

    def __enter__(self) -> "InProcessServer":
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the in-process uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        for callback in self.on_exit:
            callback()


def measure(label: str, kind: str, build: Callable[[], Any], wrap: Callable[[Wrapping], None], *,
            warmup: int, workflows: int, clients: int = 1) -> Budget:
    """One server's budget over `workflows` task workflows after `warmup` untimed ones."""
    clock = PartClock()
    wrapping = Wrapping(clock)
    budget = Budget(label)
    app = build()
    try:
        _wrap_framework(wrapping, app)
        wrap(wrapping)
        with InProcessServer(app) as server:
            if kind == "ours" and not any(t.name == "projections" for t in threading.enumerate()) \
                    and not _children():
                _follow_here(app, server)  # serve runs the follower elsewhere now: run it here to count it
            client = subprocess.Popen(
                [sys.executable, "-c", CLIENT, str(server.port), kind, str(warmup), str(workflows), str(clients),
                 DUE.isoformat(), RESULT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                if client.stdout.readline().strip() != "ready":
                    raise RuntimeError(f"the budget's client failed in its warm-up: {client.stderr.read()[-2000:]}")
                threads_before, process_before = _thread_cpu(), time.process_time()
                children_before = _children_cpu(client.pid)
                clock.on = True
                began = time.perf_counter()
                client.stdin.write("go\n")
                client.stdin.flush()
                finished = client.stdout.readline().strip() == "done"
                budget.elapsed = time.perf_counter() - began
                clock.on = False
                threads_after, process_after = _thread_cpu(), time.process_time()
                children_after = _children_cpu(client.pid)
                if not finished:
                    raise RuntimeError(f"the budget's client failed: {client.stderr.read()[-2000:]}")
            finally:
                client.kill() if client.poll() is None else None
                client.wait()
    finally:
        wrapping.undo()
    budget.commands = workflows * COMMANDS_PER_WORKFLOW
    parts: dict[str, float] = defaultdict(float, clock.totals)
    counted = 0.0
    for ident, (thread, after) in threads_after.items():
        spent = after - threads_before.get(ident, (thread, 0.0))[1]
        role = _thread_role(thread, server.thread)
        parts[role] += max(0.0, spent - clock.per_thread.get(ident, 0.0))
        counted += spent
    process = process_after - process_before
    parts["unattributed"] += max(0.0, process - counted)
    parts["child processes"] += children_after - children_before
    parts.pop("bench (waiting)", None)
    budget.total = sum(parts.values())
    budget.parts = dict(parts)
    return budget


def _children() -> list[int]:
    """This process's child processes, whichever of its threads started them."""
    children = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            children += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass  # the thread ended meanwhile
    return children


def _children_cpu(client: int) -> float:
    """CPU of the server's child processes (this process's, but for the client's)."""
    return sum(tree_cpu_seconds(child) for child in _children() if child != client)


def _follow_here(app: Any, server: InProcessServer) -> None:
    runner = app.state.runner
    stop = threading.Event()
    thread = threading.Thread(target=runner.follow, args=(stop,), name="projections", daemon=True)
    thread.start()

    def stop_following() -> None:
        stop.set()
        thread.join(timeout=5)

    server.on_exit.append(stop_following)


def _ours(tmp: Path) -> Callable[[], Any]:
    folder = Path(tempfile.mkdtemp(prefix="budget-ours-", dir=tmp))
    env = {"SECRETARIAT_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
           "SECRETARIAT_SECRET_KEY": secrets.token_urlsafe(36)[:48]}
    demo = subprocess.run([*_secretariat_command(), "demo"], env={**os.environ, **env}, cwd=folder,
                          capture_output=True, text=True, timeout=180)
    if demo.returncode != 0:
        raise RuntimeError(f"`secretariat demo` failed ({demo.returncode}):\n{demo.stderr[-2000:]}")

    def build() -> Any:
        os.environ.update(env)
        os.chdir(folder)  # as the benchmark's `serve` runs: key files beside the store
        from secretariat.cli import open_projections
        from secretariat.server import api_from_settings

        service, _read_models, runner = open_projections()  # what `serve` does before its workers start
        runner.engine.dispose()
        service.close()
        return api_from_settings()

    return build


def _bare(tmp: Path) -> Callable[[], Any]:
    folder = Path(tempfile.mkdtemp(prefix="budget-bare-", dir=tmp))

    def build() -> Any:
        from bare_http_app import create_app

        return create_app({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "bare.db")})

    return build


def bench_budget(args: argparse.Namespace, tmp: Path) -> list[Budget]:
    """Each server's budget in turn: the bare app first, then ours (`--budget-rounds` times each, in turns)."""
    here = os.getcwd()
    saved = {k: os.environ.get(k) for k in ("SECRETARIAT_DATABASE_URL", "SECRETARIAT_SECRET_KEY")}
    results: dict[str, list[Budget]] = defaultdict(list)
    try:
        for n in range(args.budget_rounds):
            for label, kind, make, wrap in (("bare FastAPI", "bare", _bare, _wrap_bare),
                                            ("ours", "ours", _ours, _wrap_ours)):
                log(f"  budget: round {n + 1}/{args.budget_rounds}, {label} ...")
                budget = measure(label, kind, make(tmp), wrap, warmup=args.budget_warmup,
                                 workflows=args.budget_workflows, clients=args.budget_clients)
                results[label].append(budget)
                log(f"  budget: {label}: {budget.total * 1000 / budget.commands:.2f} ms CPU per command, "
                    f"{budget.commands / budget.elapsed:,.0f} commands/s one at a time")
    finally:
        os.chdir(here)
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    return [_merged(label, budgets) for label, budgets in results.items()]


def _merged(label: str, budgets: list[Budget]) -> Budget:
    merged = Budget(label)
    for b in budgets:
        merged.commands += b.commands
        merged.elapsed += b.elapsed
        merged.total += b.total
        for part, seconds in b.parts.items():
            merged.parts[part] = merged.parts.get(part, 0.0) + seconds
    return merged


def report_budget(budgets: list[Budget], args: argparse.Namespace) -> str:
    by = {b.label: b for b in budgets}
    labels = [label for label in ("bare FastAPI", "ours") if label in by]
    headers = ["part", *(f"{label} ms/cmd" for label in labels), *(f"{label} %" for label in labels[-1:]),
               "what it is"]
    rows = []
    for part, what in PARTS:
        if not any(by[label].parts.get(part, 0.0) > 0 for label in labels):
            continue
        last = by[labels[-1]]
        rows.append([part, *(f"{by[label].per_command_ms(part):.3f}" for label in labels),
                     f"{100 * last.parts.get(part, 0.0) / last.total:.0f}" if last.total else "-", what])
    rows.append(["total", *(f"{by[label].total * 1000 / by[label].commands:.3f}" for label in labels), "100",
                 "server CPU per command"])
    lines = [f"Server CPU per command by part, in process (uvicorn with uvloop and httptools in a thread; one client "
             f"process, {_clients(args.budget_clients)}; {args.budget_workflows} task workflows after {args.budget_warmup} "
             f"untimed, {args.budget_rounds} round(s), SQLite)", "", table(headers, rows)]
    if "ours" in by and "bare FastAPI" in by and by["bare FastAPI"].total:
        ratio = (by["ours"].total / by["ours"].commands) / (by["bare FastAPI"].total / by["bare FastAPI"].commands)
        lines.append(f"ours/bare CPU per command: {ratio:.2f}x (goal <= 1.5x)")
    return "\n".join(lines)


def _clients(clients: int) -> str:
    if clients == 1:
        return "one request at a time"
    return (f"{clients} closed-loop client threads, so the follower's batches carry several commands; the event "
            f"loop's parts (uvicorn, middleware, routing, dependencies) then overlap and only their sum is sure")

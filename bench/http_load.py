"""Part 2 of the command-path benchmark: closed-loop HTTP clients against ours and the bare FastAPI app.

On SQLite: `secretariat serve` (after `secretariat demo`) beside a bare FastAPI app on uvicorn
(httptools, uvloop, one worker), each driven by closed-loop client threads (one keep-alive
httpx.Client each) on 127.0.0.1 only, bounded in workflows and in time. Then
`secretariat serve --workers 2`, to look for the 40 ms Nagle/delayed-ACK stall. A one-client
probe on each server gives the unloaded latency (and warms the server up).
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from http_servers import Server
from shared import DUE, RESULT, log, percentile, table


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
        """The q-quantile of the latencies, in ms."""
        return percentile(self.latencies, q) * 1000


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

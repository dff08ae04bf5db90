"""Do API workers scale on PostgreSQL? `secretariat serve --workers 1, 2, 4` under closed-loop HTTP load.

For each number of workers two servers run side by side, each on a fresh PostgreSQL schema
(after `secretariat demo`), and take turns in rounds:

- *serve*: `secretariat serve --workers N`: the workers only serve; the read models' follower
  and the reminder scheduler run once, in serve's follower process (issue 14).
- *follower in each worker* (the floor this is measured against, as serve ran before issue 14):
  uvicorn's own command line on `secretariat.server:api_from_settings`, so that each of the N
  workers also follows the log and ticks the scheduler in a thread beside its requests.

Each round drives each server twice: free (client and server on any core), and pinned (the load
client's threads on core 0, every thread of the server's process tree on core 1, as `taskset`
does), so that the figure shows the server and not the client. PostgreSQL itself is not ours to
pin: it runs wherever the kernel puts it. The load is bench/http_load.py's: `--clients`
closed-loop threads, each with one keep-alive httpx.Client, doing create -> start -> submit ->
approve. Prints a table (stdout; progress on stderr); asserts nothing about timing.

    .venv/bin/python bench/workers.py            # 3 rounds of 10 s per server and mode, about 10 minutes
    .venv/bin/python bench/workers.py --quick    # 2 rounds of 4 s, about 4 minutes
    .venv/bin/python bench/workers.py --help     # workers, clients, rounds, seconds, --skip-*
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
for path in (str(ROOT), str(BENCH_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

from http_load import HttpResult, drive, merge, sign_in  # noqa: E402
from http_servers import free_port, tree_cpu_seconds  # noqa: E402
from shared import POSTGRES, load_average, log, postgres_reachable, table  # noqa: E402

SERVE = "serve"
BEFORE = "follower in each worker"
CLIENT_CORE, SERVER_CORE = 0, 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] + " Prints figures; asserts nothing.")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 4 s per server and mode (default: 3 of 10)")
    parser.add_argument("--workers", default="1,2,4", help="numbers of workers, comma-separated (default 1,2,4)")
    parser.add_argument("--clients", type=int, default=16, help="closed-loop client threads (default 16)")
    parser.add_argument("--rounds", type=int, help="rounds per server and mode (default 3, quick 2)")
    parser.add_argument("--seconds", type=float, help="seconds of load per round (default 10, quick 4)")
    parser.add_argument("--skip-before", action="store_true", help="leave out the follower-in-each-worker floor")
    parser.add_argument("--skip-pinned", action="store_true", help="leave out the pinned runs")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.seconds = args.seconds or (4.0 if args.quick else 10.0)
    args.worker_counts = [int(n) for n in args.workers.split(",") if n.strip()]
    return args


class PostgresServer:
    """A server of ours on a fresh PostgreSQL schema of its own (dropped at stop), in its own session."""

    def __init__(self, label: str, workers: int, tmp: Path) -> None:
        self.label, self.workers = label, workers
        self.folder = Path(tempfile.mkdtemp(prefix="workers-", dir=tmp))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.schema = f"bench_{uuid4().hex[:12]}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import psycopg

        with psycopg.connect(autocommit=True, connect_timeout=5, **POSTGRES) as conn:
            conn.execute(f"CREATE SCHEMA {self.schema}")
        url = (f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}"
               f"?schema={self.schema}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETARIAT_")}
        env.update(SECRETARIAT_DATABASE_URL=url, SECRETARIAT_SECRET_KEY=secrets.token_urlsafe(36)[:48])
        cli = str(Path(sys.executable).parent / "secretariat")
        demo = subprocess.run([cli, "demo"], env=env, cwd=self.folder, capture_output=True, text=True, timeout=300)
        if demo.returncode != 0:
            raise RuntimeError(f"`secretariat demo` failed ({demo.returncode}):\n{demo.stderr[-2000:]}")
        if self.label == SERVE:
            command = [cli, "serve", "--port", str(self.port), "--workers", str(self.workers)]
        else:  # as serve ran before issue 14 (the views were set up by `demo` above, as serve did first)
            command = [sys.executable, "-m", "uvicorn", "--factory", "secretariat.server:api_from_settings",
                       "--port", str(self.port), "--workers", str(self.workers), "--no-access-log"]
        with open(self.folder / "server.log", "wb") as out:
            self.proc = subprocess.Popen(command, env=env, cwd=self.folder, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited ({self.proc.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200 and self._all_workers_up():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.label} did not answer /health in {timeout:.0f} s:\n{self.log_tail()}")

    def _all_workers_up(self) -> bool:
        return self.log_tail().count("Application startup complete") >= self.workers

    def log_tail(self) -> str:
        try:
            return (self.folder / "server.log").read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def pin(self, cores: set[int]) -> None:
        """Every thread of every process of the server's tree on `cores` (new threads inherit it)."""
        for pid in _tree(self.proc.pid):
            for task in _tasks(pid):
                try:
                    os.sched_setaffinity(task, cores)
                except OSError:
                    pass  # a thread that ended meanwhile

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.proc.pid) if self.proc else 0.0

    def stop(self) -> None:
        import psycopg

        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)  # the session this script started for it, and only that
                self.proc.wait(timeout=5)
        with psycopg.connect(autocommit=True, connect_timeout=5, **POSTGRES) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        shutil.rmtree(self.folder, ignore_errors=True)


def _tree(root: int) -> list[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return found


def _tasks(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def pinning_possible() -> str | None:
    """None if the client and the server can each have a core of their own, else why not."""
    cores = os.sched_getaffinity(0)
    if not {CLIENT_CORE, SERVER_CORE} <= cores:
        return f"this process may run on cores {sorted(cores)} only; pinning needs cores {CLIENT_CORE} and " \
               f"{SERVER_CORE}"
    return None


def run(args: argparse.Namespace, tmp: Path) -> list[tuple[str, HttpResult]]:
    all_cores = os.sched_getaffinity(0)
    modes = ["free"] + ([] if args.skip_pinned else ["pinned"])
    labels = [SERVE] + ([] if args.skip_before else [BEFORE])
    results: list[tuple[str, HttpResult]] = []
    for workers in args.worker_counts:
        servers = [PostgresServer(label, workers, tmp) for label in labels]
        rounds: dict[tuple[str, str], list[HttpResult]] = {}
        try:
            for server in servers:
                log(f"starting {server.label}, {workers} worker(s), on {server.base} (schema {server.schema}) ...")
                server.start()
            users = {s.label: (sign_in(s.base, "sara"), sign_in(s.base, "hana")) for s in servers}
            for server in servers:  # untimed warm-up: each worker's first requests pay one-off costs
                drive(server, server.label, *users[server.label], clients=2 * workers, workflows=4 * workers,
                      seconds=30)
            for n in range(args.rounds):
                turns = [(s, m) for s in servers for m in modes]
                for server, mode in (turns if n % 2 == 0 else turns[::-1]):
                    pinned = mode == "pinned"
                    server.pin({SERVER_CORE} if pinned else all_cores)
                    os.sched_setaffinity(0, {CLIENT_CORE} if pinned else all_cores)  # drive's threads inherit it
                    try:
                        part = drive(server, server.label, *users[server.label], clients=args.clients,
                                     workflows=10**9, seconds=args.seconds)
                    finally:
                        os.sched_setaffinity(0, all_cores)
                    rounds.setdefault((server.label, mode), []).append(part)
                    log(f"  round {n + 1}/{args.rounds}: {server.label}, {workers} worker(s), {mode}: "
                        f"{part.rate:,.0f} commands/s, p50 {part.pct(0.5):.1f} ms, p99 {part.pct(0.99):.1f} ms, "
                        f"errors {part.errors}" + (f" (first: {part.first_error})" if part.errors else ""))
        finally:
            for server in servers:
                if any(p.errors for key, parts in rounds.items() if key[0] == server.label for p in parts):
                    log(f"{server.label} answered with errors; its log ends:\n{server.log_tail()}")
                server.stop()
        for label in labels:
            for mode in modes:
                if (label, mode) in rounds:
                    results.append((mode, merge(rounds[(label, mode)])))
    return results


def report(results: list[tuple[str, HttpResult]], args: argparse.Namespace, pinning: str | None) -> str:
    headers = ["server", "workers", "cores", "commands", "secs", "cmd/s", "p50 ms", "p99 ms", "errors",
               "server CPU ms/cmd", "client CPU ms/cmd", "x 1 worker", "x floor"]
    by = {(mode, r.label, r.workers): r for mode, r in results}
    body = []
    for mode, r in results:
        one = by.get((mode, r.label, 1))
        floor = by.get((mode, BEFORE, r.workers))
        body.append([r.label, r.workers, "client 0, server 1" if mode == "pinned" else "any",
                     r.commands, f"{r.elapsed:.1f}", f"{r.rate:,.0f}", f"{r.pct(0.5):.1f}", f"{r.pct(0.99):.1f}",
                     r.errors, f"{r.server_cpu * 1000 / r.commands:.2f}" if r.commands else "-",
                     f"{r.client_cpu * 1000 / r.commands:.2f}" if r.commands else "-",
                     f"{r.rate / one.rate:.2f}" if one and one.rate else "-",
                     f"{r.rate / floor.rate:.2f}" if floor and floor.rate and r.label != BEFORE else "-"])
    lines = [f"Workers on PostgreSQL ({POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}): {args.clients} "
             f"closed-loop clients doing create -> start -> submit -> approve; {args.rounds} rounds of "
             f"{args.seconds:.0f} s per server and mode, taken in turns; {os.cpu_count()} cores", "",
             table(headers, body), "",
             f"serve: the workers only serve, the follower and the scheduler run in serve's follower process. "
             f"{BEFORE}: uvicorn on secretariat.server:api_from_settings, each worker following the log (as "
             f"serve ran before issue 14); 'x floor' is serve over it, same workers and cores.",
             "server CPU counts the server's whole process tree (workers and follower), not PostgreSQL."]
    if pinning:
        lines.append(f"pinned runs left out: {pinning}")
    else:
        lines.append(f"pinned: the client's threads on core {CLIENT_CORE}, every thread of the server's tree on "
                     f"core {SERVER_CORE} (sched_setaffinity, as taskset -a -p); PostgreSQL runs on either core.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    unreachable = postgres_reachable()
    if unreachable:
        print(f"PostgreSQL does not answer ({unreachable}); nothing to measure.")
        return
    pinning = pinning_possible()
    if pinning:
        args.skip_pinned = True
    started = time.monotonic()
    before = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        results = run(args, Path(tmp))
    print(report(results, args, pinning))
    print(f"load average before {before}, after {load_average()}; {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()

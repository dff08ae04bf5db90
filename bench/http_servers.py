"""Part 2's servers: ours or the bare FastAPI app, each a subprocess on a fresh SQLite file, on 127.0.0.1.

Ours is `secretariat demo` then `secretariat serve`; the bare app is bench/bare_http_app.py
on uvicorn (httptools, uvloop). `Server.cpu_seconds` reads the whole process tree's CPU time
from /proc.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared import BENCH_DIR


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and all its descendants (from /proc): the live ones, and those
    that ended and were waited for by a process of the tree (their time is in its cutime and cstime).

    So every process `secretariat serve` starts counts: the master, its workers, and any process of
    their own (a projection follower or scheduler process), even one that ends during the measurement."""
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
        times[int(entry)] = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
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

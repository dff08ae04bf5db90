"""`kill -9` of `serve --workers 2`'s master takes its workers with it, and the port is free again."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.conftest import SECRETARIAT, START_TIMEOUT, _free_port, _server_env

GONE_WITHIN = 15.0  # seconds: a worker finishing its requests and shutting down, with room for a busy machine


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def serve(env: dict[str, str], workdir: Path, port: int, workers: int) -> subprocess.Popen:
    log = (workdir / f"serve-{port}-{time.monotonic_ns()}.log").open("wb")
    process = subprocess.Popen([str(SECRETARIAT), "serve", "--port", str(port), "--workers", str(workers)], env=env,
                               cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return process


def answers_health(port: int, process: subprocess.Popen) -> bool:
    deadline = time.monotonic() + START_TIMEOUT * 2
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    return False


def test_killing_the_master_with_sigkill_ends_its_workers_and_a_restart_takes_the_port(tmp_path: Path):
    env = _server_env(f"sqlite:///{tmp_path}/store.db", secrets.token_urlsafe(36))
    port = _free_port()
    master = serve(env, tmp_path, port, workers=2)
    workers: list[int] = []
    restarted = None
    try:
        assert answers_health(port, master), "serve --workers 2 did not come up"
        deadline = time.monotonic() + START_TIMEOUT
        while len(workers) < 2 and time.monotonic() < deadline:
            workers = [pid for pid in children_of(master.pid) if is_worker(pid)]
            time.sleep(0.1)
        assert len(workers) == 2, workers

        os.kill(master.pid, signal.SIGKILL)
        master.wait(timeout=10)

        deadline = time.monotonic() + GONE_WITHIN
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in workers if alive(pid)] == [], "workers outlived their master"

        restarted = serve(env, tmp_path, port, workers=2)
        assert answers_health(port, restarted), "a restart on the same port did not come up: " + "".join(
            p.read_text(errors="replace") for p in sorted(tmp_path.glob("serve-*.log")))
    finally:
        for pid in workers:  # never leave an orphan holding the port, whatever failed
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        for process in (master, restarted):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)

"""Several processes started at once on a fresh store all come up: creating the schema is safe to race."""

from __future__ import annotations

import secrets
import subprocess
import time
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.conftest import POSTGRES, require_postgres
from tests.e2e.conftest import SECRETARIAT, START_TIMEOUT, _free_port, _server_env

PROCESSES = 4
ROUNDS = 3


def fresh_store(store: str, folder: Path) -> tuple[str, str | None]:
    if store == "sqlite":
        return f"sqlite:///{folder}/store.db", None
    import psycopg

    require_postgres()
    schema = f"race_{uuid4().hex[:12]}"
    with psycopg.connect(autocommit=True, **POSTGRES) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return (f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}"
            f"?schema={schema}"), schema


def drop(schema: str | None) -> None:
    if schema is not None:
        import psycopg

        with psycopg.connect(autocommit=True, **POSTGRES) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def wait_until_all_answer(processes: list[tuple[int, subprocess.Popen, Path]]) -> list[str]:
    """The problems: each process that exited or did not answer GET /health in time, with its log."""
    waiting = {port: (process, log) for port, process, log in processes}
    deadline = time.monotonic() + START_TIMEOUT * 3  # four starting at once on two cores
    while waiting and time.monotonic() < deadline:
        for port, (process, _log) in list(waiting.items()):
            if process.poll() is not None:
                continue
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    del waiting[port]
            except httpx.TransportError:
                pass
        if waiting and all(process.poll() is not None for process, _log in waiting.values()):
            break
        time.sleep(0.2)
    return [f"serve on port {port} (exit {process.poll()}):\n{log.read_text(errors='replace')[-3000:]}"
            for port, (process, log) in waiting.items()]


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_four_servers_started_at_once_on_a_fresh_store_all_come_up(store: str, tmp_path: Path):
    for round_ in range(ROUNDS):
        folder = tmp_path / f"round{round_}"
        folder.mkdir()
        url, schema = fresh_store(store, folder)
        env = _server_env(url, secrets.token_urlsafe(36))
        processes = []
        try:
            for n in range(PROCESSES):
                port, log = _free_port(), folder / f"serve-{n}.log"
                with log.open("wb") as output:
                    processes.append((port, subprocess.Popen(
                        [str(SECRETARIAT), "serve", "--port", str(port)], env=env, cwd=folder, stdout=output,
                        stderr=subprocess.STDOUT), log))
            problems = wait_until_all_answer(processes)
            assert not problems, f"round {round_ + 1} on {store}:\n" + "\n".join(problems)
        finally:
            for _port, process, _log in processes:
                if process.poll() is None:
                    process.terminate()
            for _port, process, _log in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            drop(schema)

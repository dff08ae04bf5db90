"""`serve` runs the read models' follower and the scheduler once, in a process of its own (issue 14), and a
role changed through one server is seen on the very next request through another server on the same store."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import (SECRETARIAT, START_TIMEOUT, _free_port, _server_env, assert_item, assert_problem,
                                create, fresh_store, task_body, unique)
from tests.e2e.test_worker_lifetime import GONE_WITHIN, alive, answers_health, children_of, is_worker, serve

FOLLOWER = b"secretariat.follower_process"


def is_follower(pid: int) -> bool:
    try:
        return FOLLOWER in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def followers_of(pid: int) -> list[int]:
    return [child for child in children_of(pid) if is_follower(child) and alive(child)]


def wait_until(condition, what: str, timeout: float = START_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"not within {timeout:.0f} s: {what}")


def signed_in(base_url: str, username: str, password: str | None = None) -> httpx.Client:
    token = httpx.post(f"{base_url}/auth/token", data={"username": username, "password": password or username},
                       timeout=30)
    assert token.status_code == 200, token.text
    return httpx.Client(base_url=base_url, timeout=30, headers={
        "Authorization": f"Bearer {token.json()['access_token']}", "Prefer": "wait-for-projection"})


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_role_revoked_through_one_server_is_gone_from_the_next_request_through_another(
        store: str, tmp_path: Path):
    with fresh_store(store, tmp_path) as (url, _schema):
        env = _server_env(url, "k" * 48)
        demo = subprocess.run([str(SECRETARIAT), "demo"], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=180)
        assert demo.returncode == 0, demo.stderr
        ports = [_free_port(), _free_port()]
        servers = [serve(env, tmp_path, port, workers=1) for port in ports]  # one store, one key folder
        clients: list[httpx.Client] = []
        try:
            for port, server in zip(ports, servers):
                assert answers_health(port, server), f"serve on {store} did not come up: {logs(tmp_path)}"
            a, b = (f"http://127.0.0.1:{port}" for port in ports)
            admin_at_a, admin_at_b = signed_in(a, "admin"), signed_in(b, "admin")
            clients += [admin_at_a, admin_at_b]
            username, password = unique("rita"), "a-long-enough-password"
            added = admin_at_a.post("/users", json={"username": username, "password": password,
                                                    "roles": ["secretariat", "auditor"]})
            assert added.status_code == 201, added.text
            rita = signed_in(b, username, password)  # signed in through server B
            clients.append(rita)
            task = create(rita, "tasks", task_body())

            revoked = admin_at_a.delete(f"/users/{username}/roles/secretariat")
            assert revoked.status_code == 200, revoked.text
            # The very next request through the other server: the write is refused, the read still allowed.
            assert_problem(rita.post(f"/tasks/{task['id']}/start"), 403)
            assert_problem(rita.post("/tasks", json=task_body()), 403)
            assert rita.get("/me").json()["roles"] == ["auditor"]
            assert_item(rita.get(f"/tasks/{task['id']}"), state="open", version=1, allowed=[])

            granted = admin_at_a.post(f"/users/{username}/roles", json={"role": "secretariat"})
            assert granted.status_code == 200, granted.text
            assert_item(rita.post(f"/tasks/{task['id']}/start"), state="in_progress", version=2)

            # And the other way round: revoked through B, refused at once through A.
            rita_at_a = signed_in(a, username, password)
            clients.append(rita_at_a)
            assert admin_at_b.delete(f"/users/{username}/roles/secretariat").status_code == 200
            assert_problem(rita_at_a.post(f"/tasks/{task['id']}/block", json={"reason": "Waiting"}), 403)
            assert "Traceback" not in logs(tmp_path), logs(tmp_path)
        finally:
            for client in clients:
                client.close()
            for server in servers:
                if server.poll() is None:
                    server.terminate()
                    server.wait(timeout=30)


def logs(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(folder.glob("serve-*.log")))


def test_serve_runs_one_follower_process_which_keeps_the_lists_live_and_ends_with_serve(tmp_path: Path):
    env = _server_env(f"sqlite:///{tmp_path}/store.db", "k" * 48)
    port = _free_port()
    demo = subprocess.run([str(SECRETARIAT), "demo"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert demo.returncode == 0, demo.stderr
    master = serve(env, tmp_path, port, workers=2)
    spawned: list[int] = []
    try:
        assert answers_health(port, master), "serve --workers 2 did not come up"
        workers = wait_until(lambda: (lambda found: found if len(found) == 2 else None)(
            [p for p in children_of(master.pid) if is_worker(p)]), "two workers")
        followers = followers_of(master.pid)
        assert len(followers) == 1, followers  # once per deployment, beside the two workers
        spawned = workers + followers

        # A write through a worker, waited for, is in the lists at once: the follower process was woken.
        base_url = f"http://127.0.0.1:{port}"
        erik = signed_in(base_url, "erik")
        for _ in range(4):  # keep-alive: the requests reach whichever worker accepted the connection
            response = erik.post("/tasks", json=task_body())
            assert response.status_code == 201 and response.headers["preference-applied"] == "wait-for-projection"
            assert erik.get("/tasks", params={"limit": 1}).json()["items"][0]["id"] == response.json()["id"]
        # /metrics counts what the follower process projected (it publishes every second), and positions.
        hana = signed_in(base_url, "hana")
        metrics = wait_until(lambda: (lambda text: text if re.search(
            r'^secretariat_projection_events_total\{view="items"\} [1-9]', text, re.M) else None)(
            hana.get("/metrics").text), "the follower's counters in /metrics")
        assert re.search(r'^secretariat_projection_position\{view="items"\} [1-9]', metrics, re.M), metrics
        assert re.search(r"^secretariat_scheduler_ticks_total [1-9]", metrics, re.M), metrics

        # A follower process that dies is started again, and the lists stay live.
        os.kill(followers[0], signal.SIGKILL)
        again = wait_until(lambda: [p for p in followers_of(master.pid) if p != followers[0]], "a new follower")
        assert len(again) == 1, again
        spawned += again
        response = erik.post("/tasks", json=task_body())
        assert response.status_code == 201
        assert erik.get("/tasks", params={"limit": 1}).json()["items"][0]["id"] == response.json()["id"]
        erik.close()
        hana.close()

        # kill -9 of serve takes the workers and the follower process with it.
        os.kill(master.pid, signal.SIGKILL)
        master.wait(timeout=10)
        wait_until(lambda: not [pid for pid in spawned if alive(pid)], "serve's children to end", GONE_WITHIN)
        log = logs(tmp_path)
        assert "starting it again" in log, log
    finally:
        for pid in spawned:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        if master.poll() is None:
            master.kill()
            master.wait(timeout=10)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_stopping_serve_with_one_worker_stops_its_follower_process_cleanly(tmp_path: Path, how: signal.Signals):
    env = _server_env(f"sqlite:///{tmp_path}/store.db", "k" * 48)
    port = _free_port()
    master = serve(env, tmp_path, port, workers=1)
    try:
        assert answers_health(port, master), "serve did not come up"
        follower = wait_until(lambda: followers_of(master.pid), "the follower process")
        assert len(follower) == 1, follower
        os.kill(master.pid, how)
        master.wait(timeout=GONE_WITHIN)
        assert not alive(follower[0]), "the follower process outlived serve"
        log = logs(tmp_path)
        assert f"Stopped the follower process [{follower[0]}]" in log, log  # it stopped, not killed
        assert "Traceback" not in log, log
    finally:
        if master.poll() is None:
            master.kill()
            master.wait(timeout=10)

"""End-to-end fixtures: a real `secretariat serve` process over HTTP, on SQLite and on PostgreSQL.

The server is started once per store for the whole session (after `secretariat demo`),
and every test talks to it through httpx as one of the demo users. Tests create their
own items (unique mandate references) so that they do not depend on each other's order.

Besides the fixtures, this module offers a few assertion helpers the test modules import
(`assert_problem`, `assert_item`) and small factories that create items over HTTP.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator
from uuid import uuid4

import httpx
import pytest

from tests.conftest import POSTGRES, require_postgres

SECRETARIAT = Path(sys.executable).parent / "secretariat"
START_TIMEOUT = 20.0
TICK_SECONDS = 1.0  # the scheduler's tick in the served process
DEMO_USERS = ("admin", "sara", "hana", "erik", "alba", "milan", "audrey")


# -- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    """One running `secretariat serve`, with what a test needs to talk to it."""

    store: str  # "sqlite" or "postgres"
    base_url: str
    env: dict[str, str]
    workdir: Path
    log_path: Path
    secret_key: str
    schema: str | None = None  # the PostgreSQL schema the URL names
    public_url: bool = True  # serve with SECRETARIAT_BASE_URL set to its own address (feed URLs need it)
    process: subprocess.Popen | None = None
    server_errors: list[str] = field(default_factory=list)  # 5xx answers seen by any client
    _tokens: dict[str, str] = field(default_factory=dict)
    _clients: dict[str, httpx.Client] = field(default_factory=dict)

    # -- talking to it --

    def _check_answer(self, response: httpx.Response) -> None:
        if response.status_code >= 500:
            response.read()
            self.server_errors.append(f"{response.request.method} {response.request.url} -> "
                                      f"{response.status_code} {response.text[:500]}")

    def anonymous(self) -> httpx.Client:
        """A client without credentials (cached)."""
        if "" not in self._clients:
            self._clients[""] = httpx.Client(base_url=self.base_url, timeout=30,
                                             event_hooks={"response": [self._check_answer]})
        return self._clients[""]

    def token(self, username: str, password: str | None = None) -> str:
        """Sign in through POST /auth/token (once per user and server: Argon2 is slow on purpose)."""
        if username not in self._tokens:
            response = self.anonymous().post("/auth/token",
                                             data={"username": username, "password": password or username})
            assert response.status_code == 200, f"sign-in of {username} failed: {response.status_code} {response.text}"
            body = response.json()
            assert body["token_type"] == "bearer" and body["access_token"], body
            self._tokens[username] = body["access_token"]
        return self._tokens[username]

    def client(self, username: str, password: str | None = None) -> httpx.Client:
        """A client signed in as `username` (password = username for the demo users), cached."""
        if username not in self._clients:
            token = self.token(username, password)
            # Every write waits until the lists and dashboard show it, so that a test reads its own
            # writes (and a "nothing was recorded" check cannot pass merely because a view lags).
            self._clients[username] = httpx.Client(
                base_url=self.base_url, timeout=30,
                headers={"Authorization": f"Bearer {token}", "Prefer": "wait-for-projection"},
                event_hooks={"response": [self._check_answer]})
        return self._clients[username]

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run `secretariat <args>` against the same store and settings as the server."""
        return subprocess.run([str(SECRETARIAT), *args], env=self.env, cwd=self.workdir, capture_output=True,
                              text=True, timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- its life --

    def start(self) -> None:
        demo = self.cli("demo", timeout=120)
        if demo.returncode != 0:
            pytest.fail(f"`secretariat demo` failed ({demo.returncode}) on {self.store}:\n"
                        f"{demo.stdout}\n{demo.stderr}", pytrace=False)
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        if self.public_url:
            self.env["SECRETARIAT_BASE_URL"] = self.base_url
        log = self.log_path.open("wb")
        self.process = subprocess.Popen([str(SECRETARIAT), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                        env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"`secretariat serve` on {self.store} exited with {self.process.returncode}:\n"
                            f"{self.log()}", pytrace=False)
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"`secretariat serve` on {self.store} did not answer GET /health within {START_TIMEOUT:.0f} s:\n"
                    f"{self.log()}", pytrace=False)

    def stop(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(database_url: str, secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETARIAT_")}
    env.update(SECRETARIAT_DATABASE_URL=database_url, SECRETARIAT_SECRET_KEY=secret_key,
               SECRETARIAT_SCHEDULER_TICK_SECONDS=str(TICK_SECONDS))
    return env


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server after `secretariat demo`: once on a SQLite file, once on a fresh PostgreSQL schema."""
    with running_server(request.param, tmp_path_factory.mktemp(f"e2e-{request.param}")) as srv:
        yield srv


@contextmanager
def fresh_store(store: str, workdir: Path) -> Iterator[tuple[str, str | None]]:
    """(database URL, PostgreSQL schema or None) of an empty store in `workdir`; dropped with it afterwards."""
    schema = None
    if store == "sqlite":
        url = f"sqlite:///{workdir}/e2e.db"
    else:
        import psycopg

        require_postgres()  # skips locally, fails with CI=true, when PostgreSQL is unreachable
        schema = f"e2e_{uuid4().hex[:16]}"
        with psycopg.connect(autocommit=True, **POSTGRES) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = (f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}"
               f"?schema={schema}")
    try:
        yield url, schema
    finally:
        if schema is not None:
            import psycopg

            with psycopg.connect(autocommit=True, **POSTGRES) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def running_server(store: str, workdir: Path) -> Iterator[Server]:
    """A server of its own on `store` ("sqlite" or "postgres"), for tests whose writes must not meet others'."""
    secret_key = secrets.token_urlsafe(36)  # 48 characters
    assert len(secret_key) == 48
    with fresh_store(store, workdir) as (url, schema):
        srv = Server(store=store, base_url="", env=_server_env(url, secret_key), workdir=workdir,
                     log_path=workdir / "server.log", secret_key=secret_key, schema=schema)
        try:
            srv.start()
            yield srv
        finally:
            srv.stop()


@pytest.fixture(autouse=True)
def _never_a_server_error(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test sends, the server never answers 5xx nor logs a traceback."""
    if "server" not in request.fixturenames:
        yield
        return
    srv: Server = request.getfixturevalue("server")
    srv.server_errors.clear()
    log_offset = len(srv.log())
    yield
    new_log = srv.log()[log_offset:]
    assert not srv.server_errors, "the server answered 5xx:\n" + "\n".join(srv.server_errors)
    assert "Traceback" not in new_log, f"the server logged a traceback:\n{new_log}"


@pytest.fixture
def as_user(server: Server):
    """`as_user("sara")` -> an httpx.Client signed in as that demo user."""
    return server.client


@pytest.fixture
def anonymous(server: Server) -> httpx.Client:
    return server.anonymous()


# -- assertion helpers -----------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int, *in_detail: str) -> dict[str, Any]:
    """An RFC 9457 problem document with this status whose detail names each of `in_detail`."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["status"] == status, body
    assert isinstance(body["type"], str) and body["type"], body
    assert isinstance(body["title"], str) and body["title"], body
    assert isinstance(body["detail"], str) and body["detail"], body
    for fragment in in_detail:
        assert fragment in body["detail"], f"{fragment!r} not in detail {body['detail']!r}"
    return body


def assert_item(response: httpx.Response, status: int = 200, *, state: str | None = None,
                version: int | None = None, allowed: list[str] | set[str] | None = None) -> dict[str, Any]:
    """An item document with its ETag header; optionally checks state, version and allowed_actions."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/json"), response.headers
    item = response.json()
    assert {"id", "version", "state", "allowed_actions", "created_at", "updated_at", "deadlines"} <= set(item), item
    assert response.headers["etag"] == f'"{item["version"]}"', (response.headers.get("etag"), item["version"])
    if state is not None:
        assert item["state"] == state, item
    if version is not None:
        assert item["version"] == version, item
    if allowed is not None:
        assert set(item["allowed_actions"]) == set(allowed), (item["allowed_actions"], allowed)
    return item


def history_of(client: httpx.Client, collection: str, item_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/{collection}/{item_id}/history")
    assert response.status_code == 200, response.text
    return response.json()["events"]


# -- items over HTTP ---------------------------------------------------------------------------


def unique(prefix: str = "") -> str:
    return f"{prefix}{uuid4().hex[:10]}"


def mandate_body(**overrides: Any) -> dict[str, Any]:
    return {"reference": unique("CoM-E2E-"), "title": "Support Contracting Parties in operations",
            "decided_on": "2015-05-05", "assigned_to": "secretariat", "meeting": "CoM, Sofia", **overrides}


def in_days(days: int) -> str:
    """A date relative to today: far enough ahead that no reminder falls due while the tests run."""
    return (date.today() + timedelta(days=days)).isoformat()


def task_body(**overrides: Any) -> dict[str, Any]:
    return {"title": "Catalogue bilateral agreements", "assignee": "sara", "due": in_days(100), **overrides}


def request_body(**overrides: Any) -> dict[str, Any]:
    return {"party": "AL", "kind": "logistical", "activity": "officer_exchange",
            "description": "Exchange of four officers with the border police", "needed_by": in_days(130),
            "operational_involvement": False, **overrides}


def create(client: httpx.Client, collection: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/{collection}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def act(client: httpx.Client, collection: str, item_id: str, action: str, body: dict[str, Any] | None = None,
        **kw: Any) -> dict[str, Any]:
    response = client.post(f"/{collection}/{item_id}/{action}", json=body, **kw)
    assert response.status_code == 200, f"{action}: {response.status_code} {response.text}"
    return response.json()


# (user, action, body) from creation to each state; the creator is the first entry of each collection.
PATHS: dict[str, dict[str, list[tuple[str, str, dict[str, Any] | None]]]] = {
    "mandates": {
        "adopted": [],
        "in_progress": [("sara", "start", None)],
        "reported": [("sara", "start", None), ("sara", "report", {"summary": "Reported to the CoM"})],
    },
    "tasks": {
        "open": [],
        "in_progress": [("sara", "start", None)],
        "blocked": [("sara", "start", None), ("sara", "block", {"reason": "Waiting for the Parties"})],
        "in_review": [("sara", "start", None), ("sara", "submit", {"result": "Catalogue v1"})],
    },
    "support-requests": {
        "submitted": [],
        "screening": [("sara", "start_screening", None)],
        "needs_info": [("sara", "start_screening", None), ("sara", "request_info", {"reason": "Which officers?"})],
        "approved": [("sara", "start_screening", None), ("sara", "record_duplication_check",
                                                         {"duplicates_found": False}), ("hana", "approve", None)],
        "in_delivery": [("sara", "start_screening", None), ("sara", "record_duplication_check",
                                                            {"duplicates_found": False}), ("hana", "approve", None),
                        ("sara", "start_delivery", None)],
        "delivered": [("sara", "start_screening", None), ("sara", "record_duplication_check",
                                                          {"duplicates_found": False}), ("hana", "approve", None),
                      ("sara", "start_delivery", None), ("sara", "complete_delivery", {"report": "Delivered"})],
    },
}
CREATORS = {"mandates": ("sara", mandate_body), "tasks": ("erik", task_body),
            "support-requests": ("alba", request_body)}


def item_in_state(as_user, collection: str, state: str, *, creator: str | None = None,
                  **overrides: Any) -> dict[str, Any]:
    """A new item of the collection, driven over HTTP by the demo staff into `state`."""
    default_creator, make_body = CREATORS[collection]
    item = create(as_user(creator or default_creator), collection, make_body(**overrides))
    for user, action, body in PATHS[collection][state]:
        item = act(as_user(user), collection, item["id"], action, body)
    assert item["state"] == state, item
    return item

"""Erasing a user's personal data by deleting their key: nothing of the address is left to read, anywhere.

Each test runs its own server (SQLite, then PostgreSQL), erases with the command line while the server
runs (another process: the server must not serve a stale copy), then looks for the address's bytes in
every answer, page, export and the database itself; the audit chain still verifies and a rebuild of
the views brings nothing back.
"""

from __future__ import annotations

import io
import stat
import subprocess
import zipfile
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from api.page_session import SESSION_COOKIE
from tests.conftest import POSTGRES
from tests.e2e.conftest import Server, create, running_server, task_body

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORES)
def own_server(request, tmp_path):
    workdir = tmp_path / request.param
    workdir.mkdir()
    with running_server(request.param, workdir) as srv:
        yield srv


def _register(server: Server, address: str) -> str:
    username = f"gdpr{uuid4().hex[:8]}"
    added = server.client("admin").post("/users", json={"username": username, "password": "long-enough-1",
                                                        "roles": ["secretariat"], "email": address})
    assert added.status_code == 201, added.text
    return username


def _every_answer(server: Server, username: str) -> list[tuple[str, bytes]]:
    admin, auditor = server.client("admin"), server.client("audrey")
    task = create(server.client("sara"), "tasks", task_body(assignee=username))
    answers = [("users", admin.get("/users")), ("user", admin.get("/me")), ("audit", auditor.get("/audit/events?limit=500")),
               ("task", auditor.get(f"/tasks/{task['id']}")), ("tasks", auditor.get("/tasks?limit=200")),
               ("history", auditor.get(f"/tasks/{task['id']}/history")),
               ("csv", auditor.get("/tasks?format=csv")), ("dashboard csv", auditor.get("/dashboard?format=csv"))]
    xlsx = auditor.get("/tasks?format=xlsx")
    assert xlsx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as book:  # the spreadsheet's text is inside the zip
        answers.append(("xlsx", b"".join(book.read(name) for name in book.namelist())))
    bodies = [(name, r.content) for name, r in answers if isinstance(r, httpx.Response)]
    bodies += [(name, body) for name, body in answers if isinstance(body, bytes)]
    for name, r in answers:
        if isinstance(r, httpx.Response):
            assert r.status_code == 200, (name, r.text[:300])
    with httpx.Client(base_url=server.base_url, cookies={SESSION_COOKIE: server.token("admin")}) as admin_pages, \
            httpx.Client(base_url=server.base_url, cookies={SESSION_COOKIE: server.token("audrey")}) as audit_pages:
        for name, page in (("users page", admin_pages.get("/ui/admin/users")),
                           ("user page", admin_pages.get(f"/ui/admin/users/{username}")),
                           ("audit page", audit_pages.get("/ui/audit"))):
            assert page.status_code == 200, (name, page.text[:300])
            bodies.append((name, page.content))
    return bodies


def _database_bytes(server: Server) -> bytes:
    """Everything the store keeps: the SQLite file and its WAL, or every PostgreSQL table as text and a pg_dump."""
    if server.store == "sqlite":
        database = server.workdir / "e2e.db"
        return b"".join(p.read_bytes() for p in (database, Path(f"{database}-wal")) if p.exists())
    import psycopg

    chunks = []
    with psycopg.connect(autocommit=True, **POSTGRES) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = %s", (server.schema,))]
        assert "personal_data_keys" in tables
        for table in tables:
            for (row,) in conn.execute(f'SELECT t::text FROM "{server.schema}"."{table}" t'):
                chunks.append(row.encode())
    dump = subprocess.run(["pg_dump", "-h", POSTGRES["host"], "-U", POSTGRES["user"], "-n", server.schema,
                           POSTGRES["dbname"]], capture_output=True, timeout=120)
    assert dump.returncode == 0, dump.stderr
    return b"".join(chunks) + dump.stdout


def test_after_users_erase_no_byte_of_the_address_is_left_and_the_chain_still_verifies(own_server):
    address = f"erasable.{uuid4().hex[:10]}@subject.example"
    username = _register(own_server, address)
    own_server.client("admin").put(f"/users/{username}/email", json={"email": "second." + address})
    # Before: the answers show it (decrypted), the database holds only ciphertext.
    before = _every_answer(own_server, username)
    assert any(address.encode() in body for _name, body in before)
    assert address.encode() not in _database_bytes(own_server)

    erased = own_server.cli("users", "erase", username, "--reason", "Art. 17 request of 2026-11-20")
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert "1 key(s) deleted" in erased.stderr, erased.stderr
    assert ("was vacuumed" if own_server.store == "sqlite" else "VACUUM FULL") in erased.stderr, erased.stderr

    # The running server reads it erased at once (no stale key or aggregate), everywhere.
    user = [u for u in own_server.client("admin").get("/users").json() if u["username"] == username][0]
    assert user["email"] == "[erased]"
    for name, body in _every_answer(own_server, username):
        assert address.encode() not in body, name
    assert address.encode() not in _database_bytes(own_server)

    # The erasure is an event on the user, with who and why.
    events = own_server.client("audrey").get("/audit/events?type=User.PersonalDataErased").json()["events"]
    assert [(e["actor"].startswith("cli:"), e["reason"]) for e in events] == [
        (True, "Art. 17 request of 2026-11-20")]

    verified = own_server.cli("audit", "verify")
    assert verified.returncode == 0 and "ok" in (verified.stdout + verified.stderr).lower(), verified.stderr

    rebuilt = own_server.cli("projections", "rebuild", timeout=300)
    assert rebuilt.returncode == 0, rebuilt.stderr
    for name, body in _every_answer(own_server, username):
        assert address.encode() not in body, name
    assert address.encode() not in _database_bytes(own_server)


def test_an_admin_erases_through_the_api_and_nobody_else_may(own_server):
    address = f"api.{uuid4().hex[:10]}@subject.example"
    username = _register(own_server, address)
    refused = own_server.client("hana").post(f"/users/{username}/erase", json={"reason": "asked"})
    assert refused.status_code == 403
    done = own_server.client("admin").post(f"/users/{username}/erase", json={"reason": "asked by the subject"})
    assert done.status_code == 200, done.text
    assert done.json()["keys_deleted"] == 1 and done.json()["events_in_clear"] == 0
    for name, body in _every_answer(own_server, username):
        assert address.encode() not in body, name


def test_a_backup_is_one_owner_only_file_with_the_keys(own_server, tmp_path):
    target = tmp_path / "store.backup"
    done = own_server.cli("backup", str(target))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    if own_server.store == "sqlite":
        import sqlite3

        with sqlite3.connect(target) as copy:
            assert copy.execute("SELECT count(*) FROM personal_data_keys").fetchone()[0] >= 7  # the demo users
    else:
        assert b"personal_data_keys" in subprocess.run(["pg_restore", "--list", str(target)],
                                                       capture_output=True, check=True).stdout
    assert own_server.cli("backup", str(target)).returncode == 1  # never overwritten


def test_an_admin_erases_from_the_users_page(own_server):
    address = f"page.{uuid4().hex[:10]}@subject.example"
    username = _register(own_server, address)
    with httpx.Client(base_url=own_server.base_url, cookies={SESSION_COOKIE: own_server.token("admin")}) as pages:
        assert "Erase personal data" in pages.get(f"/ui/admin/users/{username}").text
        refused = pages.post(f"/ui/admin/users/{username}/erase", data={"reason": ""})
        assert refused.status_code == 422 and address in pages.get(f"/ui/admin/users/{username}").text
        done = pages.post(f"/ui/admin/users/{username}/erase", data={"reason": "asked at the desk"})
        assert done.status_code == 303, done.text[:300]
        shown = pages.get(done.headers["location"]).text
        assert "[erased]" in pages.get("/ui/admin/users").text and address not in shown

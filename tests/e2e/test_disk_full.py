"""A full disk: writes are refused with 503 and Retry-After, nothing is half-written, /health says so.

The store lives on a small tmpfs of its own (the tests run as root, as CI does): the SQLite file,
or, on PostgreSQL, a tablespace that every table the server makes goes to. The tmpfs is filled
with a spare file until the kernel says ENOSPC: the real error from the real disk.
"""

from __future__ import annotations

import errno
import os
import pwd
import secrets
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator
from uuid import uuid4

import pytest

from tests.conftest import POSTGRES, require_postgres
from tests.e2e.conftest import Server, _server_env, assert_problem, mandate_body


def _mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        folder.rmdir()
        _cannot(f"cannot mount a tmpfs to fill ({mounted.stderr.strip()}); run as root")


def _fill(folder: Path) -> Path:
    """Write a spare file until the file system is full; return it (delete it to free the space)."""
    spare = folder / "spare"
    fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        while True:  # unbuffered, so that nothing is left to fail at close
            os.write(fd, b"\0" * 65536)
    except OSError as error:
        assert error.errno == errno.ENOSPC, error
    finally:
        os.close(fd)
    return spare


def _cannot(message: str) -> None:
    # A failure, never a skip: without a real full disk this test would prove nothing.
    pytest.fail(message, pytrace=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server_on_small_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server whose store is on a 24 MB tmpfs: the SQLite file, or a PostgreSQL tablespace its tables go to."""
    key = secrets.token_urlsafe(36)
    if request.param == "sqlite":
        disk = tmp_path / "disk"
        _mount_tmpfs(disk, "24m")
        srv = Server(store="sqlite", base_url="", env=_server_env(f"sqlite:///{disk}/store.db", key), workdir=disk,
                     log_path=tmp_path / "server.log", secret_key=key)
        try:
            srv.start()
            yield srv
        finally:
            srv.stop()
            subprocess.run(["umount", "-l", str(disk)], check=False)
        return
    yield from _postgres_on_small_disk(tmp_path, key)


def _postgres_on_small_disk(tmp_path: Path, key: str) -> Iterator[Server]:
    import psycopg

    require_postgres()
    try:
        postgres_user = pwd.getpwnam("postgres")
    except KeyError:
        _cannot("PostgreSQL does not run on this machine (no postgres user): no tablespace can be put on a tmpfs")
    name = f"full_{uuid4().hex[:12]}"
    disk = Path(tempfile.gettempdir()) / f"secretariat-{name}"  # outside pytest's root-only folders
    _mount_tmpfs(disk, "24m")
    os.chown(disk, postgres_user.pw_uid, postgres_user.pw_gid)
    admin = psycopg.connect(autocommit=True, **POSTGRES)
    try:
        try:
            admin.execute(f"CREATE TABLESPACE {name} LOCATION '{disk}'")
        except psycopg.Error as error:
            _cannot(f"cannot make a PostgreSQL tablespace on a tmpfs: {error}")
        admin.execute(f"CREATE SCHEMA {name}")
        url = (f"postgresql://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{POSTGRES['dbname']}"
               f"?schema={name}")
        env = {**_server_env(url, key), "PGOPTIONS": f"-c default_tablespace={name}"}  # every table it makes
        srv = Server(store="postgres", base_url="", env=env, workdir=disk, log_path=tmp_path / "server.log",
                     secret_key=key, schema=name)
        try:
            srv.start()
            yield srv
        finally:
            srv.stop()
            admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            admin.execute(f"DROP TABLESPACE IF EXISTS {name}")
    finally:
        admin.close()
        subprocess.run(["umount", "-l", str(disk)], check=False)
        disk.rmdir()


def test_a_full_disk_refuses_writes_with_503_until_space_is_freed_and_loses_nothing(server_on_small_disk):
    srv = server_on_small_disk
    sara = srv.client("sara")
    before = sara.post("/mandates", json=mandate_body())
    assert before.status_code == 201, before.text

    spare = _fill(srv.workdir)
    refused, statuses = None, []
    for _ in range(300):  # SQLite reuses its WAL's pages first; the disk shows as full once the file must grow
        body = mandate_body(title="x" * 290)
        answer = sara.post("/mandates", json=body)
        statuses.append(answer.status_code)
        if answer.status_code != 201:
            refused = (answer, body)
            break
    assert refused is not None, f"every write succeeded on a full disk: {statuses[-5:]}"
    answer, refused_body = refused
    assert_problem(answer, 503, "disk is full")
    assert answer.json()["type"].endswith("disk-full")
    assert int(answer.headers["retry-after"]) > 0
    assert 500 not in statuses

    health = srv.anonymous().get("/health")
    assert_problem(health, 503, "disk was full")
    assert health.json()["health"] == "degraded" and "retry-after" in health.headers

    spare.unlink()
    # Nothing of the refused write was kept: the same mandate (its id comes from its reference) is new now.
    again = sara.post("/mandates", json=refused_body)
    assert again.status_code == 201, again.text
    assert srv.anonymous().get("/health").status_code == 200
    assert sara.get(f"/mandates/{again.json()['id']}").json()["reference"] == refused_body["reference"]
    assert not [answer for answer in srv.server_errors if " -> 503 " not in answer], srv.server_errors

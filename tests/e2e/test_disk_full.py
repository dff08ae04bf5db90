"""A full disk: writes are refused with 503 and Retry-After, nothing is half-written, /health says so.

The SQLite store lives on a small tmpfs of its own (the tests run as root, as CI does), which
is filled with a spare file until the kernel says ENOSPC: the real error from the real disk.
"""

from __future__ import annotations

import errno
import os
import secrets
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.conftest import Server, _server_env, assert_problem, mandate_body


def _mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        message = f"cannot mount a tmpfs to fill ({mounted.stderr.strip()}); run as root"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def _fill(folder: Path) -> Path:
    """Write a spare file until the file system is full; return it (delete it to free the space)."""
    spare = folder / "spare"
    with spare.open("wb") as file:
        chunk = b"\0" * 65536
        try:
            while True:
                file.write(chunk)
                file.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    return spare


@pytest.fixture
def server_on_small_disk(tmp_path: Path) -> Iterator[Server]:
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "24m")
    key = secrets.token_urlsafe(36)
    srv = Server(store="sqlite", base_url="", env=_server_env(f"sqlite:///{disk}/store.db", key), workdir=disk,
                 log_path=tmp_path / "server.log", secret_key=key)
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        subprocess.run(["umount", "-l", str(disk)], check=False)


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

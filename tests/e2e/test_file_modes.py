"""The SQLite store's files and the data folder are owner-only, like the key file, whatever the umask."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.conftest import Server, _server_env


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The usual 022, under which a plain sqlite3.connect makes a world-readable file."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_store_its_wal_and_shm_and_its_data_folder_are_owner_only(tmp_path: Path, permissive_umask):
    data = tmp_path / "data"  # does not exist yet: the first command makes it
    key = secrets.token_urlsafe(36)
    srv = Server(store="sqlite", base_url="", env=_server_env(f"sqlite:///{data}/store.db", key), workdir=tmp_path,
                 log_path=tmp_path / "server.log", secret_key=key)
    try:
        srv.start()  # `secretariat demo`, then `secretariat serve`
        assert srv.client("sara").get("/tasks").status_code == 200
        files = {name: data / name for name in ("store.db", "store.db-wal", "store.db-shm")}
        assert all(path.exists() for path in files.values()), sorted(p.name for p in data.iterdir())
        assert {name: oct(mode_of(path)) for name, path in files.items()} == {name: "0o600" for name in files}
        assert oct(mode_of(data)) == "0o700"
    finally:
        srv.stop()


def test_a_store_left_readable_by_others_is_tightened_at_start_up_and_the_log_says_so(tmp_path: Path,
                                                                                         permissive_umask):
    key = secrets.token_urlsafe(36)
    srv = Server(store="sqlite", base_url="", env=_server_env(f"sqlite:///{tmp_path}/store.db", key),
                 workdir=tmp_path, log_path=tmp_path / "server.log", secret_key=key)
    assert srv.cli("demo").returncode == 0
    database = tmp_path / "store.db"
    os.chmod(database, 0o644)  # as a copy or an older version left it

    status = srv.cli("projections", "status")

    assert status.returncode == 0, status.stderr
    assert oct(mode_of(database)) == "0o600"
    assert f"{database} was readable by others (mode 644); made it owner-only (600)" in status.stderr
    again = srv.cli("projections", "status")
    assert "readable by others" not in again.stderr  # said once, when it was tightened

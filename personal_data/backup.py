"""`secretariat backup`: a consistent copy of the whole store, events, views and personal-data keys, owner-only.

The keys live in the store's database (personal_data/keys.py), so this one copy restores
everything; it is as sensitive as the store itself, hence mode 0600. An erasure deletes keys
from the store, not from backups taken before it: keep backups only as long as the policy on
erasure allows (a restored old backup brings erased data back, and the erasure must be redone).
SQLite: the SQLite online backup API (a consistent snapshot while the server writes), written as
one self-contained file (journal mode DELETE). PostgreSQL: `pg_dump` of the store's schema, in
its custom format (restore with `pg_restore`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Mapping


class BackupFailed(Exception):
    pass


def back_up(store_env: Mapping[str, str], target: Path) -> str:
    """Copy the store to `target` (which must not exist), readable by its owner only; says what it wrote."""
    if target.exists():
        raise BackupFailed(f"{target} exists already; name a new file")
    _create_owner_only(target)
    try:
        if store_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
            _sqlite(Path(store_env["SQLITE_DBNAME"]), target)
            return f"SQLite backup of {store_env['SQLITE_DBNAME']} written to {target}"
        _postgres(store_env, target)
        return f"pg_dump (custom format) of {store_env['POSTGRES_DBNAME']} written to {target}"
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _create_owner_only(target: Path) -> None:
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    os.chmod(target, 0o600)  # whatever the umask


def _sqlite(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupFailed(f"there is no store at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()
    os.chmod(target, 0o600)


def _postgres(env: Mapping[str, str], target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupFailed("pg_dump is not installed: install PostgreSQL's client tools to back up this store")
    command = [pg_dump, "--format=custom", "--no-password", "-h", env.get("POSTGRES_HOST") or "localhost",
               "-p", env.get("POSTGRES_PORT") or "5432", "-d", env["POSTGRES_DBNAME"]]
    if env.get("POSTGRES_USER"):
        command += ["-U", env["POSTGRES_USER"]]
    if env.get("POSTGRES_SCHEMA"):
        command += ["-n", env["POSTGRES_SCHEMA"]]
    child_env = {**os.environ, **({"PGPASSWORD": env["POSTGRES_PASSWORD"]} if env.get("POSTGRES_PASSWORD") else {})}
    with open(target, "wb") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, env=child_env, timeout=3600)
    if done.returncode != 0:
        raise BackupFailed(f"pg_dump failed: {done.stderr.decode(errors='replace').strip()}")

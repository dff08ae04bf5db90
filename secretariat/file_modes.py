"""The SQLite store's files are owner-only, like the key file: they hold password hashes and
Parties' confidential requests.

The database is created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the
database file's mode), and a folder made for the data is 0700. Files left readable by others,
by an older version or a copy, are tightened at start-up, and the log says so.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("secretariat.store")

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_FOLDER = 0o700
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def make_owner_only_folder(folder: Path) -> None:
    """Create `folder` (and missing parents) readable by its owner only; an existing one is left as it is."""
    if not folder.exists():
        folder.mkdir(parents=True, mode=OWNER_ONLY_FOLDER, exist_ok=True)


def secure_sqlite_files(database: Path) -> None:
    """Create the database owner-only if it is missing; tighten it and its companions if others may read them."""
    make_owner_only_folder(database.parent)
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE))  # SQLite takes an empty file
    except FileExistsError:
        pass
    for suffix in SQLITE_COMPANIONS:
        path = Path(f"{database}{suffix}")
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            os.chmod(path, mode & stat.S_IRWXU)
            log.warning("%s was readable by others (mode %o); made it owner-only (%o)", path, mode,
                        mode & stat.S_IRWXU)

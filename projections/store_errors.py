"""Which store failures are passing trouble (busy, disk full) rather than a fault of ours.

A write that cannot get SQLite's lock in time, or that finds the disk full, is answered
503 with `Retry-After` (api/problems.py), not 500: the client may send it again later, and
nothing of it was written (each save and each batch is one transaction). The errors come
wrapped differently by each layer (the `eventsourcing` recorders, SQLAlchemy, the drivers),
so they are told apart by the driver's own message, found anywhere in the chain of causes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from enum import Enum

import sqlalchemy.exc
from eventsourcing.persistence import OperationalError as RecorderOperationalError

# What may carry a busy or full store, however wrapped; anything else of these stays a 500.
STORE_ERRORS: tuple[type[BaseException], ...] = (RecorderOperationalError, sqlalchemy.exc.OperationalError,
                                                 sqlalchemy.exc.TimeoutError, sqlite3.OperationalError)


class StoreTrouble(Enum):
    BUSY = "busy"
    DISK_FULL = "disk-full"


_DISK_FULL = ("database or disk is full", "no space left on device", "disk full")
_BUSY = ("database is locked", "database table is locked", "timed out waiting for", "lock timeout",
         "could not obtain lock", "queuepool limit")


def store_trouble(error: BaseException) -> StoreTrouble | None:
    """BUSY or DISK_FULL when the error (or one it came from) says so; None for anything else."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        message = str(current).lower()
        if type(current).__name__ == "DiskFull" or any(words in message for words in _DISK_FULL):
            return StoreTrouble.DISK_FULL
        if type(current).__name__ in ("LockNotAvailable", "ConnectionUnavailableError") or any(
                words in message for words in _BUSY):
            return StoreTrouble.BUSY
        current = current.__cause__ or current.__context__
    return None


class DiskState:
    """Whether this process's last write found the disk full, until a write succeeds again (for /health)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.full_since: float | None = None  # time.time() of the first refused write

    def write_refused(self) -> None:
        with self._lock:
            self.full_since = self.full_since or time.time()

    def write_succeeded(self, *_args: object) -> None:
        self.full_since = None

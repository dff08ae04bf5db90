"""Erasing a person's data: delete their keys, record it, scrub the copies views made, free the bytes on disk.

Deleting the keys (domain: `UserAdministration.erase_personal_data`) is what erases the data in
events, snapshots and the views that keep events' data in the store's transcoding (items, audit
log): they hold ciphertext only. Two places held the plain value and are cleaned here: the
deliveries outbox (`recipients`, and `last_error`, where an SMTP server may have quoted the
address), by replacing the value with `[erased]`; and the database files, whose free pages and
write-ahead log may still hold the deleted key and the replaced rows: SQLite is VACUUMed and its
WAL checkpointed and truncated, PostgreSQL's touched tables are rewritten (VACUUM FULL).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, inspect, or_, update

from domain.actor import Actor
from domain.personal_data import ERASED
from personal_data.keys import personal_data_keys
from scheduler.outbox import deliveries

# Columns outside the event store that may hold a person's plain data (not ciphertext).
PLAIN_COPIES = ((deliveries, ("recipients", "last_error")),)


@dataclass(frozen=True)
class ErasureReport:
    username: str
    keys_deleted: int
    rows_scrubbed: int
    events_in_clear: int  # stored before encryption: still hold the plain value (events are never rewritten)
    disk: str  # what was done to free the bytes on disk

    def lines(self) -> list[str]:
        said = [f"Erased {self.username}'s personal data: {self.keys_deleted} key(s) deleted, "
                f"{self.rows_scrubbed} delivery row(s) scrubbed; {self.disk}."]
        if self.events_in_clear:
            said.append(f"{self.events_in_clear} event(s) stored before personal data was encrypted still hold "
                        "the address in plain text: they cannot be erased without rewriting history, which "
                        "this store never does.")
        elif not self.keys_deleted:
            said.append("There was no key: nothing of theirs was stored encrypted (no address, or erased before).")
        return said

    def document(self) -> dict[str, Any]:
        return {"username": self.username, "keys_deleted": self.keys_deleted, "rows_scrubbed": self.rows_scrubbed,
                "events_in_clear": self.events_in_clear, "disk": self.disk, "message": " ".join(self.lines())}


def erase_person(service: Any, engine: Engine, username: str, reason: str, *, actor: Actor) -> ErasureReport:
    """Erase the user's personal data everywhere the store keeps it (admins only; see the module's text)."""
    erasure = service.erase_personal_data(username, reason, actor=actor)
    scrubbed = scrub_plain_copies(engine, erasure.plain_values)
    return ErasureReport(username, erasure.keys_deleted, scrubbed, erasure.events_in_clear, free_erased_bytes(engine))


def scrub_plain_copies(engine: Engine, values: list[str]) -> int:
    """Replace each value by `[erased]` wherever a view copied it in plain text; how many rows changed."""
    if not values:
        return 0
    present = set(inspect(engine).get_table_names())
    changed = 0
    with engine.begin() as conn:
        for table, names in PLAIN_COPIES:
            if table.name not in present:
                continue
            for value in values:
                columns = [table.c[name] for name in names]
                changed += conn.execute(update(table).where(or_(*(c.contains(value, autoescape=True)
                                                                  for c in columns)))
                                        .values({c.name: func.replace(c, value, ERASED) for c in columns})).rowcount
    return changed


def free_erased_bytes(engine: Engine) -> str:
    """Leave no deleted key or replaced row in free pages or the write-ahead log; says what it did."""
    if engine.dialect.name == "sqlite":
        return _vacuum_sqlite(engine.url.database)
    tables = [t.name for t, _names in PLAIN_COPIES] + [personal_data_keys.name]
    present = set(inspect(engine).get_table_names())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for name in tables:
            if name in present:
                conn.exec_driver_sql(f'VACUUM FULL "{name}"')  # rewrites the table: dead rows' bytes are gone
    return "the key and delivery tables were rewritten (VACUUM FULL)"


def _vacuum_sqlite(path: str) -> str:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("VACUUM")  # a fresh copy of every page in use: free pages (old rows, the key) are gone
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError as error:  # the keys are deleted and the erasure recorded: say what is left
        return (f"the database could not be vacuumed ({error}): the key is deleted, but its bytes and the "
                "replaced rows may stay in free pages until then; run the command again when the store is idle")
    finally:
        conn.close()
    if busy:
        return ("the database was vacuumed, but a reader kept the write-ahead log from being emptied: "
                "it is overwritten as the store goes on (run the command again when it is idle to be sure)")
    return "the database was vacuumed and its write-ahead log emptied"

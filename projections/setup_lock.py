"""Setting up the store (event tables, view tables, tracking rows) is safe for many processes at once.

On a fresh database several processes (`serve` workers, `project`, `schedule`) may all find a
table or a tracking row missing and all create it: PostgreSQL then refuses all but one with a
unique violation (on the row, or on the catalogue for a table), and the others died at start.
On PostgreSQL the set-up runs under an advisory lock named after the schema, so one process
sets up and the others then find everything there. On SQLite each writer's transaction
already takes the file's lock at once (`BEGIN IMMEDIATE`) and tables are created `IF NOT
EXISTS`; a set-up that still meets the lock busy or a row just made by another is run again.
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Mapping, TypeVar

import sqlalchemy.exc
from eventsourcing.persistence import IntegrityError as RecorderIntegrityError

from projections.store_errors import STORE_ERRORS, StoreTrouble, store_trouble

log = logging.getLogger("secretariat.store")
T = TypeVar("T")
SQLITE_ATTEMPTS = 8


def set_up_once(store_env: Mapping[str, str], set_up: Callable[[], T]) -> T:
    """Run `set_up` (idempotent: it creates only what is missing) so that concurrent ones never collide."""
    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        return _under_advisory_lock(store_env, set_up)
    for attempt in range(1, SQLITE_ATTEMPTS + 1):
        try:
            return set_up()
        except (sqlalchemy.exc.IntegrityError, RecorderIntegrityError, *STORE_ERRORS) as error:
            raced = isinstance(error, (sqlalchemy.exc.IntegrityError, RecorderIntegrityError)) or (
                store_trouble(error) is StoreTrouble.BUSY)
            if not raced or attempt == SQLITE_ATTEMPTS:
                raise
            log.info("setting up the store met another process doing the same (%s); trying again", error)
            time.sleep(0.05 * 2 ** attempt)
    raise AssertionError("unreachable")


def _under_advisory_lock(store_env: Mapping[str, str], set_up: Callable[[], T]) -> T:
    import psycopg

    schema = store_env.get("POSTGRES_SCHEMA") or "public"
    with psycopg.connect(dbname=store_env["POSTGRES_DBNAME"], host=store_env.get("POSTGRES_HOST"),
                         port=store_env.get("POSTGRES_PORT"), user=store_env.get("POSTGRES_USER"),
                         password=store_env.get("POSTGRES_PASSWORD") or None, autocommit=True) as conn:
        # A session lock, held by this connection while set_up runs on its own connections.
        key = f"secretariat set-up of schema {schema}"
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        try:
            return set_up()
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))

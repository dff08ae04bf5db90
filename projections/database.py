"""The SQLAlchemy engine for the read models, in the same database as the events."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL

STORE_KEYS = ("PERSISTENCE_MODULE", "SQLITE_DBNAME", "POSTGRES_DBNAME", "POSTGRES_HOST", "POSTGRES_PORT",
              "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_SCHEMA")


def engine_for(store_env: dict[str, str], *, writer: bool = False) -> Engine:
    """An engine on the database the event store uses (its `eventsourcing` settings name it).

    On SQLite a `writer` engine takes the write lock when each transaction begins; readers
    never do, so the API's reads do not queue behind a projection's batch.
    """
    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        engine = create_engine(f"sqlite:///{store_env['SQLITE_DBNAME']}", pool_size=8, max_overflow=8)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):  # pragma: no cover - runs once per new connection
            # Wait for the event writer's lock rather than fail; the library already chose WAL.
            dbapi_connection.execute("PRAGMA busy_timeout = 10000")
            # Views may skip the fsync per commit: in WAL mode a commit is still atomic and survives a
            # crash of the process; a power cut may undo the last batches, rows and position together,
            # and the runner then projects them again. The events themselves stay fully synchronous.
            dbapi_connection.execute("PRAGMA synchronous = NORMAL")
            # Let the "begin" hook below open transactions instead of the driver.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(connection):  # pragma: no cover
            # A writer takes the lock at once, so two writers queue up instead of one
            # failing halfway with "database is locked"; a reader reads a snapshot.
            connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

        return engine
    url = URL.create("postgresql+psycopg", username=store_env.get("POSTGRES_USER") or None,
                     password=store_env.get("POSTGRES_PASSWORD") or None, host=store_env.get("POSTGRES_HOST"),
                     port=int(store_env.get("POSTGRES_PORT") or 5432), database=store_env["POSTGRES_DBNAME"])
    options = []
    if schema := store_env.get("POSTGRES_SCHEMA"):
        options.append(f"-csearch_path={schema}")
    if writer:
        # As SQLite's synchronous=NORMAL above: a view's commit need not wait for the WAL flush. A
        # crash of the database may undo its last batches, rows and position together, and the
        # runner projects them again; the events' own commits stay synchronous.
        options.append("-csynchronous_commit=off")
    connect_args = {"options": " ".join(options)} if options else {}
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True, connect_args=connect_args)


def as_utc(value: datetime | None) -> datetime | None:
    """An instant read from a view as an aware UTC datetime: SQLite hands back naive ones (all stored as UTC)."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)

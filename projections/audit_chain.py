"""The audit chain: every event of the log sealed in a hash chain, and its verification.

`AuditChainProjection` follows the log like a view and appends one row per event to
`audit_chain` (position, hash, originator id, version), in the runner's transaction with its
tracking position: each event is sealed exactly once, whatever crashes. The hash is computed
from the stored bytes of the event (see projections.chain for the algorithm), never from a
re-encoded domain event, and chains on the table's last row.

Unlike a view, the seal must never be recomputed: a rebuild would seal a tampered log as if it
were genuine. So it is not rebuildable, yet, unlike the deliveries outbox, it starts at the first
event when first set up (an existing store is sealed from position 1 on its first start).

`verify_store` recomputes the chain from the stored events and compares it with the seal,
reporting the first position where they disagree.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence
from uuid import UUID

from sqlalchemy import BigInteger, Column, Connection, Engine, Integer, MetaData, String, Table, func, inspect, select

from projections.chain import GENESIS, Sealed, Stored, chain, verify_entries

metadata = MetaData()

audit_chain = Table(
    "audit_chain", metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("originator_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),  # the entry's number in the chain: the last one's is its length
)

READ_BATCH = 10_000


class AuditChainProjection:
    """Seals each event of the log into the hash chain (see the module's text)."""

    name = "audit_chain"
    version = 1
    tables = (audit_chain,)
    # Read by ProjectionRunner: never rebuilt, yet sealed from the first event; and given the stored
    # notifications themselves (the bytes the hash covers) rather than decoded domain events.
    rebuildable = False
    starts_at_head = False
    reads_stored = True

    def beside(self, suffix: str) -> "AuditChainProjection":
        raise TypeError("the audit chain is never rebuilt: it would seal a tampered log as genuine")

    def handle(self, conn: Connection, batch: Sequence[tuple[int, Any]]) -> None:
        last = conn.execute(select(audit_chain.c.hash, audit_chain.c.seq)
                            .order_by(audit_chain.c.position.desc()).limit(1)).first()
        previous, seq = last if last else (GENESIS, 0)
        entries = [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for _position, n in batch]
        rows = [{"position": position, "hash": digest, "originator_id": str(entry[1]), "version": entry[2],
                 "seq": seq + number}
                for number, ((position, digest), entry) in enumerate(zip(chain(entries, previous), entries), 1)]
        if rows:
            conn.execute(audit_chain.insert(), rows)


def chain_head(engine: Engine) -> dict[str, Any]:
    """The chain's length and head hash (GENESIS while empty), for /health."""
    with engine.connect() as conn:  # one primary-key lookup: /health is asked often
        last = conn.execute(select(audit_chain.c.seq, audit_chain.c.hash)
                            .order_by(audit_chain.c.position.desc()).limit(1)).first()
    return {"length": last.seq, "head": last.hash} if last else {"length": 0, "head": GENESIS}


def verify_store(app: Any, engine: Engine, progress: Callable[[int], None] | None = None,
                 batch_size: int = READ_BATCH) -> dict[str, Any]:
    """Recompute the chain from the stored events and compare it with the seal (see chain.verify_entries).

    The log's head is read first, then the seal's last position: stored events up to the later of
    the two are checked (one the seal lacks is reported), and events recorded after verification
    began are left for the next one. The events are read with SQL straight from the recorder's
    table (see `stored_events`), as an outside tool would read them, from its lowest position if an
    event was put below the first (SQLite takes any rowid).
    """
    with engine.connect() as events, engine.connect() as seals:
        table, position = _events_table(app, events)
        lowest, head = _rows(events, f"SELECT MIN({position}), MAX({position}) FROM {table}")[0]
        sealed_to = (seals.execute(select(func.max(audit_chain.c.position))).scalar() or 0
                     if inspect(seals).has_table(audit_chain.name) else 0)
        first = 1 if lowest is None else min(lowest, 1)
        return verify_entries(stored_events(app, events, max(head or 0, sealed_to), batch_size, first),
                              _sealed(seals, sealed_to, batch_size), progress=progress)


def stored_events(app: Any, conn: Connection, stop: int, batch_size: int = READ_BATCH,
                  first: int = 1) -> Iterator[Stored]:
    """The stored events from position `first` to `stop`, in order, read from the recorder's table.

    The originator id is given in its canonical form, as the library reads it back (SQLite stores 32
    hex digits, PostgreSQL a uuid); the state as the stored bytes (SQLite's CAST reads a value
    written there as TEXT as its bytes, as an outside tool would).
    """
    table, position = _events_table(app, conn)
    sqlite = conn.dialect.name == "sqlite"
    columns = (f"{position}, {'originator_id' if sqlite else 'CAST(originator_id AS TEXT)'}, originator_version, "
               f"topic, {'CAST(state AS BLOB)' if sqlite else 'state'}")
    ids: dict[Any, str] = {}  # an item's events share its id: each is made canonical once
    for rows in _batches(conn, columns, table, position, first, stop, batch_size):
        for number, originator_id, version, topic, state in rows:
            item = ids.get(originator_id) or ids.setdefault(originator_id, _canonical_id(originator_id))
            yield number, item, version, topic, state


def _sealed(conn: Connection, stop: int, batch_size: int) -> Iterator[Sealed]:
    for rows in _batches(conn, "position, hash, originator_id, version", audit_chain.name, "position", 1, stop,
                         batch_size):
        yield from rows


def _batches(conn: Connection, columns: str, table: str, position: str, first: int, stop: int,
             size: int) -> Iterator[list[tuple]]:
    """The rows of `table` from position `first` to `stop` in order, a range of `size` positions per query.

    A range rather than `>= start ORDER BY ... LIMIT`: each query reads at most `size` rows whatever
    the plan (on a PostgreSQL table without statistics yet, the LIMIT query sorted every row up to
    `stop` each time). An empty range skips to the next stored position, so gaps cost one query each.
    """
    start, stop = int(first), int(stop)
    while start <= stop:
        rows = _rows(conn, f"SELECT {columns} FROM {table} WHERE {position} BETWEEN {start} AND "
                           f"{min(start + size - 1, stop)} ORDER BY {position}")
        if rows:
            yield rows
            start += size
        else:
            following = _rows(conn, f"SELECT MIN({position}) FROM {table} WHERE {position} >= {start}")[0][0]
            start = stop + 1 if following is None else following


def _events_table(app: Any, conn: Connection) -> tuple[str, str]:
    """The recorder's events table (quoted, in its PostgreSQL schema) and its position column."""
    quote = conn.dialect.identifier_preparer.quote
    name = quote(app.recorder.events_table_name)
    if conn.dialect.name == "sqlite":
        return name, "rowid"
    return f"{quote(app.recorder.datastore.schema)}.{name}", "notification_id"


def _rows(conn: Connection, sql: str) -> list[tuple]:
    """The rows of one query (its values written in it, all integers), by the driver's own cursor: for
    100,000 events 0.27 s against SQLAlchemy's 0.35 s (its rows), on SQLite."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def _canonical_id(stored: Any) -> str:
    """An originator id as the library reads it back (a UUID, in its canonical form); else as stored."""
    try:
        return str(UUID(stored))
    except (TypeError, ValueError, AttributeError):
        return str(stored)

"""The audit chain's seal: every event of the log sealed in a hash chain, as the log is followed.

`AuditChainProjection` follows the log like a view and appends one row per event to
`audit_chain` (position, hash, originator id, version), in the runner's transaction with its
tracking position: each event is sealed exactly once, whatever crashes. The hash is computed
from the stored bytes of the event (see audit.chain for the algorithm), never from a
re-encoded domain event, and chains on the table's last row.

Unlike a view, the seal must never be recomputed: a rebuild would seal a tampered log as if it
were genuine. So it is not rebuildable, yet, unlike the deliveries outbox, it starts at the first
event when first set up (an existing store is sealed from position 1 on its first start).

audit.store reads the seal back (its head, its entries) and verifies the store against it.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import BigInteger, Column, Connection, Integer, MetaData, String, Table, select

from audit.chain import GENESIS, entry_hash
from projections.bulk import insert_rows

metadata = MetaData()

audit_chain = Table(
    "audit_chain", metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("originator_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("seq", BigInteger, nullable=False),  # the entry's number in the chain: the last one's is its length
)


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

    def __init__(self) -> None:
        # (position, hash, seq) of the last entry the batch handled last sealed (see _last_before).
        self._sealed_last: tuple[int, str, int] | None = None

    def handle(self, conn: Connection, batch: Sequence[tuple[int, Any]]) -> None:
        previous, seq = self._last_before(conn, batch)
        entries = [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for _position, n in batch]
        rows = [(position, digest, str(entry[1]), entry[2], seq + number)
                for number, ((position, digest), entry) in enumerate(zip(chain(entries, previous), entries), 1)]
        insert_rows(conn, audit_chain, _COLUMNS, rows)  # below SQLAlchemy's per-row handling (projections/bulk.py)
        if rows:
            self._sealed_last = (rows[-1][0], rows[-1][1], rows[-1][4])

    def _last_before(self, conn: Connection, batch: Sequence[tuple[int, Any]]) -> tuple[str, int]:
        """The hash and number of the chain's last entry before the batch: as the batch sealed last left them,
        if it ended right before this one, else read from the table. Safe whatever became of that batch: the
        chain's position is then just before this batch's first (no event lies between them), and the chain up
        to a position is the same whoever sealed it (every event from the first, hashed from its stored bytes).
        A batch retried after a rollback starts at or before it, and reads."""
        last = self._sealed_last
        if last is not None and batch and batch[0][0] == last[0] + 1:
            return last[1], last[2]
        found = conn.execute(_LAST_ENTRY).first()
        return tuple(found) if found else (GENESIS, 0)


_COLUMNS = ("position", "hash", "originator_id", "version", "seq")
# Built once: a follower reads it for every batch, and building it cost more than running it.
_LAST_ENTRY = select(audit_chain.c.hash, audit_chain.c.seq).order_by(audit_chain.c.position.desc()).limit(1)


def chain(entries: Iterable[tuple[int, Any, int, str, bytes]], previous: str = GENESIS) -> Iterator[tuple[int, str]]:
    """(position, hash) of each stored event in turn, chained from `previous`: sealing, not checking."""
    for position, originator_id, version, topic, state in entries:
        previous = entry_hash(previous, position, originator_id, version, topic, state)
        yield position, previous

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
    began are left for the next one.
    """
    head = app.recorder.max_notification_id() or 0
    with engine.connect() as conn:
        sealed_to = (conn.execute(select(func.max(audit_chain.c.position))).scalar() or 0
                     if inspect(conn).has_table(audit_chain.name) else 0)
    return verify_entries(_stored(app, max(head, sealed_to), batch_size), _sealed(engine, sealed_to, batch_size),
                          progress=progress)


def _stored(app: Any, stop: int, batch_size: int) -> Iterator[Stored]:
    start = 1
    while start <= stop:
        notifications = app.recorder.select_notifications(start, batch_size, stop=stop)
        for n in notifications:
            yield n.id, n.originator_id, n.originator_version, n.topic, n.state
        if len(notifications) < batch_size:
            return
        start = notifications[-1].id + 1


def _sealed(engine: Engine, stop: int, batch_size: int) -> Iterator[Sealed]:
    after = 0
    c = audit_chain.c
    while after < stop:
        with engine.connect() as conn:
            rows = conn.execute(select(c.position, c.hash, c.originator_id, c.version)
                                .where(c.position > after, c.position <= stop)
                                .order_by(c.position).limit(batch_size)).all()
        yield from rows
        if len(rows) < batch_size:
            return
        after = rows[-1][0]

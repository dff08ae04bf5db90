"""Each person's keys, in a table of their own beside the event store's (never in an event).

One table, `personal_data_keys`, in the event store's database: a backup of the store holds the
keys with the events (see backup.py), and the one transaction that deletes a person's rows shreds
everything encrypted under them. Keys are read afresh on every use, never cached: an erasure made
by another process (the command line while the server runs) must take effect at once, and a key
lookup by primary key costs tens of microseconds beside the command's own writes.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from threading import Lock

from sqlalchemy import Column, DateTime, Engine, Index, LargeBinary, MetaData, String, Table, delete, event, select

metadata = MetaData()

personal_data_keys = Table(
    "personal_data_keys", metadata,
    Column("key_id", String(36), primary_key=True),
    Column("subject", String(80), nullable=False),  # the username whose data the key encrypts
    Column("key", LargeBinary(32), nullable=False),  # AES-256
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_personal_data_keys_subject", "subject"),
)

KEY_BYTES = 32


class SqlPersonalKeys:
    """The key table through SQLAlchemy (SQLite or PostgreSQL); `domain.personal_data.PersonalKeys`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        if engine.dialect.name == "sqlite":
            # A deleted key's bytes are overwritten with zeros in the file, not merely left on a free page.
            event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA secure_delete = ON"))

    def set_up(self) -> None:
        metadata.create_all(self.engine)

    def key_for(self, subject: str) -> tuple[str, bytes]:
        with self.engine.connect() as conn:
            row = conn.execute(select(personal_data_keys.c.key_id, personal_data_keys.c.key)
                               .where(personal_data_keys.c.subject == subject)
                               .order_by(personal_data_keys.c.created_at).limit(1)).first()
            if row is not None:
                return row.key_id, bytes(row.key)
            # Two processes may both make a first key at once: both keys are valid, erasure deletes both.
            key_id, key = str(uuid.uuid4()), os.urandom(KEY_BYTES)
            conn.execute(personal_data_keys.insert().values(key_id=key_id, subject=subject, key=key,
                                                            created_at=datetime.now(timezone.utc)))
            conn.commit()
            return key_id, key

    def key(self, key_id: str) -> bytes | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(personal_data_keys.c.key).where(personal_data_keys.c.key_id == key_id)).first()
        return bytes(row.key) if row is not None else None

    def erase(self, subject: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(personal_data_keys).where(personal_data_keys.c.subject == subject)).rowcount

    def close(self) -> None:
        self.engine.dispose()


class MemoryPersonalKeys:
    """Keys in memory, for the in-memory event store (tests, nothing kept)."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[str, bytes]] = {}  # key id -> (subject, key)
        self._lock = Lock()

    def key_for(self, subject: str) -> tuple[str, bytes]:
        with self._lock:
            for key_id, (owner, key) in self._keys.items():
                if owner == subject:
                    return key_id, key
            key_id = str(uuid.uuid4())
            self._keys[key_id] = (subject, os.urandom(KEY_BYTES))
            return key_id, self._keys[key_id][1]

    def key(self, key_id: str) -> bytes | None:
        found = self._keys.get(key_id)
        return found[1] if found else None

    def erase(self, subject: str) -> int:
        with self._lock:
            gone = [k for k, (owner, _key) in self._keys.items() if owner == subject]
            for key_id in gone:
                del self._keys[key_id]
            return len(gone)

    def close(self) -> None:
        pass

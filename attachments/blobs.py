"""Where attached files' bytes are kept, by their SHA-256: a folder beside the SQLite file, or a table on
PostgreSQL (the same database as the events, so one backup holds both).

`keep` is called before the event naming the file is saved (an event without its bytes must never
exist; bytes without an event are harmless, and kept again by the next upload of the same file). A
read copies the bytes aside while hashing them, and refuses them if they no longer match their digest,
so what is served is exactly what was checked. Neither side ever holds a whole file in memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator, Mapping, Protocol

from sqlalchemy import Column, Engine, Integer, LargeBinary, MetaData, String, Table, delete, select
from sqlalchemy.exc import IntegrityError

from attachments.kinds import CHUNK
from projections.database import engine_for
from projections.setup_lock import set_up_once
from secretariat.file_modes import OWNER_ONLY_FILE, make_owner_only_folder

SPOOL_IN_MEMORY = 1 << 20  # a copy being served stays in memory up to this, then goes to a temporary file


class StoredFileChanged(Exception):
    """The kept bytes are missing, or no longer match the digest the item recorded."""


class BlobStore(Protocol):
    def keep(self, sha256: str, source: BinaryIO) -> None:
        """Keep the bytes of `source` (from its start) under `sha256`, durably, before returning."""

    def chunks(self, sha256: str) -> Iterator[bytes]:
        """The kept bytes, in order; StoredFileChanged if there are none."""


def verified_copy(store: BlobStore, sha256: str, size: int) -> BinaryIO:
    """A copy of the kept bytes, rewound, after checking that they are still the file recorded."""
    copy = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    digest, copied = hashlib.sha256(), 0
    try:
        for chunk in store.chunks(sha256):
            digest.update(chunk)
            copied += len(chunk)
            copy.write(chunk)
        if copied != size or digest.hexdigest() != sha256:
            raise StoredFileChanged(f"the stored file no longer matches its digest {sha256}: it was changed or "
                                    "damaged after it was attached, and is not served")
    except BaseException:
        copy.close()
        raise
    copy.seek(0)
    return copy


class FolderBlobs:
    """Files named by their digest in an owner-only folder (two-letter subfolders keep each one small)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / sha256

    def keep(self, sha256: str, source: BinaryIO) -> None:
        path = self._path(sha256)
        make_owner_only_folder(path.parent)
        descriptor, part = tempfile.mkstemp(dir=path.parent, prefix=".part-")  # owner-only, as mkstemp makes it
        try:
            source.seek(0)
            with os.fdopen(descriptor, "wb") as out:
                while chunk := source.read(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(part, OWNER_ONLY_FILE)
            os.replace(part, path)  # whole or not at all; a damaged copy left by anything else is replaced
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)  # the new name survives a crash too
        finally:
            os.close(folder)

    def chunks(self, sha256: str) -> Iterator[bytes]:
        try:
            file = self._path(sha256).open("rb")
        except FileNotFoundError:
            raise _missing(sha256) from None
        with file:
            while chunk := file.read(CHUNK):
                yield chunk


metadata = MetaData()
attachment_chunks = Table(
    "attachment_chunks", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("n", Integer, primary_key=True),  # 0, 1, ...: the file is its chunks in this order
    Column("content", LargeBinary, nullable=False),
)


class TableBlobs:
    """Files as rows of chunks in one table; a file's chunks are written in one transaction, so chunk 0
    present means the whole file is."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def setup(self) -> None:
        metadata.create_all(self.engine)

    def keep(self, sha256: str, source: BinaryIO) -> None:
        table = attachment_chunks
        try:
            with self.engine.begin() as conn:
                # Written over whatever is there: the digest names the bytes, so a copy damaged since it was
                # kept is repaired by keeping the file again (one transaction: readers see old or new whole).
                conn.execute(delete(table).where(table.c.sha256 == sha256))
                source.seek(0)
                n = 0
                while chunk := source.read(CHUNK):
                    conn.execute(table.insert().values(sha256=sha256, n=n, content=chunk))
                    n += 1
        except IntegrityError:
            pass  # the same file, kept at the same moment by another upload: it is there

    def chunks(self, sha256: str) -> Iterator[bytes]:
        table, found = attachment_chunks, False
        with self.engine.connect() as conn:
            rows = conn.execution_options(yield_per=1).execute(
                select(table.c.content).where(table.c.sha256 == sha256).order_by(table.c.n))
            for (content,) in rows:
                found = True
                yield bytes(content)
        if not found:
            raise _missing(sha256) from None


def _missing(sha256: str) -> StoredFileChanged:
    return StoredFileChanged(f"the stored file {sha256} is missing: it was removed after it was attached")


def blob_store_for(store_env: Mapping[str, str]) -> BlobStore:
    """A folder beside the SQLite file (`events.db` -> `events-attachments/`), or the table on PostgreSQL."""
    if store_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        database = Path(store_env["SQLITE_DBNAME"]).resolve()
        folder = database.parent / f"{database.stem}-attachments"
        make_owner_only_folder(folder)
        return FolderBlobs(folder)
    blobs = TableBlobs(engine_for(dict(store_env)))
    set_up_once(store_env, blobs.setup)  # safe beside other processes setting up the same fresh store
    return blobs

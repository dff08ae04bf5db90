"""What the runner asks of a view (a projection) and of a rebuild's copy of one, declared as Protocols."""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

from sqlalchemy import Connection, MetaData, Table


class Projection(Protocol):
    name: str
    version: int  # raise it whenever the tables or what goes into them change
    tables: tuple[Table, ...]

    def handle(self, conn: Connection, batch: Sequence[tuple[int, Any]]) -> None: ...

    def beside(self, suffix: str) -> "Projection":
        """The same projection writing into fresh copies of its tables, named with `suffix`."""


class Writes(Protocol):
    def write(self, conn: Connection) -> None:
        """Write these rows in the caller's transaction."""


@runtime_checkable
class Gathering(Protocol):
    """A copy (from `beside`) that applies a rebuild in memory and writes each row once at the end.

    `gather` applies a batch with no SQL, so the runner calls it with no transaction open; the rows it
    and `prepare_flush` line up are handed over by `take_pending`, and the runner writes them in a short
    transaction of their own while the next batch is gathered.
    """

    def gather(self, batch: Sequence[tuple[int, Any]]) -> None: ...

    def prepare_flush(self) -> bool:
        """Line up the next chunk of what was gathered; True while more remains after it."""

    def take_pending(self) -> Writes:
        """The rows lined up so far, to write; they are no longer pending here."""


BUILDING = "__building"


def copies_beside(tables: Sequence[Table], suffix: str) -> tuple[Table, ...]:
    """Fresh copies of a view's tables, named with `suffix`, for a projection's `beside`.

    The copies have no secondary indexes: rows go in faster, and the indexes are made with
    their live names when the copies take the live tables' place.
    """
    copies = MetaData()
    found = []
    for table in tables:
        copy = table.to_metadata(copies, name=table.name + suffix)
        copy.indexes.clear()
        found.append(copy)
    return tuple(found)


def rebuildable(projection: Projection) -> bool:
    """False for a projection whose rows are work done, not a view (the deliveries outbox): such a one
    starts at the head of the log when first set up, and is never rebuilt, lest the work be done again."""
    return getattr(projection, "rebuildable", True)


def starts_at_head(projection: Projection) -> bool:
    """Whether it starts at the head of the log when first set up: by default one that is not rebuildable
    does; the audit chain, which is never rebuilt yet must cover the whole log, says `starts_at_head = False`."""
    return getattr(projection, "starts_at_head", not rebuildable(projection))

"""Plain INSERTs of many rows at once, below SQLAlchemy's per-row parameter handling.

A rebuild writes about five rows per event (the view, its history and the timeline). Through
`conn.execute(table.insert(), dicts)` SQLAlchemy builds and checks a parameter set per row,
which cost more than the database's own work. Here the statement is made once per table and
columns, the values go as tuples, and only the columns whose type converts values for the
driver (dates and datetimes on SQLite, booleans) are converted, by the type's own bind
processor, so what is stored is what SQLAlchemy would store. On SQLite the driver's
`executemany` runs it; on PostgreSQL a COPY does, inside the caller's transaction.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

Row = tuple[Any, ...]


def insert_rows(conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Row]) -> None:
    """Insert `rows` (tuples of the columns `names`, in that order) into `table`, in the caller's transaction."""
    if not rows:
        return
    statement, convert = _plan(conn.dialect, table, tuple(names))
    if convert:
        rows = [convert(row) for row in rows]
    driver = conn.connection.driver_connection
    if conn.dialect.name == "postgresql" and len(rows) == 1:
        # A live batch's one row: a COPY's start and end cost twice an INSERT's CPU (from two rows on, less).
        with driver.cursor() as cursor:
            cursor.execute(_one_row_insert(conn.dialect, table, tuple(names)), rows[0])
    elif conn.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    else:
        driver.executemany(statement, rows)


def from_dicts(names: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[Row]:
    """The same rows as tuples of the columns `names` (for rows made as dicts)."""
    return [tuple(row.get(name) for name in names) for row in rows]


class PendingRows:
    """Rows waiting to be inserted, per table and columns, for a writer that prepares them before the
    transaction that writes them (a rebuild applies its events with no lock held, see runner.rebuild)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[Table, tuple[str, ...]], list[Row]] = {}

    def add(self, table: Table, names: Sequence[str], rows: Sequence[Row]) -> None:
        if rows:
            self._rows.setdefault((table, tuple(names)), []).extend(rows)

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def take(self) -> "PendingRows":
        """The rows pending so far, as rows of their own; none are left pending here."""
        taken = PendingRows()
        taken._rows, self._rows = self._rows, {}
        return taken

    def write(self, conn: Connection) -> None:
        """Insert every pending row in the caller's transaction, and forget them."""
        pending, self._rows = self._rows, {}
        for (table, names), rows in pending.items():
            insert_rows(conn, table, names, rows)


@functools.cache
def _one_row_insert(dialect: Dialect, table: Table, names: tuple[str, ...]) -> str:
    """PostgreSQL's INSERT of a row of these columns (psycopg's placeholders)."""
    quote = dialect.identifier_preparer.quote
    return (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join(['%s'] * len(names))})")


@functools.cache
def _plan(dialect: Dialect, table: Table, names: tuple[str, ...]) -> tuple[str, Callable[[Row], Row] | None]:
    """The statement for these columns on this dialect, and what converts a row's values (None: nothing to)."""
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    if dialect.name == "postgresql":
        statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
    else:
        marks = ", ".join("?" * len(names))
        statement = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]
    if not any(processors):
        return statement, None
    steps = [(i, p) for i, p in enumerate(processors) if p is not None]

    def convert(row: Row) -> Row:
        values = list(row)
        for i, process in steps:
            value = values[i]
            if value is not None:
                values[i] = process(value)
        return tuple(values)

    return statement, convert

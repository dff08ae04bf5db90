"""The items view through time: what the dashboard shows, each row with the log positions it held between.

Written by the items projection in the same transaction as the items view, so it is as far
along the log as the view is and is rebuilt with it. Each row holds from `from_pos` (the
position of the event that made it) until just before `to_pos` (the event that replaced it;
`OPEN` while it still holds). The dashboard as of an instant is then a few indexed queries
(projections/as_of.py) instead of a replay of the log:

- `view_history_counters`: the dashboard's counters, one row per value a counter had: items
  per collection and state, ended stays per collection, state and duration bucket, a
  mandate's tasks per state. A counter at zero has no row, as in the live tables.
- `view_history_mandates`: each mandate's state and reference.
- `view_history_deadlines`: each open deadline with what the dashboard lists of it.
- `view_history_timeline`: the positions at which the latest event time seen so far grew, so
  that an instant maps to the log position a replay would stop at.

A row valid at position P has `from_pos <= P < to_pos`. Two range conditions cannot both be
answered by one B-tree, so each closed row also keeps `span`, the bit length of its length:
a row of span L that holds at P began after P - 2^L, so the rows valid at P are found by one
short index range per span (`held_at`), reading about twice as many rows as it returns.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from sqlalchemy import (BigInteger, Column, Connection, Date, Index, Integer, MetaData, SmallInteger, String,
                        Table, Text, TextClause, bindparam, func, select, text, tuple_)

from domain.item import WorkflowItem

metadata = MetaData()
OPEN = 2 ** 62  # the to_pos of a row that still holds
MAX_SPAN = 40  # spans up to 2^40 positions; far beyond any log this will see


def _interval_columns() -> list[Column]:
    return [Column("to_pos", BigInteger, primary_key=True), Column("from_pos", BigInteger, nullable=False),
            Column("span", SmallInteger, nullable=False)]  # 0 while open, else bit length of to_pos - from_pos


counters = Table(
    "view_history_counters", metadata,
    Column("counter", String(16), primary_key=True),  # COUNTERS
    Column("k1", String(36), primary_key=True),  # a collection, or a mandate's id
    Column("k2", String(32), primary_key=True),  # a state
    Column("k3", Integer, primary_key=True),  # a duration bucket, else 0
    *_interval_columns(),
    Column("n", Integer, nullable=False),
    Index("ix_view_history_counters_held", "counter", "span", "from_pos"),
)
ITEMS, DURATIONS, MANDATE_TASKS = "items", "durations", "mandate_tasks"

mandates = Table(
    "view_history_mandates", metadata,
    Column("id", String(36), primary_key=True),
    *_interval_columns(),
    Column("state", String(32), nullable=False),
    Column("reference", String(100)),
    Column("created_position", BigInteger, nullable=False),
    Index("ix_view_history_mandates_held", "span", "from_pos"),
)

deadlines = Table(
    "view_history_deadlines", metadata,
    Column("item_id", String(36), primary_key=True),
    Column("kind", String(32), primary_key=True),
    *_interval_columns(),
    Column("collection", String(32), nullable=False),
    Column("due", Date, nullable=False),
    Column("title", Text),
    Column("assignee", String(64)),
    Column("party", String(8)),
    Index("ix_view_history_deadlines_held", "span", "from_pos"),
    # The open rows by due, with what a list's conditions need: the first 200 that held are found without
    # reading the thousands of stale open deadlines a store may hold.
    Index("ix_view_history_deadlines_by_due", "span", "due", "item_id", "kind", "from_pos", "collection", "party"),
)

timeline = Table(
    "view_history_timeline", metadata,
    Column("position", BigInteger, primary_key=True),
    Column("reached_micros", BigInteger, nullable=False),  # the latest event time up to here, µs since 1970
    Index("ix_view_history_timeline_reached", "reached_micros", unique=True),
)

TABLES = (counters, mandates, deadlines, timeline)
MANDATES, DEADLINES = "mandates", "deadlines"  # which of a projection's history tables a row goes to
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def micros(instant: datetime) -> int:
    """Microseconds since 1970 (exact, and defined for every aware datetime, unlike a conversion to UTC)."""
    return (instant - EPOCH) // _MICROSECOND


def held_at(position: int, counter: str | None = None) -> TextClause:
    """The condition for a history table's rows that held at `position` (after the event there was applied);
    with `counter`, only that counter's rows (of `view_history_counters`). See also `closed_held_at`.

    Text, made once: as an expression it has over a hundred terms, and building them took longer than running
    them. Each term names all it needs of its index, so that SQLite reads each span's range by the index.
    """
    if counter is None:
        return _HELD_AT.bindparams(held_at=position)
    return _COUNTER_HELD_AT.bindparams(held_at=position, counter=counter)


def closed_held_at(position: int) -> TextClause:
    """As `held_at`, for the rows that no longer hold now only; the open ones held where `span = 0 AND
    from_pos <= position` (a deadline list reads those by due, see projections/as_of.py)."""
    return _CLOSED_HELD_AT.bindparams(held_at=position)


def _held_at_text(prefix: str, *, open_rows: bool = True) -> TextClause:
    return text("(" + " OR ".join([f"({prefix}span = 0 AND from_pos <= :held_at)"][:int(open_rows)] + [*(
        f"({prefix}span = {span} AND from_pos > :held_at - {1 << span} AND from_pos <= :held_at "
        f"AND to_pos > :held_at)" for span in range(1, MAX_SPAN + 1))]) + ")").bindparams(
        bindparam("held_at", type_=BigInteger))


_HELD_AT = _held_at_text("")
_COUNTER_HELD_AT = _held_at_text("counter = :counter AND ")
_CLOSED_HELD_AT = _held_at_text("", open_rows=False)


def facts(key: str, item: WorkflowItem, created_position: int) -> tuple:
    """What the history keeps of an item: its counters' keys, its mandate row and its open deadlines."""
    fields, collection = item.fields, item.workflow.collection
    keyed: list[tuple[str, tuple, tuple | None]] = []  # (which table, the row's key, its values)
    if collection == "mandates":
        keyed.append((MANDATES, (key,), (item.state, fields.get("reference"), created_position)))
    title, assignee, party = item.title, fields.get("assignee"), fields.get("party")
    keyed += [(DEADLINES, (key, d["kind"]), (collection, d["due"], title, assignee, party))
              for d in item.own_deadlines() if d["open"]]
    counted = [(ITEMS, collection, item.state, 0)]
    if collection == "tasks" and fields.get("mandate_id"):
        counted.append((MANDATE_TASKS, fields["mandate_id"], item.state, 0))
    return tuple(counted), tuple(keyed)


class ItemHistory:
    """Turns each event's change of an item's facts into history rows (see the module's docstring)."""

    def __init__(self, tables: Sequence[Table] = TABLES, *, gather: bool = False) -> None:
        self.tables = tuple(tables)
        self._counters, mandates_table, deadlines_table, self._timeline = self.tables
        self._rows = {MANDATES: mandates_table, DEADLINES: deadlines_table}
        # While gathering (a rebuild into empty copies), open rows stay in memory until `flush`.
        self._gathered: dict[tuple, _Open] | None = {} if gather else None
        self._reached: int | None = None if not gather else -(2 ** 63)

    def record(self, conn: Connection, batch: Sequence[tuple[int, Any]],
               changes: Sequence[tuple[int, tuple | None, tuple, tuple | None]]) -> None:
        """Record a batch: every (position, event) for the timeline, and each item event's
        (position, facts before or None, facts after, ended stay's (collection, state, bucket) or None)."""
        self._record_timeline(conn, batch)
        steps: list[tuple[int, Table, tuple, Any]] = []  # (position, table, key, new values or a counter delta)
        for position, before, after, ended in changes:
            deltas: dict[tuple, int] = {}
            for counted in before[0] if before else ():
                deltas[counted] = deltas.get(counted, 0) - 1
            for counted in after[0]:
                deltas[counted] = deltas.get(counted, 0) + 1
            if ended:
                deltas[(DURATIONS, *ended)] = 1
            steps += [(position, self._counters, k, d) for k, d in deltas.items() if d]
            old = {(t, k): v for t, k, v in before[1]} if before else {}
            new = {(t, k): v for t, k, v in after[1]}
            steps += [(position, self._rows[t], k, None) for (t, k) in old if (t, k) not in new]
            steps += [(position, self._rows[t], k, v) for (t, k), v in new.items() if old.get((t, k)) != v]
        if steps:
            self._write(conn, steps)

    def flush(self, conn: Connection) -> None:
        """Write the rows gathered open, and from now on write every batch as it comes."""
        gathered, self._gathered = self._gathered, None
        self._reached = None
        if gathered:
            self._insert(conn, [(table, key, row) for (table, key), row in gathered.items()])

    def _record_timeline(self, conn: Connection, batch: Sequence[tuple[int, Any]]) -> None:
        reached = self._reached
        if reached is None:
            reached = conn.execute(select(func.max(self._timeline.c.reached_micros))).scalar()
            reached = -(2 ** 63) if reached is None else reached
        rows = []
        for position, event in batch:
            at = micros(event.timestamp)
            if at > reached:
                reached = at
                rows.append({"position": position, "reached_micros": at})
        if rows:
            conn.execute(self._timeline.insert(), rows)
        if self._gathered is not None:
            self._reached = reached

    def _write(self, conn: Connection, steps: list[tuple[int, Table, tuple, Any]]) -> None:
        opened = self._gathered if self._gathered is not None else self._load(conn, steps)
        closing: list[tuple[Table, tuple, _Open, int]] = []  # rows in the database that stop holding
        closed: list[tuple[Table, tuple, _Open, int]] = []  # rows made and replaced within this batch
        for position, table, key, change in steps:
            old = opened.pop((table, key), None)
            if table is self._counters:
                n = (old.values[0] if old else 0) + change
                values = (n,) if n else None
            else:
                values = change
            if old is not None:
                if old.values == values:
                    opened[(table, key)] = old
                    continue
                if old.from_pos < position:  # a row replaced at the position that made it never held
                    (closing if old.stored else closed).append((table, key, old, position))
            if values is not None:
                opened[(table, key)] = _Open(position, values, stored=False)
        self._close(conn, closing)
        self._insert(conn, [(t, k, o) for t, k, o, _ in closed], [p for *_, p in closed])
        if self._gathered is None:
            self._insert(conn, [(t, k, o) for (t, k), o in opened.items() if not o.stored])

    def _load(self, conn: Connection, steps: Iterable[tuple[int, Table, tuple, Any]]) -> dict[tuple, "_Open"]:
        """The stored open rows of the keys the steps touch."""
        wanted: dict[Table, set[tuple]] = {}
        for _, table, key, _ in steps:
            wanted.setdefault(table, set()).add(key)
        found: dict[tuple, _Open] = {}
        for table, keys in wanted.items():
            key_columns, value_columns = _columns(table)
            among = (key_columns[0].in_([k for k, in keys]) if len(key_columns) == 1
                     else tuple_(*key_columns).in_(list(keys)))
            query = select(*key_columns, table.c.from_pos, *value_columns).where(table.c.to_pos == OPEN, among)
            width = len(key_columns)
            for row in conn.execute(query):
                found[(table, tuple(row[:width]))] = _Open(row[width], tuple(row[width + 1:]), stored=True)
        return found

    def _close(self, conn: Connection, closing: list[tuple[Table, tuple, "_Open", int]]) -> None:
        by_table: dict[Table, list[dict]] = {}
        for table, key, old, position in closing:
            key_columns, _ = _columns(table)
            by_table.setdefault(table, []).append({**{f"k_{c.name}": v for c, v in zip(key_columns, key)},
                                                   "new_to": position, "new_span": (position - old.from_pos)
                                                   .bit_length()})
        for table, rows in by_table.items():
            key_columns, _ = _columns(table)
            conn.execute(table.update().where(table.c.to_pos == OPEN, *(c == bindparam(f"k_{c.name}")
                                                                       for c in key_columns))
                         .values(to_pos=bindparam("new_to"), span=bindparam("new_span")), rows)

    @staticmethod
    def _insert(conn: Connection, rows: list[tuple[Table, tuple, "_Open"]], ends: list[int] | None = None) -> None:
        by_table: dict[Table, list[dict]] = {}
        for i, (table, key, row) in enumerate(rows):
            names = _names(table)
            to_pos = ends[i] if ends else OPEN
            span = (to_pos - row.from_pos).bit_length() if ends else 0
            by_table.setdefault(table, []).append(dict(zip(names, (*key, *row.values, row.from_pos, to_pos, span))))
        for table, values in by_table.items():
            conn.execute(table.insert(), values)


@functools.cache
def _columns(table: Table) -> tuple[list[Column], list[Column]]:
    """The table's key columns (its primary key but `to_pos`) and its value columns."""
    keys = [c for c in table.primary_key.columns if c.name != "to_pos"]
    values = [c for c in table.columns if not c.primary_key and c.name not in ("from_pos", "span")]
    return keys, values


@functools.cache
def _names(table: Table) -> tuple[str, ...]:
    """The names of the key columns, the value columns, then from_pos, to_pos and span."""
    key_columns, value_columns = _columns(table)
    return (*(c.name for c in key_columns), *(c.name for c in value_columns), "from_pos", "to_pos", "span")


class _Open:
    """A row that holds at the end of what was recorded so far; `stored` if it is in the database as open."""

    __slots__ = ("from_pos", "values", "stored")

    def __init__(self, from_pos: int, values: tuple, stored: bool) -> None:
        self.from_pos, self.values, self.stored = from_pos, values, stored

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
- `view_history_timeline`: the positions at which the latest effective time (`occurred_at`) seen so
  far grew, so that an instant maps to the log position up to which every event had happened by then.
- `view_history_late*`: the events recorded after one that happened later (an import of past
  records), which the rows above, cut by log position, place too late: a read as of an instant
  adds back those that had happened by then (projections/as_of.py).

A row valid at position P has `from_pos <= P < to_pos`. Two range conditions cannot both be
answered by one B-tree, so each closed row also keeps `span`, the class of its length
(4^(L-1) <= length < 4^L): a row of span L that holds at P began after P - 4^L, so the rows
valid at P are found by one short index range per span (`held_at` in
projections/history_tables.py), reading a few times as many rows as it returns.
"""

from __future__ import annotations

import functools
from typing import Any, Iterable, Sequence

from sqlalchemy import Column, Connection, Table, bindparam, func, select, tuple_

from domain.item import WorkflowItem
from domain.registry import WORKFLOW_ITEMS
from projections.bulk import PendingRows, from_dicts, insert_rows
from projections.history_tables import (DEADLINES, DURATIONS, ITEMS, MANDATE_TASKS, MANDATES, OPEN, TABLES,
                                        micros, span_of)


def facts(key: str, item: WorkflowItem, created_position: int) -> tuple:
    """What the history keeps of an item: its counters' keys, its mandate row and its open deadlines.

    Worked out after every event of a rebuild, so written for speed: the progress link is looked up once
    (as WORKFLOW_ITEMS.progress_collection and progress_parent would), and the title only for open deadlines.
    """
    fields, collection, state = item.fields, item.workflow.collection, item.state
    progress = WORKFLOW_ITEMS.progress_link()
    keyed: list[tuple[str, tuple, tuple | None]] = []  # (which table, the row's key, its values)
    if progress is not None and collection == progress[1].collection:
        keyed.append((MANDATES, (key,), (state, fields.get("reference"), created_position)))
    lines = [d for d in item.own_deadlines() if d["open"]]
    if lines:
        title, assignee, party = item.title, fields.get("assignee"), fields.get("party")
        keyed += [(DEADLINES, (key, d["kind"]), (collection, d["due"], title, assignee, party)) for d in lines]
    parent = fields.get(progress[1].field) if progress is not None and isinstance(item, progress[0]) else None
    if parent:
        return ((ITEMS, collection, state, 0), (MANDATE_TASKS, parent, state, 0)), tuple(keyed)
    return ((ITEMS, collection, state, 0),), tuple(keyed)


class ItemHistory:
    """Turns each event's change of an item's facts into history rows (see the module's docstring)."""

    def __init__(self, tables: Sequence[Table] = TABLES, *, pending: PendingRows | None = None) -> None:
        """With `pending` it gathers (a rebuild into empty copies): open rows stay in memory until
        `finish_gathering`, and the rows written meanwhile go to `pending` instead of the database."""
        self.tables = tuple(tables)
        (self._counters, mandates_table, deadlines_table, self._timeline, self._late, self._late_counters,
         self._late_mandates, self._late_deadlines) = self.tables
        self._rows = {MANDATES: mandates_table, DEADLINES: deadlines_table}
        self._pending = pending
        self._gathered: dict[tuple, _Open] | None = {} if pending is not None else None
        self._reached: int | None = None if pending is None else -(2 ** 63)
        # Live: (the last position of the batch handled last, the latest effective time up to it), so that the
        # next batch need not read it (see _reached_before).
        self._reached_after: tuple[int, int] | None = None

    def _insert_rows(self, conn: Connection | None, table: Table, names: Sequence[str], rows: list[tuple]) -> None:
        if self._pending is not None:
            self._pending.add(table, names, rows)
        else:
            insert_rows(conn, table, names, rows)

    def record(self, conn: Connection | None, batch: Sequence[tuple[int, Any]],
               changes: Sequence[tuple[int, tuple | None, tuple, tuple | None]]) -> None:
        """Record a batch: every (position, event) for the timeline, and each item event's
        (position, facts before or None, facts after, ended stay's (collection, state, bucket) or None,
        when it happened as the items view takes it: `items.effective_time`)."""
        late = self._record_timeline(conn, batch, {position: micros(at) for position, *_, at in changes})
        steps: list[tuple[int, Table, tuple, Any]] = []  # (position, table, key, new values or a counter delta)
        late_rows: dict[Table, list[dict[str, Any]]] = {table: [] for table in self.tables[4:]}
        counters, tables = self._counters, self._rows
        for position, before, after, ended, _ in changes:
            counted_before, keyed_before = before or ((), ())
            counted_after, keyed_after = after
            # Most events change few of the facts: the parts that did not change make no steps.
            if counted_before != counted_after or ended or position in late:
                deltas: dict[tuple, int] = {}
                for counted in counted_before:
                    deltas[counted] = deltas.get(counted, 0) - 1
                for counted in counted_after:
                    deltas[counted] = deltas.get(counted, 0) + 1
                if ended:
                    deltas[(DURATIONS, *ended)] = 1
                steps += [(position, counters, k, d) for k, d in deltas.items() if d]
                if position in late:
                    self._gather_late(late_rows, position, late[position], deltas, after)
            if keyed_before != keyed_after:
                old = {(t, k): v for t, k, v in keyed_before}
                new = {(t, k): v for t, k, v in keyed_after}
                steps += [(position, tables[t], k, None) for (t, k) in old if (t, k) not in new]
                steps += [(position, tables[t], k, v) for (t, k), v in new.items() if old.get((t, k)) != v]
        if steps:
            self._write(conn, steps)
        for table, rows in late_rows.items():
            if rows:
                names = [c.name for c in table.columns]
                self._insert_rows(conn, table, names, from_dicts(names, rows))

    def _gather_late(self, late_rows: dict[Table, list[dict[str, Any]]], position: int,
                     occurred: tuple[str, int], deltas: dict[tuple, int], after: tuple) -> None:
        """What a read as of an instant adds back for an event recorded out of order (see history_tables.late):
        its counters' changes and its item's mandate and deadline rows after it (all of them, so the last late
        event of an item up to an instant says everything of it there)."""
        item_id, at = occurred
        late_rows[self._late].append({"position": position, "item_id": item_id, "occurred_micros": at})
        late_rows[self._late_counters] += [
            {"position": position, "counter": k[0], "k1": k[1], "k2": k[2], "k3": k[3], "occurred_micros": at,
             "delta": d} for k, d in deltas.items() if d]
        for table, key, values in after[1]:
            if table == MANDATES:
                late_rows[self._late_mandates].append(
                    {"position": position, "id": key[0], **dict(zip(("state", "reference", "created_position"),
                                                                    values))})
            else:
                late_rows[self._late_deadlines].append(
                    {"position": position, "item_id": key[0], "kind": key[1],
                     **dict(zip(("collection", "due", "title", "assignee", "party"), values))})

    def finish_gathering(self) -> None:
        """Line up the rows gathered open (into `pending`), and from now on write every batch as it comes."""
        gathered, self._gathered = self._gathered, None
        self._reached = None
        if gathered:
            self._insert(None, [(table, key, row) for (table, key), row in gathered.items()])
        self._pending = None

    def _record_timeline(self, conn: Connection, batch: Sequence[tuple[int, Any]],
                         effective: dict[int, int]) -> dict[int, tuple[str, int]]:
        """Note where the latest effective time grew; the item events that happened before an event recorded
        earlier (late), by position: (item id, effective time in µs). `effective`: the item events' times."""
        reached = self._reached
        if reached is None:
            reached = self._reached_before(conn, batch)
        rows, late = [], {}
        for position, event in batch:
            at = effective.get(position)
            if at is None:
                at = micros(event.occurred_at)
            if at > reached:
                reached = at
                rows.append((position, at))
            elif at < reached and position in effective:
                late[position] = (str(event.originator_id), at)
        self._insert_rows(conn, self._timeline, ("position", "reached_micros"), rows)
        if self._gathered is not None:
            self._reached = reached
        elif batch:
            self._reached_after = (batch[-1][0], reached)
        return late

    def _reached_before(self, conn: Connection, batch: Sequence[tuple[int, Any]]) -> int:
        """The latest effective time up to just before the batch: as the batch handled last left it, if it
        ended right before this one, else read. That is safe whatever became of that batch: the view's
        position is just before this batch's first (no event lies between them), and the timeline up to a
        position is the same whoever projected it, so even if that batch rolled back and another runner did
        it, the value is the same. A batch retried after a rollback starts at or before it: read."""
        after = self._reached_after
        if after is not None and batch and batch[0][0] == after[0] + 1:
            return after[1]
        reached = conn.execute(_latest_reached(self._timeline)).scalar()
        return -(2 ** 63) if reached is None else reached

    def _write(self, conn: Connection, steps: list[tuple[int, Table, tuple, Any]]) -> None:
        opened = self._gathered if self._gathered is not None else self._load(conn, steps)
        closing: list[tuple[Table, tuple, _Open, int]] = []  # rows in the database that stop holding
        closed: dict[Table, list[tuple]] = {}  # rows made and replaced since (in this batch, or while gathering)
        counters = self._counters
        for position, table, key, change in steps:
            held = (table, key)
            old = opened.pop(held, None)
            if table is counters:
                n = (old.values[0] if old else 0) + change
                values = (n,) if n else None
            else:
                values = change
            if old is not None:
                if old.values == values:
                    opened[held] = old
                    continue
                if old.from_pos < position:  # a row replaced at the position that made it never held
                    if old.stored:
                        closing.append((table, key, old, position))
                    else:  # its row as _insert makes it, with the span inlined (span_of)
                        closed.setdefault(table, []).append(
                            (*key, *old.values, old.from_pos, position, ((position - old.from_pos).bit_length() + 1) // 2))
            if values is not None:
                opened[held] = _Open(position, values, stored=False)
        self._close(conn, closing)
        for table, rows in closed.items():
            self._insert_rows(conn, table, _names(table), rows)
        if self._gathered is None:
            self._insert(conn, [(t, k, o) for (t, k), o in opened.items() if not o.stored])

    def _load(self, conn: Connection, steps: Iterable[tuple[int, Table, tuple, Any]]) -> dict[tuple, "_Open"]:
        """The stored open rows of the keys the steps touch."""
        wanted: dict[Table, set[tuple]] = {}
        for _, table, key, _ in steps:
            wanted.setdefault(table, set()).add(key)
        found: dict[tuple, _Open] = {}
        for table, keys in wanted.items():
            key_columns, _ = _columns(table)
            width = len(key_columns)
            keys_given = [k for k, in keys] if width == 1 else list(keys)
            for row in conn.execute(_load_open(table), {"keys": keys_given}):
                found[(table, tuple(row[:width]))] = _Open(row[width], tuple(row[width + 1:]), stored=True)
        return found

    def _close(self, conn: Connection, closing: list[tuple[Table, tuple, "_Open", int]]) -> None:
        by_table: dict[Table, list[dict]] = {}
        for table, key, old, position in closing:
            key_columns, _ = _columns(table)
            by_table.setdefault(table, []).append({**{f"k_{c.name}": v for c, v in zip(key_columns, key)},
                                                   "new_to": position, "new_span": span_of(position - old.from_pos)})
        for table, rows in by_table.items():
            conn.execute(_close_open(table), rows)

    def _insert(self, conn: Connection | None, rows: list[tuple[Table, tuple, "_Open"]],
                ends: list[int] | None = None) -> None:
        by_table: dict[Table, list[tuple]] = {}
        for i, (table, key, row) in enumerate(rows):
            to_pos = ends[i] if ends else OPEN
            span = span_of(to_pos - row.from_pos) if ends else 0
            by_table.setdefault(table, []).append((*key, *row.values, row.from_pos, to_pos, span))
        for table, values in by_table.items():
            self._insert_rows(conn, table, _names(table), values)


@functools.cache
def _columns(table: Table) -> tuple[list[Column], list[Column]]:
    """The table's key columns (its primary key but `to_pos`) and its value columns."""
    keys = [c for c in table.primary_key.columns if c.name != "to_pos"]
    values = [c for c in table.columns if not c.primary_key and c.name not in ("from_pos", "span")]
    return keys, values


# The live batch's statements, each built once per table: building one (and its cache key) cost more than
# running it, and a follower runs them for every batch of one or a few events.
@functools.cache
def _latest_reached(timeline: Table) -> Any:
    return select(func.max(timeline.c.reached_micros))


@functools.cache
def _load_open(table: Table) -> Any:
    """The open rows of the keys given as `keys` (values of a one-column key, else tuples)."""
    key_columns, value_columns = _columns(table)
    keys = bindparam("keys", expanding=True)
    among = key_columns[0].in_(keys) if len(key_columns) == 1 else tuple_(*key_columns).in_(keys)
    return select(*key_columns, table.c.from_pos, *value_columns).where(table.c.to_pos == OPEN, among)


@functools.cache
def _close_open(table: Table) -> Any:
    """Closes the open row of the key given as `k_<column>`, at `new_to` with span `new_span`."""
    key_columns, _ = _columns(table)
    return (table.update().where(table.c.to_pos == OPEN, *(c == bindparam(f"k_{c.name}") for c in key_columns))
            .values(to_pos=bindparam("new_to"), span=bindparam("new_span")))


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

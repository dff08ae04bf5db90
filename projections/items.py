"""The items view: every workflow item's current state, its state counts, open deadlines and time in states.

One projection keeps these tables because all are functions of an item's state as events
change it, computed in one pass: `view_items` (lists and filters), `view_item_facets` (the
values each item is listed and read-scoped by, one row per value: `WorkflowItem.facets`),
`view_item_counts` (dashboard counters), `view_mandate_tasks` (each progress-keeping parent's
children by state, from the `Link` that declares `progress`: a mandate's tasks),
`view_deadlines` (what is due when; the scheduler reads it) and `view_state_durations` (how
long items stayed in each state). Events are applied with the domain's own `apply`, onto the
item restored from its row, so the view can never disagree with a replayed aggregate. The same
pass writes the dashboard's history (projections/item_history.py), for the dashboard as of an instant.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, Callable, Iterable, Sequence
from uuid import UUID

from eventsourcing.persistence import Transcoder
from sqlalchemy import Connection, Table

from domain.item import WorkflowItem
from domain.registry import WORKFLOW_ITEMS
from domain.reminders import next_rung_day
from projections import history_tables
from projections.bulk import PendingRows, insert_rows
from projections.database import as_utc
from projections.item_history import ItemHistory, facts
from projections.items_statements import delete_zeros, statements, upserts
from projections.items_tables import (
    items, item_facets, FACET_LENGTH, mandate_tasks, item_counts, deadlines, state_durations, duration_bucket,
)
from projections.views import copies_beside
from projections.search import search, search_text

FLUSH_ROWS = 5_000  # items per transaction when a rebuild writes what it gathered
OWN_TABLES = 7  # the tables before the history's


class ItemsProjection:
    name = "items"
    # 7: the search index (projections/search.py), titles and due days to sort by; 8: time in state and the
    # history by when things happened (`occurred_at`), with the events recorded out of that order kept apart.
    version = 8

    def __init__(self, transcoder: Transcoder, tables: tuple[Table, ...] = (items, item_counts, mandate_tasks,
                                                                              deadlines, state_durations, item_facets,
                                                                              search, *history_tables.TABLES),
                 *, gather: bool = False) -> None:
        self.transcoder = transcoder
        self.tables = tables
        (self._items, self._counts, self._mandate_tasks, self._deadlines, self._durations,
         self._facets, self._search) = tables[:OWN_TABLES]
        # While gathering, batches are applied in memory only (`gather`), the rows they make wait in `_pending`
        # for a transaction (`write_pending`), and `prepare_flush` lines up each item's rows once, at the end.
        self._pending = PendingRows()
        self.history = ItemHistory(tables[OWN_TABLES:], pending=self._pending if gather else None)
        self._gathered: dict[str, _Known] | None = {} if gather else None
        self._gathered_durations: Counter[tuple[str, str, int]] | None = Counter()

    def beside(self, suffix: str) -> "ItemsProjection":
        """The same projection writing into fresh copies of its tables (for a rebuild beside the live ones).

        The copy gathers the rebuild in memory, so that an item touched in many batches is not
        loaded, decoded and rewritten in each: half of a rebuild's time went there.
        """
        return ItemsProjection(self.transcoder, copies_beside(self.tables, suffix), gather=True)

    def prepare_flush(self, rows: int | None = None) -> bool:
        """Line up the rows of up to `rows` gathered items (no SQL); True while some remain after these.

        Once all is lined up (with the history's open rows, after the last items), every batch is written
        as it comes. In chunks, so that the runner can commit between them: on SQLite one transaction of a
        whole store's rows held the lock for seconds.
        """
        gathered = self._gathered or {}
        if self._gathered_durations is not None:  # with the first chunk: the counters of every item at once
            self._line_up_counts(gathered.values(), self._gathered_durations)
            self._gathered_durations = None
        chunk = [gathered.pop(key) for key in list(islice(gathered, rows or FLUSH_ROWS))]
        item_rows, facet_rows, search_rows, deadline_rows = _rows_of(chunk, self.transcoder)
        pending = self._pending
        pending.add(self._items, ITEM_COLUMNS, item_rows)
        pending.add(self._facets, FACET_COLUMNS, facet_rows)
        pending.add(self._search, SEARCH_COLUMNS, search_rows)
        pending.add(self._deadlines, DEADLINE_COLUMNS, deadline_rows)
        if gathered:
            return True
        self._gathered = None
        self.history.finish_gathering()  # the history's open rows, once every item is lined up
        return False

    def _line_up_counts(self, gathered: Iterable["_Known"], durations: Counter[tuple[str, str, int]]) -> None:
        """The counters' rows for the gathered items, into the empty copies: plain inserts, no zero rows."""
        counts: Counter[tuple] = Counter()
        progress: Counter[tuple] = Counter()
        for known in gathered:
            collection, state, parent = _counted(known.item)
            counts[(collection, state)] += 1
            if parent:
                progress[(parent, state)] += 1
        self._pending.add(self._counts, ("collection", "state", "n"), [(*k, n) for k, n in counts.items()])
        self._pending.add(self._mandate_tasks, ("mandate_id", "state", "n"), [(*k, n) for k, n in progress.items()])
        self._pending.add(self._durations, ("collection", "state", "bucket", "n"),
                          [(*k, n) for k, n in durations.items() if n])

    def gather(self, batch: Sequence[tuple[int, Any]]) -> None:
        """Apply a batch in memory (a copy made by `beside`, before `prepare_flush`); its history rows wait
        for `write_pending`. No SQL: the runner calls this with no transaction open."""
        assert self._gathered is not None and self._gathered_durations is not None, "not gathering"
        relevant = [(p, e, str(e.originator_id)) for p, e in batch if isinstance(e, WorkflowItem.Event)]
        changes: list[tuple] = []
        if relevant:
            self._apply(relevant, self._gathered, self._gathered_durations, changes)
        self.history.record(None, batch, changes)

    def write_pending(self, conn: Connection) -> None:
        """Insert the rows that `gather` and `prepare_flush` lined up, in the caller's transaction."""
        self.take_pending().write(conn)

    def take_pending(self) -> PendingRows:
        """The rows that `gather` and `prepare_flush` lined up, to write (see runner.Gathering)."""
        return self._pending.take()

    def handle(self, conn: Connection, batch: Sequence[tuple[int, Any]]) -> None:
        """Apply a batch of (position, event); events of other aggregates are passed over."""
        if self._gathered is not None:
            self.gather(batch)
            self.write_pending(conn)
            return
        # Each id is turned into text once: a rebuild spends a noticeable share of its time in UUID.__str__.
        relevant = [(p, e, str(e.originator_id)) for p, e in batch if isinstance(e, WorkflowItem.Event)]
        changes: list[tuple] = []  # each event's change of its item's facts, for the history
        if not relevant:
            self.history.record(conn, batch, changes)
            return
        # A batch of creations only has nothing to load: the view cannot hold items not yet created.
        only_new = all(isinstance(e, WorkflowItem.Created) for _, e, _ in relevant)
        current = {} if only_new else self._load(conn, {key for _, _, key in relevant})
        before = {key: _counted(known.item) for key, known in current.items()}
        facets_before = {key: _facet_rows(known) for key, known in current.items()}
        text_before = {key: search_text(known.item) for key, known in current.items()}
        deadlines_before = {key: _deadline_rows(known) for key, known in current.items()}
        durations: Counter[tuple[str, str, int]] = Counter()
        self._write(conn, self._apply(relevant, current, durations, changes), before, durations, facets_before,
                    text_before, deadlines_before)
        self.history.record(conn, batch, changes)

    @staticmethod
    def _apply(relevant: list[tuple[int, Any, str]], current: dict[str, "_Known"],
               durations: Counter[tuple[str, str, int]], changes: list[tuple]) -> dict[str, "_Known"]:
        """Apply the events to the items in `current` (adding new ones); the items touched. Each event's
        (position, facts before, facts after, ended stay, `effective_time`) goes to `changes`."""
        touched: dict[str, _Known] = {}
        for position, event, key in relevant:
            known = current.get(key)
            if known is None:
                current[key] = touched[key] = known = _Known(key, event.mutate(None), position, event.occurred_at,
                                                             event.occurred_at)
                known.facts = facts(key, known.item, position)
                changes.append((position, None, known.facts, None, effective_time(event, known)))
                continue
            touched[key] = known
            left = known.item.state
            was = known.facts or facts(key, known.item, known.created_position)
            known.item = event.mutate(known.item)
            at = effective_time(event, known)
            ended = None
            if known.item.state != left:
                # When it happened, not when it was recorded: an import records years of stays in seconds.
                seconds = (at - known.state_since).total_seconds()
                ended = (known.item.workflow.collection, left, duration_bucket(seconds))
                durations[ended] += 1
                known.state_since = at
            known.facts = facts(key, known.item, known.created_position)
            changes.append((position, was, known.facts, ended, at))
        return touched

    def _write(self, conn: Connection, touched: dict[str, "_Known"], before: dict[str, tuple],
               durations: Counter[tuple[str, str, int]], facets_before: dict[str, list[tuple]],
               text_before: dict[str, str], deadlines_before: dict[str, list[tuple]]) -> None:
        """Write the touched items' rows, move them between counts (from `before`), add the durations."""
        upsert_items, add_counts, add_mandate_tasks, add_durations = upserts(conn.dialect.name, self.tables[:5])
        conn.execute(upsert_items, [dict(zip(ITEM_COLUMNS, _item_row(known, self.transcoder)))
                                    for known in touched.values()])
        self._write_facets(conn, touched, facets_before)
        self._write_search(conn, touched, text_before)
        after = {key: _counted(known.item) for key, known in touched.items()}
        self._add_counts(conn, add_counts, self._counts, before, after, lambda c: c[:2])
        self._add_counts(conn, add_mandate_tasks, self._mandate_tasks, before, after,
                         lambda c: (c[2], c[1]) if c[2] else None)
        self._write_deadlines(conn, touched.values(), deadlines_before)
        if durations:
            conn.execute(add_durations, [{"collection": c, "state": st, "bucket": b, "n": n}
                                         for (c, st, b), n in durations.items()])

    def _load(self, conn: Connection, ids: set[str]) -> dict[str, "_Known"]:
        return {row.id: _Known(row.id, restore(row, self.transcoder), row.created_position,
                               as_utc(row.state_since), as_utc(row.occurred_on))
                for row in conn.execute(statements(self.tables[:OWN_TABLES]).load_items, {"ids": list(ids)})}

    @staticmethod
    def _add_counts(conn: Connection, add, table: Table, before: dict[str, tuple], after: dict[str, tuple],
                    key: Callable[[tuple], tuple | None]) -> None:
        """Move each touched item from its old count to its new one; `key` picks the count (or None)."""
        delta: Counter[tuple] = Counter()
        for item_id, counted in after.items():
            if item_id in before and (old := key(before[item_id])) is not None:
                delta[old] -= 1
            if (new := key(counted)) is not None:
                delta[new] += 1
        keys = [c.name for c in table.primary_key.columns]
        rows = [{**dict(zip(keys, k)), "n": n} for k, n in delta.items() if n]
        if not rows:
            return
        new_counts = conn.execute(add, rows).scalars().all()  # the statement returns each new count
        if 0 in new_counts:
            # No zero rows, so the table is the same however the log was cut into batches.
            conn.execute(delete_zeros(table))

    def _write_facets(self, conn: Connection, touched: dict[str, "_Known"],
                      facets_before: dict[str, list[tuple]]) -> None:
        """Replace the facet rows of the touched items whose facets changed (most events change none)."""
        table, stale, rows = self._facets, [], []
        for key, known in touched.items():
            now, was = _facet_rows(known), facets_before.get(key)
            if was == now:
                continue
            if was:
                stale.append(key)
            rows += now
        if stale:
            conn.execute(statements(self.tables[:OWN_TABLES]).delete_facets, {"ids": stale})
        insert_rows(conn, table, FACET_COLUMNS, rows)

    def _write_search(self, conn: Connection, touched: dict[str, "_Known"], text_before: dict[str, str]) -> None:
        """Replace the search rows of the touched items whose words changed (most events change none)."""
        table, stale, rows = self._search, [], []
        for key, known in touched.items():
            now, was = search_text(known.item), text_before.get(key)
            if was == now:
                continue
            if was is not None:
                stale.append(known.created_position)
            rows.append((known.created_position, known.item.workflow.collection, now))
        if stale:
            conn.execute(statements(self.tables[:OWN_TABLES]).delete_search, {"rowids": stale})
        insert_rows(conn, table, SEARCH_COLUMNS, rows)

    def _write_deadlines(self, conn: Connection, touched: Iterable["_Known"],
                         existing: dict[str, list[tuple]]) -> None:
        """Replace the deadline rows of the touched items whose rows changed (items new in this batch have none
        to delete; most events change none)."""
        table = self._deadlines
        rows, keys = [], []
        for known in touched:
            now, was = _deadline_rows(known), existing.get(known.key)
            if was == now:
                continue
            if was:
                keys.append(known.key)
            rows += now
        if keys:
            conn.execute(statements(self.tables[:OWN_TABLES]).delete_deadlines, {"ids": keys})
        insert_rows(conn, table, DEADLINE_COLUMNS, rows)


def _counted(item: WorkflowItem) -> tuple[str, str, str | None]:
    """What the counters count an item by: its collection, its state, and the parent whose progress it counts
    in (a task's mandate)."""
    return item.workflow.collection, item.state, WORKFLOW_ITEMS.progress_parent(item)


def effective_time(event: WorkflowItem.Event, known: "_Known") -> datetime:
    """When the view takes an item's event to have happened: its `occurred_at`, but never before the item's
    earlier events (a server whose clock stepped back records a live event "before" the last), so that what had
    happened of an item by any instant is always the start of its history, as a replay up to it reads it."""
    known.occurred_on = max(known.occurred_on, event.occurred_at)
    return known.occurred_on


def _soonest_due(item: WorkflowItem) -> Any:
    """The day lists sort an item by when asked for `due`: its soonest open deadline, else its soonest."""
    lines = item.own_deadlines()
    return min((d["due"] for d in lines if d["open"]), default=None) or min((d["due"] for d in lines), default=None)


ITEM_COLUMNS = ("id", "collection", "state", "version", "created_position", "party", "assignee", "mandate_id",
                "assigned_to", "reference", "title", "due", "created_at", "updated_at", "state_since", "occurred_on",
                "fields")
FACET_COLUMNS = ("item_id", "name", "value", "collection", "created_position")
SEARCH_COLUMNS = ("rowid", "collection", "body")
DEADLINE_COLUMNS = ("item_id", "kind", "collection", "due", "open", "title", "assignee", "party", "next_rung_on")


def _item_row(known: "_Known", transcoder: Transcoder) -> tuple:
    """The item's `view_items` row, in the order of ITEM_COLUMNS."""
    item = known.item
    fields = item.fields
    get = fields.get
    return (known.key, item.workflow.collection, item.state, item.version, known.created_position, get("party"),
            get("assignee"), get("mandate_id"), get("assigned_to"), get("reference"), item.label, _soonest_due(item),
            item.created_on, item.modified_on, known.state_since, known.occurred_on,
            transcoder.encode(fields).decode())


def _facet_rows(known: "_Known") -> list[tuple]:
    """The item's `view_item_facets` rows, in the order of FACET_COLUMNS."""
    item = known.item
    collection, key, created = item.workflow.collection, known.key, known.created_position
    return [(key, name, value, collection, created)
            for name, values in sorted(item.facets().items()) for value in sorted({v[:FACET_LENGTH] for v in values})]


def _deadline_rows(known: "_Known") -> list[tuple]:
    """The item's `view_deadlines` rows, in the order of DEADLINE_COLUMNS."""
    item, fields = known.item, known.item.fields
    collection, title, assignee, party = item.workflow.collection, item.title, fields.get("assignee"), fields.get("party")
    return [(known.key, d["kind"], collection, d["due"], d["open"], title, assignee, party,
             next_rung_day(d["due"], d["last_reminder"]) if d["open"] else None)
            for d in item.deadlines()]


def _rows_of(chunk: Iterable["_Known"], transcoder: Transcoder) -> tuple[list[tuple], ...]:
    """The rows of items written whole into empty copies: items, facets, search and deadlines."""
    items_rows, facets, texts, deadline_rows = [], [], [], []
    for known in chunk:
        items_rows.append(_item_row(known, transcoder))
        facets += _facet_rows(known)
        texts.append((known.created_position, known.item.workflow.collection, search_text(known.item)))
        deadline_rows += _deadline_rows(known)
    return items_rows, facets, texts, deadline_rows


def restore(row: Any, transcoder: Transcoder) -> WorkflowItem:
    """The item as its row keeps it."""
    cls = WORKFLOW_ITEMS.by_collection(row.collection)
    return cls.restore(UUID(row.id), row.version, as_utc(row.created_at), as_utc(row.updated_at), row.state,
                       transcoder.decode(row.fields.encode()), occurred_on=as_utc(row.occurred_on))


@dataclass
class _Known:
    """An item as the batch has it so far: the item, where it was created, since when in its state."""

    key: str  # its id as text
    item: WorkflowItem
    created_position: int
    state_since: datetime
    occurred_on: datetime  # the latest effective time of its events so far (see `effective_time`)
    facts: tuple | None = None  # what the history keeps of it, once worked out (see item_history.facts)

"""The items view's live statements, each built once per set of tables (and dialect): building a
statement and its cache key cost more than running it, and the follower runs them for every batch."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


@dataclass(frozen=True)
class Statements:
    """The live batch's reads and deletes, each built once per set of tables: building a statement (and its
    cache key) cost more than running it, and a follower runs them for every batch of one or a few events."""

    load_items: Any
    delete_facets: Any
    delete_search: Any
    delete_deadlines: Any


@functools.cache
def statements(tables: tuple[Table, ...]) -> Statements:
    items_table, _counts, _tasks, deadlines_table, _durations, facets, search_table = tables
    return Statements(
        load_items=select(items_table).where(items_table.c.id.in_(bindparam("ids", expanding=True))),
        delete_facets=delete(facets).where(facets.c.item_id.in_(bindparam("ids", expanding=True))),
        delete_search=delete(search_table).where(search_table.c.rowid.in_(bindparam("rowids", expanding=True))),
        delete_deadlines=delete(deadlines_table).where(deadlines_table.c.item_id.in_(bindparam("ids", expanding=True))))


@functools.cache
def delete_zeros(table: Table) -> Any:
    """No zero rows in a counter table (built once per table, see Statements)."""
    return delete(table).where(table.c.n == 0)


@functools.cache
def upserts(dialect: str, tables: tuple[Table, ...]):
    """The upsert statements, built once per dialect and tables (building them costs more than running them)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    items_table, counts, mandate_tasks_table, _deadlines, durations = tables
    upsert_item = insert(items_table)
    upsert_item = upsert_item.on_conflict_do_update(index_elements=[items_table.c.id], set_={
        c.name: upsert_item.excluded[c.name] for c in items_table.columns if c.name not in ("id", "created_position")})

    def add_to_count(table: Table):
        add = insert(table)
        return add.on_conflict_do_update(index_elements=list(table.primary_key.columns),
                                         set_={"n": table.c.n + add.excluded.n})

    # The counters return their new values, so that zero rows are looked for only when one appeared.
    return (upsert_item, add_to_count(counts).returning(counts.c.n),
            add_to_count(mandate_tasks_table).returning(mandate_tasks_table.c.n), add_to_count(durations))

"""How lists and searches are asked of the items view: filters with several values, sorting, and words.

Everything here builds conditions and orders on `view_items` (and `view_item_search`); the read scope of
the caller is always part of the condition, in the query, so that a count or a page never includes what
the caller may not read (a Party liaison: only their Party's requests).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from sqlalchemy import and_, false, or_, select

from domain.actor import Actor
from domain.errors import Forbidden
from domain.registry import WORKFLOW_ITEMS
from domain.workflow import Workflow
from projections.items_tables import FILTER_COLUMNS, item_facets, items
from projections.search import matches, rank, search

AGGREGATES = WORKFLOW_ITEMS.collections
# What a list may be sorted by (any of them with a leading "-" for descending), besides the filters that
# have a column of their own. `created_at` orders by the log's position: the same order, without ties.
SORTS = {"created_at": items.c.created_position, "updated_at": items.c.updated_at, "state": items.c.state,
         "title": items.c.title, "due": items.c.due}
DEFAULT_SORT = "-created_at"  # newest first


def sorts_of(workflow: Workflow) -> tuple[str, ...]:
    """The sort keys a collection's list takes, ascending; each may be given with "-" for descending."""
    own = tuple(name for name in workflow.filters if name in FILTER_COLUMNS)
    return (*SORTS, *own)


def order_by(sort: str | None, dialect: str, words: list[str]) -> list[Any]:
    """The ORDER BY of a list: `sort` (checked against `sorts_of` at the edge), else the best match first
    when searching, else newest first; ties newest first, so that pages never overlap."""
    if sort is None and words:
        return [rank(search, dialect, words), items.c.created_position.desc()]
    name = (sort or DEFAULT_SORT).lstrip("-")
    column = SORTS.get(name, items.c[name] if name in FILTER_COLUMNS else items.c.created_position)
    ordered = column.desc() if (sort or DEFAULT_SORT).startswith("-") else column.asc()
    # Items without the value (no due day) come last either way.
    return [ordered.nulls_last(), items.c.created_position.desc()]


def readable(collection: str, actor: Actor, filters: Mapping[str, Any]) -> Any:
    """The condition for the collection's items the actor may list that match `filters` (a value or a list of
    values per name: any of them); None if none can. Forbidden if the actor reads none of the collection."""
    workflow = AGGREGATES[collection].workflow
    scope = workflow.read_scope(actor)
    if scope is None:
        raise Forbidden(f"reading {collection} needs one of: {', '.join(workflow.readers)}")
    wanted = {name: _values(value) for name, value in filters.items()}
    for name, value in scope.items():
        if name in wanted and value not in wanted[name]:
            return None  # e.g. a liaison asking for another Party's requests only
        wanted[name] = [value]
    return and_(items.c.collection == collection,
                *(matching_any(workflow, items, items.c.id, name, values) for name, values in wanted.items()))


def readable_anywhere(actor: Actor, collections: Iterable[str]) -> Any:
    """The condition for every item of `collections` the actor may read (collections they may not are left out)."""
    conditions = []
    for collection in collections:
        if AGGREGATES[collection].workflow.read_scope(actor) is not None:
            condition = readable(collection, actor, {})
            if condition is not None:
                conditions.append(condition)
    return or_(false(), *conditions)


def matching_any(workflow: Workflow, table: Any, id_column: Any, name: str, values: list[Any]) -> Any:
    """The condition that an item has one of `values` for `name`: from the table's own column where the
    workflow's field of that name holds one value, else from view_item_facets (see queries.matching)."""
    spec = workflow.field_by_name.get(name)
    if name == "state" or (name in FILTER_COLUMNS and name in table.c and spec is not None and spec.type is not list):
        return table.c[name].in_(values) if len(values) > 1 else table.c[name] == values[0]
    f = item_facets.c
    texts = [str(v) for v in values]
    return id_column.in_(select(f.item_id).where(f.collection == workflow.collection, f.name == name,
                                                 f.value.in_(texts) if len(texts) > 1 else f.value == texts[0]))


def searched(query: Any, dialect: str, words: list[str]) -> Any:
    """`query` (on view_items) narrowed to the items with every word."""
    if not words:
        return query
    return query.join(search, search.c.rowid == items.c.created_position).where(matches(search, dialect, words))


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]

"""Questions the read models answer: lists, counts, progress, deadlines. Never a replay."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from itertools import groupby
from typing import Any, Iterable, Mapping

from eventsourcing.persistence import Transcoder
from sqlalchemy import Connection, Engine, and_, false, func, or_, select

from domain.actor import Actor
from domain.errors import Forbidden
from domain.item import WorkflowItem
from domain.registry import WORKFLOW_ITEMS
from domain.workflow import Workflow
from projections.database import as_utc
from projections.items import restore
from projections.items_tables import bucket_seconds, deadlines, item_counts, items, mandate_tasks, state_durations

AGGREGATES = WORKFLOW_ITEMS.collections
from projections.listing import matching_any, order_by, readable as _readable, readable_anywhere, searched
from projections.search import search, search_words, snippet
from projections.reminders import addressees, reminders


class ReadModels:
    def __init__(self, engine: Engine, transcoder: Transcoder) -> None:
        self.engine = engine  # a reader engine (see projections.database)
        self.transcoder = transcoder

    def list_items(self, collection: str, actor: Actor, filters: Mapping[str, Any], *, limit: int = 50,
                   offset: int = 0, q: str | None = None, sort: str | None = None) -> tuple[list[WorkflowItem], int]:
        """A page of the items the actor may read that match `filters` (a value or a list of values per name)
        and every word of `q`, in `sort` order (newest first; searching, best match first); and how many
        match in all."""
        where = _readable(collection, actor, filters)
        words = search_words(q or "")
        if where is None or (q and not words):
            return [], 0  # e.g. a liaison filtering on another Party
        with self.engine.connect() as conn:
            dialect = conn.dialect.name
            total = conn.execute(searched(select(func.count()).select_from(items), dialect, words)
                                 .where(where)).scalar_one()
            rows = conn.execute(searched(select(items), dialect, words).where(where)
                                .order_by(*order_by(sort, dialect, words)).limit(limit).offset(offset)).all()
        return [restore(row, self.transcoder) for row in rows], total

    def search(self, actor: Actor, q: str, *, collections: list[str] | None = None, limit: int = 20,
               offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The items the actor may read with every word of `q`, best match first: each its collection, id,
        title, state, last change and a snippet around the matches; and how many match in all."""
        words = search_words(q)
        if not words:
            return [], 0
        where = readable_anywhere(actor, list(AGGREGATES) if collections is None else collections)
        with self.engine.connect() as conn:
            dialect = conn.dialect.name
            total = conn.execute(searched(select(func.count()).select_from(items), dialect, words)
                                 .where(where)).scalar_one()
            rows = conn.execute(searched(select(items.c.collection, items.c.id, items.c.title, items.c.state,
                                                items.c.updated_at, snippet(search, dialect, words).label("snippet")),
                                         dialect, words)
                                .where(where).order_by(*order_by(None, dialect, words)).limit(limit)
                                .offset(offset)).all()
        return [{**row._mapping, "updated_at": as_utc(row.updated_at)} for row in rows], total

    def titles(self, actor: Actor, ids: Iterable[str]) -> dict[str, str]:
        """The titles of those of the items that the actor may read (an export names linked items by them)."""
        wanted = sorted(set(ids))[:EXPORT_TITLES]
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            return dict(conn.execute(select(items.c.id, items.c.title).where(
                items.c.id.in_(wanted), readable_anywhere(actor, list(AGGREGATES)))).all())

    def counts_readable(self, collection: str, actor: Actor) -> dict[str, int]:
        """Per state, how many of the collection's items the actor may list (a liaison: their Party's)."""
        found = dict.fromkeys(AGGREGATES[collection].workflow.states, 0)
        with self.engine.connect() as conn:
            found.update(conn.execute(select(items.c.state, func.count()).where(_readable(collection, actor, {}))
                                      .group_by(items.c.state)).all())
        return found

    def counts(self) -> dict[str, dict[str, int]]:
        """Items per collection and state."""
        with self.engine.connect() as conn:
            return _counts(conn)

    def time_in_state(self) -> dict[str, dict[str, dict[str, float]]]:
        """Per collection and state: how many stays ended, and their median and 90th percentile in seconds.

        Read from a histogram of quarter-doublings, so each figure is within 9% of the exact one.
        """
        with self.engine.connect() as conn:
            return _time_in_state(conn)

    def mandate_progress(self, mandate_ids: list[str]) -> dict[str, dict[str, int]]:
        """For each mandate, its linked tasks by state."""
        with self.engine.connect() as conn:
            return _mandate_progress(conn, mandate_ids)

    def open_deadlines(self, *, due_before: date | None = None, due_from: date | None = None,
                       scopes: Mapping[str, Mapping[str, str] | None] | None = None,
                       limit: int = 200) -> list[dict[str, Any]]:
        """Open deadlines, soonest first; with `scopes` (collection → read scope), only those they let through."""
        with self.engine.connect() as conn:
            return _open_deadlines(conn, due_before, due_from, scopes, limit)

    def calendar_deadlines(self, actor: Actor, *, assignee: str | None = None,
                           limit: int = 2000) -> list[dict[str, Any]]:
        """The open deadlines the actor may read, as the dashboard scopes them, soonest first, each with its
        item's state and reference; with `assignee`, only those of items assigned to them."""
        query = (select(deadlines, items.c.state, items.c.reference)
                 .join(items, items.c.id == deadlines.c.item_id)
                 .where(deadlines.c.open.is_(True), _deadlines_in(read_scopes(actor))))
        if assignee is not None:
            query = query.where(deadlines.c.assignee == assignee)
        query = query.order_by(deadlines.c.due, deadlines.c.item_id, deadlines.c.kind).limit(limit)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def items_with_rungs_due(self, up_to: date, *, limit: int = 500) -> list[WorkflowItem]:
        """Items with an open deadline whose next reminder falls on or before `up_to`, most overdue first,
        as the view has them (the scheduler raises on these copies; a stale one fails on its version)."""
        nominated = (select(deadlines.c.item_id).where(deadlines.c.next_rung_on <= up_to)
                     .order_by(deadlines.c.next_rung_on).limit(limit))  # the index's order: no sort, no scan
        with self.engine.connect() as conn:
            return [restore(row, self.transcoder) for row in conn.execute(
                select(items).where(items.c.id.in_(nominated.scalar_subquery())))]

    def next_rung_day_after(self, day: date) -> date | None:
        """The first day after `day` on which an open deadline's next reminder falls."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.min(deadlines.c.next_rung_on)).where(
                deadlines.c.next_rung_on > day)).scalar()

    def reminders(self, actor: Actor, *, mine: bool, acknowledged: bool | None = None, limit: int = 50,
                  offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Reminders, newest first: those addressed to the actor (by name or role), or all those on
        collections the actor reads in full; and how many match in all."""
        if mine:
            names = [f"user:{actor.username}", *(f"role:{role}" for role in sorted(actor.roles))]
            addressed = select(addressees.c.reminder_id).where(addressees.c.addressee.in_(names))
            where = reminders.c.id.in_(addressed)
        else:
            # A Party liaison reads only their Party's requests; their inbox is what is addressed to them.
            full = [c for c, cls in AGGREGATES.items() if cls.workflow.read_scope(actor) == {}]
            if not full:
                raise Forbidden("listing every reminder needs a role that reads whole collections; "
                                "ask for yours with ?mine=true")
            where = reminders.c.collection.in_(full)
        if acknowledged is not None:
            where = and_(where, reminders.c.acknowledged_by.isnot(None) if acknowledged
                         else reminders.c.acknowledged_by.is_(None))
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(reminders).where(where)).scalar_one()
            rows = conn.execute(select(reminders).where(where).order_by(reminders.c.position.desc())
                                .limit(limit).offset(offset)).mappings().all()
        return [reminder_document(row) for row in rows], total

    def reminder(self, reminder_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(reminders).where(reminders.c.id == reminder_id)).mappings().first()
        return reminder_document(row) if row else None

    def dashboard(self, actor: Actor, today: date, *, horizon_days: int = 14) -> dict[str, Any]:
        """Counts by collection and state, overdue items, deadlines ahead, and each active mandate's progress.

        Only what the actor may read: collections they may not list are left out, and a
        Party liaison's deadlines are their own Party's. One connection, so every part is
        read from the same snapshot of the view.
        """
        scopes = read_scopes(actor)
        # The items keeping progress of their children (mandates, of their tasks), by the progress link.
        parents = WORKFLOW_ITEMS.progress_collection()
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # SQLite's transaction is one snapshot already
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            counts = {c: n for c, n in _counts(conn).items() if scopes.get(c) == {}}
            mandates, progress = [], defaultdict(dict)
            if parents is not None and scopes[parents] == {}:
                active = and_(items.c.collection == parents, items.c.state.in_(active_states(AGGREGATES[parents])))
                mandates = conn.execute(select(items.c.id, items.c.state, items.c.reference).where(active)
                                        .order_by(items.c.created_position.desc())).all()
                # Joined rather than an IN list of every active mandate's id.
                for mandate_id, state, n in conn.execute(select(mandate_tasks).join(
                        items, items.c.id == mandate_tasks.c.mandate_id).where(active)):
                    progress[mandate_id][state] = n
            time_in_state = {c: states for c, states in _time_in_state(conn).items() if scopes.get(c) == {}}
            overdue = _open_deadlines(conn, today, None, scopes, DASHBOARD_DEADLINES)
            upcoming = _open_deadlines(conn, today + timedelta(days=horizon_days + 1), today, scopes,
                                       DASHBOARD_DEADLINES)
        return {
            "counts": counts,
            "time_in_state": time_in_state,
            "overdue": [deadline_document(d) for d in overdue],
            "upcoming": [deadline_document(d) for d in upcoming],
            PROGRESS_KEY: [{"id": m.id, "reference": m.reference, "state": m.state,
                            **progress_summary(progress.get(m.id, {}))} for m in mandates],
        }


EXPORT_TITLES = 5_000  # linked items named in one export at most
DASHBOARD_DEADLINES = 200  # of each list: overdue, and due within the horizon
# The dashboard's list of active progress-keeping items (mandates) is named so in API.md, whichever
# collection keeps progress: an HTTP name is a contract.
PROGRESS_KEY = "mandates"


def active_states(cls: type[WorkflowItem]) -> list[str]:
    return [s for s in cls.workflow.states if s not in cls.workflow.terminal]


def read_scopes(actor: Actor) -> dict[str, dict[str, str] | None]:
    """Per collection, what the actor may read of it (see `Workflow.read_scope`)."""
    return {c: cls.workflow.read_scope(actor) for c, cls in AGGREGATES.items()}


def matching(workflow: Workflow, table: Any, id_column: Any, name: str, value: Any) -> Any:
    """The condition that an item of the workflow (its id in `id_column`) has `value` for `name` (see
    projections.listing.matching_any)."""
    return matching_any(workflow, table, id_column, name, [value])


def _counts(conn: Connection) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {c: {s: 0 for s in cls.workflow.states} for c, cls in AGGREGATES.items()}
    for collection, state, n in conn.execute(select(item_counts.c.collection, item_counts.c.state, item_counts.c.n)):
        found.setdefault(collection, {})[state] = n
    return found


def _time_in_state(conn: Connection) -> dict[str, dict[str, dict[str, float]]]:
    # A few hundred rows in the primary key's order; picking the percentiles here costs less than a
    # window query does in SQLite.
    d = state_durations
    return time_in_state_of(conn.execute(select(d.c.collection, d.c.state, d.c.bucket, d.c.n)
                                         .order_by(d.c.collection, d.c.state, d.c.bucket)).all())


def time_in_state_of(rows: list[tuple[str, str, int, int]]) -> dict[str, dict[str, dict[str, float]]]:
    """From (collection, state, bucket, n) histogram rows in that order: per collection and state, the
    stays and their median and 90th percentile in seconds."""
    found: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for (collection, state), stays in groupby(rows, key=lambda row: (row[0], row[1])):
        buckets = [(bucket, n) for _, _, bucket, n in stays]
        samples = sum(n for _, n in buckets)
        found[collection][state] = {"samples": samples,
                                    "median_seconds": _percentile_seconds(buckets, samples, 0.5),
                                    "p90_seconds": _percentile_seconds(buckets, samples, 0.9)}
    return found


def _percentile_seconds(buckets: list[tuple[int, int]], samples: int, share: float) -> float:
    """The middle of the first bucket whose running total reaches `share` of the samples."""
    needed, seen = share * samples, 0
    for bucket, n in buckets:
        seen += n
        if seen >= needed:
            return round(bucket_seconds(bucket), 1)
    return round(bucket_seconds(buckets[-1][0]), 1)


def _mandate_progress(conn: Connection, mandate_ids: list[str]) -> dict[str, dict[str, int]]:
    progress: dict[str, dict[str, int]] = defaultdict(dict)
    if mandate_ids:
        for mandate_id, state, n in conn.execute(select(mandate_tasks).where(
                mandate_tasks.c.mandate_id.in_(mandate_ids))):
            progress[mandate_id][state] = n
    return progress


def _open_deadlines(conn: Connection, due_before: date | None, due_from: date | None,
                    scopes: Mapping[str, Mapping[str, str] | None] | None, limit: int) -> list[dict[str, Any]]:
    query = select(deadlines).where(deadlines.c.open.is_(True))
    if due_before is not None:
        query = query.where(deadlines.c.due < due_before)
    if due_from is not None:
        query = query.where(deadlines.c.due >= due_from)
    if scopes is not None:
        # In the query, not after it: the limit must count only what the reader may see.
        query = query.where(_deadlines_in(scopes))
    names = [c.name for c in deadlines.columns]
    # Equal dues in a fixed order, so that which of them make the limit is the same on every read (and as of
    # an instant, projections/as_of.py).
    order = (deadlines.c.due, deadlines.c.item_id, deadlines.c.kind)
    return [dict(zip(names, row)) for row in conn.execute(query.order_by(*order).limit(limit))]


def _deadlines_in(scopes: Mapping[str, Mapping[str, str] | None]) -> Any:
    """The condition for deadlines the scopes let through; a collection scoped None lets none through."""
    return scoped_deadlines(deadlines, scopes)


def scoped_deadlines(table: Any, scopes: Mapping[str, Mapping[str, str] | None]) -> Any:
    """Rows of a deadlines table (live or history) of the collections the scopes let through (a liaison:
    their Party's)."""
    return or_(false(), *(
        and_(table.c.collection == collection,
             *(matching(AGGREGATES[collection].workflow, table, table.c.item_id, k, v) for k, v in scope.items()))
        for collection, scope in scopes.items() if scope is not None and collection in AGGREGATES))


def progress_summary(tasks_by_state: Mapping[str, int]) -> dict[str, Any]:
    """`{"tasks": {...}, "open": N, "done": N, "percent_done": X}`: the children counted by the progress link
    (a mandate's tasks); children closed otherwise than done (cancelled tasks) count as neither."""
    found = WORKFLOW_ITEMS.progress_link()
    terminal = found[0].workflow.terminal if found else ()
    done = tasks_by_state.get(found[1].progress, 0) if found else 0
    open_ = sum(n for state, n in tasks_by_state.items() if state not in terminal)
    counted = done + open_
    return {"tasks": dict(tasks_by_state), "open": open_, "done": done,
            "percent_done": round(100 * done / counted, 1) if counted else 0.0}


def reminder_document(row: Mapping[str, Any]) -> dict[str, Any]:
    document = {k: v for k, v in row.items() if k != "position"}
    document["addressed_to"] = row["addressed_to"].split(", ")
    for instant in ("instant", "raised_at", "acknowledged_at"):
        document[instant] = as_utc(document[instant])
    return document


def deadline_document(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"item_id": row["item_id"], "collection": row["collection"], "kind": row["kind"], "due": row["due"],
            "title": row["title"], "assignee": row["assignee"]}

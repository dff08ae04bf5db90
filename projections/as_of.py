"""The dashboard as it was at a past instant, read from the items view's history: a few indexed queries.

It answers what a replay of every event that had happened by the instant (its `occurred_at` at or
before it), projected in log order and read with the live dashboard's query, would answer
(tests/as_of_replay.py is that replay, kept as the oracle). The history's rows are cut by log
position: the instant is first turned into the last position up to which every event had happened
by then, every part is read as it held there, and the few events recorded later that had happened by
then too (an import of past records, kept apart: history_tables.late) are added back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Mapping

from sqlalchemy import BigInteger, Connection, Engine, and_, bindparam, func, select

from domain.actor import Actor
from domain.registry import WORKFLOW_ITEMS
from projections.history_tables import (DURATIONS, ITEMS, MANDATE_TASKS, OPEN, closed_held_at, counters,
                                        deadlines, held_at, late, late_counters, late_deadlines, late_mandates,
                                        mandates, micros, timeline)
from projections.queries import (DASHBOARD_DEADLINES, PROGRESS_KEY, active_states, deadline_document,
                                 progress_summary, read_scopes, scoped_deadlines, time_in_state_of)

AGGREGATES = WORKFLOW_ITEMS.collections

HORIZON_DAYS = 14  # as the live dashboard's


def dashboard_as_of(engine: Engine, actor: Actor, instant: datetime, tz: tzinfo) -> dict[str, Any]:
    """Counts, time in states, overdue and upcoming deadlines and active mandates' progress, as at `instant`,
    scoped to what the actor may read exactly as the live dashboard is."""
    scopes = read_scopes(actor)
    today = _local_day(instant, tz)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # every part from one snapshot, as the live dashboard
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        cut = cut_at(conn, instant)
        full = [c for c in AGGREGATES if scopes[c] == {}]
        counts = {c: dict.fromkeys(AGGREGATES[c].workflow.states, 0) for c in full}
        for collection, state, _, n in counters_at(conn, ITEMS, cut):
            if collection in counts:
                counts[collection][state] = n
        durations = sorted(row for row in counters_at(conn, DURATIONS, cut) if row[0] in full)
        overdue = _deadlines(conn, cut, scopes, None, today)
        upcoming = _deadlines(conn, cut, scopes, today, _day_after(today, HORIZON_DAYS + 1))
        parents = WORKFLOW_ITEMS.progress_collection()
        active = _active_mandates(conn, cut, parents) if parents in full else []
    return {"counts": counts, "time_in_state": time_in_state_of(durations),
            "overdue": [deadline_document(d) for d in overdue], "upcoming": [deadline_document(d) for d in upcoming],
            PROGRESS_KEY: active, "as_of": instant}


@dataclass(frozen=True)
class Cut:
    """Where an instant falls in the history: the last log position up to which every event had happened by
    then, and the instant itself (µs), which picks the late events after that position to add back."""

    position: int
    micros: int
    late: bool  # whether any late event is to be added back (none in a store without an import: the fast path)

    @property
    def params(self) -> dict[str, int]:
        """The values of the late parts' parameters (`LATE_EVENTS`), given to every read that holds them."""
        return {"cut_position": self.position, "cut_micros": self.micros}


# The late parts of a read, built once with parameters (`Cut.params`): building them for each cut cost
# more than running them.
_e = late.c
# The late events recorded after the cut's position that had happened by its instant.
LATE_EVENTS = and_(_e.position > bindparam("cut_position", type_=BigInteger),
                   _e.occurred_micros <= bindparam("cut_micros", type_=BigInteger))
# The ids of the items those events changed: their rows at the position no longer say how they stood.
LATE_ITEMS = select(_e.item_id).where(LATE_EVENTS)
# Each such item's last such event: its rows after it say how the item stood at the instant.
LAST_LATE_POSITIONS = select(func.max(_e.position)).where(LATE_EVENTS).group_by(_e.item_id)
_ANY_LATE = select(_e.position).where(LATE_EVENTS).limit(1)
_lc = late_counters.c
_LATE_COUNTER_CHANGES = (select(_lc.k1, _lc.k2, _lc.k3, func.sum(_lc.delta))
                         .where(_lc.counter == bindparam("counter"),
                                _lc.occurred_micros <= bindparam("cut_micros", type_=BigInteger),
                                _lc.position > bindparam("cut_position", type_=BigInteger))
                         .group_by(_lc.k1, _lc.k2, _lc.k3))


def cut_at(conn: Connection, instant: datetime) -> Cut:
    """The cut of the history at `instant` (see `Cut`)."""
    position, at = replay_stop(conn, instant), micros(instant)
    any_late = conn.execute(_ANY_LATE, {"cut_position": position, "cut_micros": at}).first()
    return Cut(position, at, any_late is not None)


def replay_stop(conn: Connection, instant: datetime) -> int:
    """The last log position up to which every event had happened by `instant`: just before the first one
    at which the latest effective time passed it (`OPEN - 1`, past every recorded position, when there is none)."""
    first_after = conn.execute(select(timeline.c.position).where(timeline.c.reached_micros > micros(instant))
                               .order_by(timeline.c.reached_micros).limit(1)).scalar()
    return OPEN - 1 if first_after is None else first_after - 1


def counters_at(conn: Connection, counter: str, cut: Cut) -> list[tuple[str, str, int, int]]:
    """The counter's rows (k1, k2, k3, n) as at the cut: as held at its position, plus the late events' changes."""
    c = counters.c
    found = {tuple(row[:3]): row[3] for row in conn.execute(select(c.k1, c.k2, c.k3, c.n)
                                                             .where(held_at(cut.position, counter)))}
    if not cut.late:
        return [(*key, n) for key, n in found.items()]
    for *key, delta in conn.execute(_LATE_COUNTER_CHANGES, {**cut.params, "counter": counter}):
        found[tuple(key)] = found.get(tuple(key), 0) + int(delta)
    return [(*key, n) for key, n in found.items() if n]


def _deadlines(conn: Connection, cut: Cut, scopes: Mapping[str, Mapping[str, str] | None],
               due_from: date | None, due_before: date | None) -> list[dict[str, Any]]:
    """The first open deadlines at the cut by due, among those the scopes let through.

    Read in three parts: the rows still open now, in due order from their own index (a store may
    hold many stale ones), the rows closed since, a short range per span, and the rows of the
    items late events changed; then merged.
    """
    found = []
    for query in deadline_queries(cut, scopes, due_from, due_before):
        found += [dict(row._mapping) for row in conn.execute(query.limit(DASHBOARD_DEADLINES), cut.params)]
    return sorted(found, key=lambda row: (row["due"], row["item_id"], row["kind"]))[:DASHBOARD_DEADLINES]


def deadline_queries(cut: Cut, scopes: Mapping[str, Mapping[str, str] | None], due_from: date | None,
                     due_before: date | None) -> list[Any]:
    """The queries whose rows together are the open deadlines at the cut, due in [due_from, due_before), that
    the scopes let through (a liaison: their Party's), each in due order, as the live query orders them.

    A scope on a value the history keeps no column for (a meeting's participants) is read from the
    facets as they are now: who takes part is not kept through time."""
    queries = []
    for table, part in ((deadlines, None), (late_deadlines, LAST_LATE_POSITIONS)):
        d = table.c
        query = select(d.item_id, d.collection, d.kind, d.due, d.title, d.assignee).where(
            scoped_deadlines(table, scopes))
        if due_from is not None:
            query = query.where(d.due >= due_from)
        if due_before is not None:
            query = query.where(d.due < due_before)
        order = (d.due, d.item_id, d.kind)  # as the live query: equal dues in a fixed order
        if part is None:
            current = (d.item_id.not_in(LATE_ITEMS),) if cut.late else ()
            queries += [query.where(held, *current).order_by(*order)
                        for held in (and_(d.span == 0, d.from_pos <= cut.position), closed_held_at(cut.position))]
        elif cut.late:
            queries.append(query.where(d.position.in_(part)).order_by(*order))
    return queries


def _active_mandates(conn: Connection, cut: Cut, parents: str) -> list[dict[str, Any]]:
    """The active progress-keeping items (mandates) at the cut, each with its children's progress."""
    active = active_states(AGGREGATES[parents])
    m, lm = mandates.c, late_mandates.c
    parts = [select(m.id, m.state, m.reference, m.created_position).where(
        held_at(cut.position), *((m.id.not_in(LATE_ITEMS),) if cut.late else ()), m.state.in_(active))]
    if cut.late:  # the mandates late events changed, as their last such event left them
        parts.append(select(lm.id, lm.state, lm.reference, lm.created_position).where(
            lm.position.in_(LAST_LATE_POSITIONS), lm.state.in_(active)))
    rows = [row for part in parts for row in conn.execute(part, cut.params)]
    rows.sort(key=lambda row: row.created_position, reverse=True)
    progress: dict[str, dict[str, int]] = defaultdict(dict)
    wanted = {row.id for row in rows}
    for mandate_id, state, _, n in counters_at(conn, MANDATE_TASKS, cut):
        if mandate_id in wanted:
            progress[mandate_id][state] = n
    return [{"id": row.id, "reference": row.reference, "state": row.state,
             **progress_summary(progress.get(row.id, {}))} for row in rows]


def _local_day(instant: datetime, tz: tzinfo) -> date:
    """The instant's date where the secretariat is; the first or last date for instants at the calendar's ends."""
    try:
        return instant.astimezone(tz).date()
    except OverflowError:
        return date.min if instant.year < 2 else date.max


def _day_after(day: date, days: int) -> date | None:
    """`days` after `day`; None (no bound) past the calendar's last date."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None

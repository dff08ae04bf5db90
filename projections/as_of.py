"""The dashboard as it was at a past instant, read from the items view's history: a few indexed queries.

It answers what a replay of the log up to the instant, projected and read with the live
dashboard's query, would answer (tests/as_of_replay.py is that replay, kept as the oracle):
the replay stops at the first event stamped after the instant, so the instant is first
turned into that log position, and every part is then read as it held there.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Mapping

from sqlalchemy import Connection, Engine, and_, select

from domain.actor import Actor
from domain.registry import WORKFLOW_ITEMS
from projections.history_tables import (DURATIONS, ITEMS, MANDATE_TASKS, OPEN, closed_held_at, counters,
                                        deadlines, held_at, mandates, micros, timeline)
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
        position = replay_stop(conn, instant)
        full = [c for c in AGGREGATES if scopes[c] == {}]
        counts = {c: dict.fromkeys(AGGREGATES[c].workflow.states, 0) for c in full}
        for collection, state, _, n in _counters(conn, ITEMS, position):
            if collection in counts:
                counts[collection][state] = n
        durations = sorted(row for row in _counters(conn, DURATIONS, position) if row[0] in full)
        overdue = _deadlines(conn, position, scopes, None, today)
        upcoming = _deadlines(conn, position, scopes, today, _day_after(today, HORIZON_DAYS + 1))
        parents = WORKFLOW_ITEMS.progress_collection()
        active = _active_mandates(conn, position, parents) if parents in full else []
    return {"counts": counts, "time_in_state": time_in_state_of(durations),
            "overdue": [deadline_document(d) for d in overdue], "upcoming": [deadline_document(d) for d in upcoming],
            PROGRESS_KEY: active, "as_of": instant}


def replay_stop(conn: Connection, instant: datetime) -> int:
    """The last log position a replay up to `instant` applies: just before the first event stamped after it
    (`OPEN - 1`, past every recorded position, when there is none: the view as it is now)."""
    first_after = conn.execute(select(timeline.c.position).where(timeline.c.reached_micros > micros(instant))
                               .order_by(timeline.c.reached_micros).limit(1)).scalar()
    return OPEN - 1 if first_after is None else first_after - 1


def _counters(conn: Connection, counter: str, position: int) -> list[tuple[str, str, int, int]]:
    c = counters.c
    return [tuple(row) for row in conn.execute(select(c.k1, c.k2, c.k3, c.n).where(held_at(position, counter)))]


def _deadlines(conn: Connection, position: int, scopes: Mapping[str, Mapping[str, str] | None],
               due_from: date | None, due_before: date | None) -> list[dict[str, Any]]:
    """The first open deadlines at `position` by due, among those the scopes let through.

    Read in two parts: the rows still open now, in due order from their own index (a store may
    hold many stale ones), and the rows closed since, a short range per span; then merged.
    """
    d = deadlines.c
    # As the live query: equal dues in a fixed order.
    order = (d.due, d.item_id, d.kind)
    query = select(d.item_id, d.collection, d.kind, d.due, d.title, d.assignee).where(_scoped(scopes))
    if due_from is not None:
        query = query.where(d.due >= due_from)
    if due_before is not None:
        query = query.where(d.due < due_before)
    found = []
    for part in (and_(d.span == 0, d.from_pos <= position), closed_held_at(position)):
        found += [dict(row._mapping) for row in conn.execute(query.where(part).order_by(*order)
                                                             .limit(DASHBOARD_DEADLINES))]
    return sorted(found, key=lambda row: (row["due"], row["item_id"], row["kind"]))[:DASHBOARD_DEADLINES]


def _scoped(scopes: Mapping[str, Mapping[str, str] | None]) -> Any:
    """Deadlines of the collections the scopes let through (a liaison: their Party's), as the live dashboard.

    A scope on a value the history keeps no column for (a meeting's participants) is read from the
    facets as they are now: who takes part is not kept through time."""
    return scoped_deadlines(deadlines, scopes)


def _active_mandates(conn: Connection, position: int, parents: str) -> list[dict[str, Any]]:
    """The active progress-keeping items (mandates) at `position`, each with its children's progress."""
    m = mandates.c
    rows = conn.execute(select(m.id, m.state, m.reference).where(
        held_at(position), m.state.in_(active_states(AGGREGATES[parents])))
        .order_by(m.created_position.desc())).all()
    progress: dict[str, dict[str, int]] = defaultdict(dict)
    wanted = {row.id for row in rows}
    for mandate_id, state, _, n in _counters(conn, MANDATE_TASKS, position):
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

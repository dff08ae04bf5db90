"""Month by month series for the charts, read from the items view's history: a few indexed reads per month.

The history (projections/item_history.py) keeps every counter and open deadline as the interval of
log positions it held over, and a timeline from instants to positions. A month's figure is read as
things stood at its last instant by when they happened (`occurred_at`; projections/as_of.py), so a series costs the same few short index ranges per month
whether the store holds one year or twenty, and the months asked for are capped (MAX_MONTHS).
What a caller may see is scoped as the dashboard scopes it: counts only of the collections they
read in full, overdue deadlines only of what they may read (a liaison: their Party's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Mapping

from sqlalchemy import Connection, Engine, func, literal, select

from domain.actor import Actor
from domain.registry import WORKFLOW_ITEMS
from projections.as_of import Cut, counters_at, cut_at, deadline_queries
from projections.history_tables import ITEMS, deadlines, held_at
from projections.queries import read_scopes, scoped_deadlines

MAX_MONTHS = 36
OVERDUE_CAP = 10_000  # a month's overdue count stops here: each read is bounded, however many stale deadlines
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class MonthlySeries:
    """Per month (oldest first): items by state at the month's end for each collection read in full, how
    many entered the progress state (tasks done) in the month, and open deadlines overdue at its end."""

    months: list[date]  # the first day of each month
    states: dict[str, list[dict[str, int]]] = field(default_factory=dict)  # collection -> per month
    done: list[int] | None = None  # None when the caller does not read the progress children in full
    done_collection: str | None = None
    done_state: str | None = None
    overdue: list[int] = field(default_factory=list)


def cut_of(conn: Connection, instant: datetime) -> Cut:
    """The one place the series read time: the history as things stood at `instant`, by when events happened
    (`occurred_at`), not when they were recorded (see projections/as_of.py)."""
    return cut_at(conn, instant)


def month_starts(today: date, months: int) -> list[date]:
    """The first days of the last `months` months, this one included, oldest first."""
    months = max(1, min(months, MAX_MONTHS))
    index = today.year * 12 + today.month - 1
    return [date((i) // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


def monthly_series(engine: Engine, actor: Actor, now: datetime, tz: tzinfo, months: int) -> MonthlySeries:
    """The series over the last `months` months (at most MAX_MONTHS); the current month ends `now`."""
    starts = month_starts(now.astimezone(tz).date(), months)
    # Each month is read at its last instant; one more read at the first month's start gives its arrivals.
    boundaries = [_midnight(starts[0], tz) - _MICROSECOND]
    boundaries += [_midnight(_next_month(s), tz) - _MICROSECOND for s in starts[:-1]] + [now]
    scopes = read_scopes(actor)
    full = [c for c, scope in scopes.items() if scope == {}]
    found = MonthlySeries(months=starts, states={c: [] for c in full})
    at_boundaries: list[dict[str, dict[str, int]]] = []
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # every month from one snapshot
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        for i, instant in enumerate(boundaries):
            cut = cut_of(conn, instant)
            at_boundaries.append(_counts_at(conn, cut, full))
            if i:
                found.overdue.append(_overdue_at(conn, cut, instant.astimezone(tz).date(), scopes))
    for counts in at_boundaries[1:]:
        for collection in full:
            found.states[collection].append(counts[collection])
    return _with_done(found, at_boundaries, full)


def _with_done(found: MonthlySeries, at_boundaries: list[dict[str, dict[str, int]]], full: list[str]) -> MonthlySeries:
    """The progress children (tasks) that reached the progress state (done) in each month: a terminal state
    is never left, so this is the growth of its count."""
    link = WORKFLOW_ITEMS.progress_link()
    if link is None or link[0].workflow.collection not in full:
        return found
    collection, state = link[0].workflow.collection, link[1].progress
    counts = [b[collection].get(state, 0) for b in at_boundaries]
    return MonthlySeries(found.months, found.states, [max(0, b - a) for a, b in zip(counts, counts[1:])],
                         collection, state, found.overdue)


def _counts_at(conn: Connection, cut: Cut, collections: list[str]) -> dict[str, dict[str, int]]:
    counts = {c: dict.fromkeys(WORKFLOW_ITEMS.collections[c].workflow.states, 0) for c in collections}
    for collection, state, _, n in counters_at(conn, ITEMS, cut):
        if collection in counts:
            counts[collection][state] = n
    return counts


def _overdue_at(conn: Connection, cut: Cut, day: date, scopes: Mapping[str, Mapping[str, str] | None]) -> int:
    """Open deadlines due before `day`, as they held at the cut, that the scopes let through (capped)."""
    if not cut.late:  # one read of the rows that held, open or closed since, as before any import
        d = deadlines.c
        held = (select(literal(1)).select_from(deadlines)
                .where(held_at(cut.position), d.due < day, scoped_deadlines(deadlines, scopes)).limit(OVERDUE_CAP))
        return conn.execute(select(func.count()).select_from(held.subquery())).scalar_one()
    found = 0
    for query in deadline_queries(cut, scopes, None, day):
        held = query.order_by(None).limit(OVERDUE_CAP)
        found += conn.execute(select(func.count()).select_from(held.subquery()), cut.params).scalar_one()
    return min(found, OVERDUE_CAP)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)

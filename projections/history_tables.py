"""The tables of the items view's history, and the conditions that read them as at a log position.

What goes into them, and why they look as they do, is in projections/item_history.py, which
writes them; projections/as_of.py reads them. Time is each event's effective time (`occurred_at`,
domain/effective_time.py), not the instant it was recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import (BigInteger, Column, Date, Index, Integer, MetaData, SmallInteger, String, Table, Text,
                        TextClause, bindparam, text)

metadata = MetaData()
OPEN = 2 ** 62  # the to_pos of a row that still holds
MAX_SPAN = 20  # spans up to 4^20 (10^12) positions; far beyond any log this will see


def _interval_columns() -> list[Column]:
    return [Column("to_pos", BigInteger, primary_key=True), Column("from_pos", BigInteger, nullable=False),
            Column("span", SmallInteger, nullable=False)]  # 0 while open, else span_of(to_pos - from_pos)


def _mandate_columns() -> list[Column]:
    """What a mandate row keeps, in the interval table and in the late one alike."""
    return [Column("state", String(32), nullable=False), Column("reference", String(100)),
            Column("created_position", BigInteger, nullable=False)]


def _deadline_columns() -> list[Column]:
    """What a deadline row keeps, in the interval table and in the late one alike."""
    return [Column("collection", String(32), nullable=False), Column("due", Date, nullable=False),
            Column("title", Text), Column("assignee", String(64)), Column("party", String(8))]


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
    *_mandate_columns(),
    Index("ix_view_history_mandates_held", "span", "from_pos"),
)

deadlines = Table(
    "view_history_deadlines", metadata,
    Column("item_id", String(36), primary_key=True),
    Column("kind", String(32), primary_key=True),
    *_interval_columns(),
    *_deadline_columns(),
    Index("ix_view_history_deadlines_held", "span", "from_pos"),
    # The open rows by due, with what a list's conditions need: the first 200 that held are found without
    # reading the thousands of stale open deadlines a store may hold.
    Index("ix_view_history_deadlines_by_due", "span", "due", "item_id", "kind", "from_pos", "collection", "party"),
)

timeline = Table(
    "view_history_timeline", metadata,
    Column("position", BigInteger, primary_key=True),
    # The latest effective time (`occurred_at`) up to here, µs since 1970.
    Column("reached_micros", BigInteger, nullable=False),
    Index("ix_view_history_timeline_reached", "reached_micros", unique=True),
)

# The events recorded out of the order they happened in (an import of past records: `occurred_at` before an
# event recorded earlier), which the interval tables above, cut by log position, place too late. Each keeps
# what a read as of an instant adds back: its counters' changes, and the item's mandate and deadline rows after it.
late = Table(
    "view_history_late", metadata,
    Column("position", BigInteger, primary_key=True),
    Column("item_id", String(36), nullable=False),
    Column("occurred_micros", BigInteger, nullable=False),
    Index("ix_view_history_late_occurred", "occurred_micros", "position", "item_id"),
)

late_counters = Table(
    "view_history_late_counters", metadata,
    Column("position", BigInteger, primary_key=True),
    Column("counter", String(16), primary_key=True),
    Column("k1", String(36), primary_key=True),
    Column("k2", String(32), primary_key=True),
    Column("k3", Integer, primary_key=True),
    Column("occurred_micros", BigInteger, nullable=False),
    Column("delta", Integer, nullable=False),
    # Covering: a read sums the changes up to an instant from the index alone (no lookup per row).
    Index("ix_view_history_late_counters_occurred", "counter", "occurred_micros", "position", "k1", "k2", "k3",
          "delta"),
)

late_mandates = Table(
    "view_history_late_mandates", metadata,
    Column("position", BigInteger, primary_key=True),
    Column("id", String(36), nullable=False),
    *_mandate_columns(),
)

late_deadlines = Table(
    "view_history_late_deadlines", metadata,
    Column("position", BigInteger, primary_key=True),
    Column("item_id", String(36), nullable=False),
    Column("kind", String(32), primary_key=True),
    *_deadline_columns(),
    Index("ix_view_history_late_deadlines_due", "position", "due"),
)

TABLES = (counters, mandates, deadlines, timeline, late, late_counters, late_mandates, late_deadlines)
MANDATES, DEADLINES = "mandates", "deadlines"  # which of a projection's history tables a row goes to
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def micros(instant: datetime) -> int:
    """Microseconds since 1970 (exact, and defined for every aware datetime, unlike a conversion to UTC)."""
    return (instant - EPOCH) // _MICROSECOND


def span_of(length: int) -> int:
    """The span class of a closed row `length` positions long: L for lengths in [4^(L-1), 4^L).

    Powers of four rather than two: half as many classes, so half as many terms for the planner
    (on PostgreSQL its planning took longer than the reads), for reading up to four times the rows
    that held rather than two.
    """
    return (length.bit_length() + 1) // 2


def held_at(position: int, counter: str | None = None) -> TextClause:
    """The condition for a history table's rows that held at `position` (after the event there was applied);
    with `counter`, only that counter's rows (of `view_history_counters`). See also `closed_held_at`.

    Text, made once: as an expression it has about a hundred terms, and building them took longer than running
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
        f"({prefix}span = {span} AND from_pos > :held_at - {4 ** span} AND from_pos <= :held_at "
        f"AND to_pos > :held_at)" for span in range(1, MAX_SPAN + 1))]) + ")").bindparams(
        bindparam("held_at", type_=BigInteger))


_HELD_AT = _held_at_text("")
_COUNTER_HELD_AT = _held_at_text("counter = :counter AND ")
_CLOSED_HELD_AT = _held_at_text("", open_rows=False)

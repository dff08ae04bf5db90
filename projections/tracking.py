"""Tracking positions: how far along the notification log each view is.

A view's rows and its position commit in one transaction; the position only moves
from the value the batch started from, so two runners on one view never both apply
a batch (the loser's transaction rolls back whole).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Connection, MetaData, String, Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

metadata = MetaData()

tracking = Table(
    "projection_tracking", metadata,
    Column("view", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)


class PositionMoved(Exception):
    """Another runner advanced the view first; this batch was rolled back."""


def position_of(conn: Connection, view: str) -> int:
    return conn.execute(select(tracking.c.position).where(tracking.c.view == view)).scalar() or 0


def ensure_tracked(conn: Connection, view: str) -> None:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(tracking).values(view=view, position=0).on_conflict_do_nothing())


def advance(conn: Connection, view: str, start: int, end: int) -> None:
    """Move the view from `start` to `end`, or raise PositionMoved if it is no longer at `start`."""
    moved = conn.execute(update(tracking).where(tracking.c.view == view, tracking.c.position == start)
                         .values(position=end))
    if moved.rowcount != 1:
        raise PositionMoved(view)


def forget(conn: Connection, view: str) -> None:
    conn.execute(tracking.delete().where(tracking.c.view == view))

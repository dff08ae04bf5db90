"""Tracking positions: how far along the notification log each view is.

A view's rows and its position commit in one transaction; the position only moves
from the value the batch started from, so two runners on one view never both apply
a batch (the loser's transaction rolls back whole).
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

from sqlalchemy import (BigInteger, Column, Connection, Engine, Integer, MetaData, String, Table, bindparam, inspect,
                        select, update)

metadata = MetaData()

tracking = Table(
    "projection_tracking", metadata,
    Column("view", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),  # of the view's definition its rows were built with
)


class PositionMoved(Exception):
    """Another runner advanced the view first; this batch was rolled back."""


def upgrade(engine: Engine) -> None:
    """A tracking table from before views had versions is dropped: every view is then built afresh."""
    columns = {c["name"] for c in inspect(engine).get_columns(tracking.name)} if inspect(engine).has_table(
        tracking.name) else {"version"}
    if "version" not in columns:
        with engine.begin() as conn:
            tracking.drop(conn)


def position_of(conn: Connection, view: str) -> int:
    return conn.execute(select(tracking.c.position).where(tracking.c.view == view)).scalar() or 0


def version_of(conn: Connection, view: str) -> int | None:
    return conn.execute(select(tracking.c.version).where(tracking.c.view == view)).scalar()


def start_afresh(conn: Connection, view: str, version: int) -> None:
    """Track the view from the first event, built with this version of its definition."""
    forget(conn, view)
    conn.execute(tracking.insert().values(view=view, position=0, version=version))


def advance(conn: Connection, view: str, start: int, end: int) -> None:
    """Move the view from `start` to `end`, or raise PositionMoved if it is no longer at `start`."""
    moved = conn.execute(_ADVANCE, {"the_view": view, "start": start, "end": end})
    if moved.rowcount != 1:
        raise PositionMoved(view)


def advance_together(conn: Connection, views: Sequence[str], start: int, end: int) -> None:
    """Move every one of `views` from `start` to `end` in one statement, or raise PositionMoved if any of them
    is no longer at `start` (the caller's transaction then rolls back, so none moved)."""
    if len(views) == 1:
        advance(conn, views[0], start, end)
        return
    moved = conn.execute(_advance_together(tuple(views)), {"start": start, "end": end})
    if moved.rowcount != len(views):
        raise PositionMoved(", ".join(views))


_ADVANCE = (update(tracking).where(tracking.c.view == bindparam("the_view"), tracking.c.position == bindparam("start"))
            .values(position=bindparam("end")))


@functools.cache
def _advance_together(views: tuple[str, ...]) -> Any:
    """Built once per set of views: building the statement (or expanding a list of names into it) costs more
    than running it, and a follower runs it for every batch."""
    return (update(tracking).where(tracking.c.view.in_(views), tracking.c.position == bindparam("start"))
            .values(position=bindparam("end")))


def hold(conn: Connection, view: str) -> None:
    """Lock the view's position row until the transaction ends (SQLite's one write lock does this anyway).

    A batch locks the position before the view's tables (see `advance`); whatever else locks both
    must take them in that order too, or the two can wait for each other (a deadlock on PostgreSQL).
    """
    conn.execute(select(tracking.c.view).where(tracking.c.view == view).with_for_update())


def forget(conn: Connection, view: str) -> None:
    conn.execute(tracking.delete().where(tracking.c.view == view))

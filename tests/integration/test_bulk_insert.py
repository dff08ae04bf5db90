"""The rebuild's bulk inserts (projections/bulk.py) store what SQLAlchemy's own inserts store, value for value."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select

from projections.bulk import PendingRows, insert_rows
from projections.database import engine_for
from projections.items import DEADLINE_COLUMNS, ITEM_COLUMNS
from projections.items_tables import deadlines, items, metadata

AT = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=timezone.utc)
ITEM = ("00000000-0000-0000-0000-000000000001", "tasks", "open", 3, 17, "AL", "sara", None, None, None, "A title",
        date(2026, 12, 1), AT, AT, datetime(2026, 11, 23, tzinfo=timezone.utc), AT, '{"title": "A title"}')
DEADLINES = [("00000000-0000-0000-0000-000000000001", "due", "tasks", date(2026, 12, 1), True, "A title", "sara",
              None, date(2026, 11, 28)),
             ("00000000-0000-0000-0000-000000000001", "review", "tasks", date(2026, 12, 3), False, None, None, "AL",
              None)]


def test_bulk_rows_read_back_as_rows_inserted_by_sqlalchemy(store_env):
    engine = engine_for(store_env, writer=True)
    try:
        metadata.create_all(engine, tables=[items, deadlines])
        with engine.begin() as conn:
            insert_rows(conn, items, ITEM_COLUMNS, [ITEM])
            pending = PendingRows()
            pending.add(deadlines, DEADLINE_COLUMNS, DEADLINES)
            assert len(pending) == 2
            pending.take().write(conn)
            assert len(pending) == 0
        with engine.connect() as conn:
            bulk_items = [tuple(r) for r in conn.execute(select(items))]
            bulk_deadlines = sorted(tuple(r) for r in conn.execute(select(deadlines)))
        with engine.begin() as conn:
            conn.execute(items.delete())
            conn.execute(deadlines.delete())
            conn.execute(items.insert(), [dict(zip(ITEM_COLUMNS, ITEM))])
            conn.execute(deadlines.insert(), [dict(zip(DEADLINE_COLUMNS, row)) for row in DEADLINES])
        with engine.connect() as conn:
            assert bulk_items == [tuple(r) for r in conn.execute(select(items))]
            assert bulk_deadlines == sorted(tuple(r) for r in conn.execute(select(deadlines)))
            assert bulk_deadlines[0][4] is True and bulk_deadlines[1][4] is False
    finally:
        engine.dispose()

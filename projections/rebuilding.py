"""Rebuilding a view beside the live one, then putting it in the live one's place (the runner's part).

A mixin of `ProjectionRunner` (projections/runner.py), which holds the state it uses: the
application, the writer engine, the batch sizes and pause, the positions it knows, and `_count`.
"""

from __future__ import annotations

import gc
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from sqlalchemy import Connection, Engine, Table

from domain.application import SecretariatApplication
from projections import tracking
from projections.views import BUILDING, Gathering, Projection, Writes, rebuildable


class RebuildBesideLive:
    app: SecretariatApplication
    engine: Engine
    batch_size: int
    rebuild_batch_size: int
    rebuild_pause_seconds: float
    _known: dict[str, int]
    _unlocked_at: float

    def _count(self, projection: Projection, count: int, elapsed: float) -> None: ...

    def rebuild(self, projection: Projection, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild the view from the first event beside the live one, then put it in the live one's place.

        The copy is built a batch per transaction while the live view keeps answering (and
        following the log). Once the copy has nearly caught up, one short transaction projects
        the last events, drops the live tables, renames the copy's into their place with the
        live indexes, and moves the view's position to where the copy got.
        """
        if not rebuildable(projection):
            raise ValueError(f"view {projection.name} is never rebuilt: its rows record what was done, which the "
                             f"log does not say (a changed definition needs a migration of its tables)")
        with _collector_paused():
            return self._rebuild(projection, progress)

    def _rebuild(self, projection: Projection, progress: Callable[[int], None] | None) -> int:
        building = projection.beside(BUILDING)
        name = projection.name + BUILDING
        with self.engine.begin() as conn:
            for table in reversed(building.tables):
                table.drop(conn, checkfirst=True)
            for table in building.tables:
                table.create(conn)
            tracking.start_afresh(conn, name, projection.version)
        self._unlocked_at = time.perf_counter()
        if isinstance(building, Gathering):
            position, done = self._gather(projection, building, name, progress)
        else:
            position, done = self._build_in_batches(projection, building, name, progress)
        self._let_writers_in()
        with self.engine.begin() as conn:
            while True:  # the events recorded since the last batch, under the lock the switch needs anyway
                count, end = self._project(conn, building, position)
                if not count:
                    break
                position, done = end, done + count
                if progress:
                    progress(count)
            # The live view's position before its tables, as a live batch takes them: dropping the tables
            # first deadlocked with a batch that had claimed the position and then wrote a row.
            tracking.hold(conn, projection.name)
            _put_in_place(conn, building.tables, projection.tables)
            tracking.forget(conn, name)
            tracking.start_afresh(conn, projection.name, projection.version)
            tracking.advance(conn, projection.name, 0, position)
        self._known.pop(projection.name, None)
        return done

    def _build_in_batches(self, projection: Projection, building: Projection, name: str,
                          progress: Callable[[int], None] | None) -> tuple[int, int]:
        """Project the log into the copy a batch per transaction; where it got, and how many events."""
        position = done = 0
        while True:
            notifications = self.app.recorder.select_notifications(position + 1, self.rebuild_batch_size)
            if notifications:
                started = time.perf_counter()
                # Decoded before the transaction, which on SQLite holds the lock every command waits for.
                batch = [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications]
                self._let_writers_in()
                with self.engine.begin() as conn:
                    building.handle(conn, batch)
                    tracking.advance(conn, name, position, notifications[-1].id)
                self._unlocked_at = time.perf_counter()
                position, done = notifications[-1].id, done + len(notifications)
                self._count(projection, len(notifications), time.perf_counter() - started)
                if progress:
                    progress(len(notifications))
            if len(notifications) < self.rebuild_batch_size:
                return position, done

    def _gather(self, projection: Projection, building: Gathering, name: str,
                progress: Callable[[int], None] | None) -> tuple[int, int]:
        """Gather the log into a copy that keeps the view in memory, then write what it lined up, each row
        once; where it got, and how many events.

        The rows of each batch (and then of each chunk of the view) are written in a transaction of their
        own, in a thread of their own, while this thread decodes and applies the next batch, which a third
        thread has read meanwhile: the database's work and Python's overlap. The transactions run one at a
        time, in order (each waits for the one before to commit), and on SQLite each waits out the pause
        after the one before.
        """
        def commit(rows: Writes, start: int | None, end: int | None) -> None:  # in the writing thread
            self._let_writers_in()
            with self.engine.begin() as conn:
                rows.write(conn)
                if end is not None:
                    tracking.advance(conn, name, start or 0, end)
            self._unlocked_at = time.perf_counter()

        size, read = self.rebuild_batch_size, self.app.recorder.select_notifications
        with ThreadPoolExecutor(1, thread_name_prefix="rebuild-writes") as writer, \
                ThreadPoolExecutor(1, thread_name_prefix="rebuild-reads") as reader:
            under_way: Future | None = None

            def hand_over(start: int | None = None, end: int | None = None) -> None:
                nonlocal under_way
                rows = building.take_pending()
                if under_way is not None:
                    under_way.result()  # one transaction at a time (and at most two batches' rows in memory)
                under_way = writer.submit(commit, rows, start, end)

            position = done = 0
            page = reader.submit(read, 1, size)
            while True:
                notifications = page.result()
                if len(notifications) == size:  # the next page is read while this one is applied
                    page = reader.submit(read, notifications[-1].id + 1, size)
                if notifications:
                    started = time.perf_counter()
                    building.gather([(n.id, self.app.mapper.to_domain_event(n)) for n in notifications])
                    hand_over(position, notifications[-1].id)
                    position, done = notifications[-1].id, done + len(notifications)
                    self._count(projection, len(notifications), time.perf_counter() - started)
                    if progress:
                        progress(len(notifications))
                if len(notifications) < size:
                    break
            more = True
            while more:  # a chunk per transaction, so that commands get the lock in between
                more = building.prepare_flush()
                hand_over()
            if under_way is not None:
                under_way.result()
        return position, done

    def _let_writers_in(self) -> None:
        """Before a rebuild's next transaction on SQLite, let the commands waiting for its lock have it.

        SQLite has no queue for its lock: a waiting writer polls (every 100 ms at most), and a
        rebuild that began its next transaction at once would take the lock again before it. So
        the lock stays free for `rebuild_pause_seconds` after each transaction; the work done
        since it ended (reading, decoding and applying the next batch) counts towards that.
        """
        if self.engine.dialect.name == "sqlite":
            left = self.rebuild_pause_seconds - (time.perf_counter() - self._unlocked_at)
            if left > 0:
                time.sleep(left)

    def _project(self, conn: Connection, projection: Projection, start: int) -> tuple[int, int]:
        """Read and apply the batch after `start` within the caller's transaction (for rebuilds)."""
        notifications = self.app.recorder.select_notifications(start + 1, self.batch_size)
        if not notifications:
            return 0, start
        projection.handle(conn, [(n.id, self.app.mapper.to_domain_event(n)) for n in notifications])
        return len(notifications), notifications[-1].id


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the while (a rebuild): a copy that gathers the whole view in
    memory holds millions of objects, and each full collection walks them all; a third of a rebuild's time
    went there. What a rebuild makes is freed by reference counting; the collector runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _put_in_place(conn: Connection, copies: Sequence[Table], live: Sequence[Table]) -> None:
    """Replace the live tables by their copies, giving the copies the live names and indexes."""
    quote = conn.dialect.identifier_preparer.quote
    for table in reversed(live):
        table.drop(conn, checkfirst=True)
    for copy, table in zip(copies, live):
        conn.exec_driver_sql(f"ALTER TABLE {quote(copy.name)} RENAME TO {quote(table.name)}")
        if conn.dialect.name == "postgresql":  # its primary key index keeps the copy's name otherwise
            conn.exec_driver_sql(f"ALTER INDEX {quote(copy.name + '_pkey')} RENAME TO {quote(table.name + '_pkey')}")
        for index in table.indexes:
            index.create(conn)

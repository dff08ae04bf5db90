"""Follows the notification log and keeps each view up to date, a batch per transaction.

Each batch reads the events after the view's position, then in one transaction moves the
position and applies them: a crash rolls back rows and position together, and a restart
resumes where the last commit ended. Events a view ignores still move it on. The follower
(`follow`) projects the views at one position together: each batch is read and decoded once and
goes into all of them in one transaction (`run_batches`); a view elsewhere, or one that failed,
takes batches of its own until it is back beside the others.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol, Sequence, runtime_checkable

from sqlalchemy import Connection, Engine, MetaData, Table, inspect

from domain.application import SecretariatApplication
from projections import tracking

log = logging.getLogger("secretariat.projections")


class Projection(Protocol):
    name: str
    version: int  # raise it whenever the tables or what goes into them change
    tables: tuple[Table, ...]

    def handle(self, conn: Connection, batch: Sequence[tuple[int, Any]]) -> None: ...

    def beside(self, suffix: str) -> "Projection":
        """The same projection writing into fresh copies of its tables, named with `suffix`."""


class Writes(Protocol):
    def write(self, conn: Connection) -> None:
        """Write these rows in the caller's transaction."""


@runtime_checkable
class Gathering(Protocol):
    """A copy (from `beside`) that applies a rebuild in memory and writes each row once at the end.

    `gather` applies a batch with no SQL, so the runner calls it with no transaction open; the rows it
    and `prepare_flush` line up are handed over by `take_pending`, and the runner writes them in a short
    transaction of their own while the next batch is gathered.
    """

    def gather(self, batch: Sequence[tuple[int, Any]]) -> None: ...

    def prepare_flush(self) -> bool:
        """Line up the next chunk of what was gathered; True while more remains after it."""

    def take_pending(self) -> Writes:
        """The rows lined up so far, to write; they are no longer pending here."""


BUILDING = "__building"


def copies_beside(tables: Sequence[Table], suffix: str) -> tuple[Table, ...]:
    """Fresh copies of a view's tables, named with `suffix`, for a projection's `beside`.

    The copies have no secondary indexes: rows go in faster, and the indexes are made with
    their live names when the copies take the live tables' place.
    """
    copies = MetaData()
    found = []
    for table in tables:
        copy = table.to_metadata(copies, name=table.name + suffix)
        copy.indexes.clear()
        found.append(copy)
    return tuple(found)


@dataclass
class Stats:
    """What the metrics endpoint reports, per view."""

    events: int = 0
    batches: int = 0
    last_batch_seconds: float = 0.0
    total_batch_seconds: float = 0.0


@dataclass
class ProjectionRunner:
    app: SecretariatApplication
    engine: Engine  # a writer engine (see projections.database)
    projections: Sequence[Projection]
    reader: Engine | None = None  # for positions and lag, so that asking never takes the write lock
    batch_size: int = 1000
    # A rebuild touches most items in several batches of 1,000 events and rewrites their rows each
    # time; with 10,000 most are written once, which halves a rebuild's time. On SQLite a batch
    # holds the write lock, so commands wait up to about half a second while a rebuild runs.
    rebuild_batch_size: int = 10_000
    rebuild_pause_seconds: float = 0.12  # on SQLite, between a rebuild's transactions (see _let_writers_in)
    stats: dict[str, Stats] = field(default_factory=dict)
    # Wakes a follower in another process (`serve`'s follower process), besides this runner's own.
    wake_elsewhere: Callable[[], None] | None = None
    _wake: threading.Event = field(default_factory=threading.Event)
    _advanced: threading.Condition = field(default_factory=threading.Condition)
    _known: dict[str, int] = field(default_factory=dict)  # positions this runner committed last
    _unlocked_at: float = float("-inf")  # when the rebuild's last transaction ended (see _let_writers_in)

    def setup(self) -> None:
        """Create what is missing; a view built with another version of its definition is rebuilt.

        The rebuild happens beside the old tables, which keep answering until the new ones take
        their place. `secretariat serve` calls this once before starting its workers.
        """
        tracking.upgrade(self.engine)
        tracking.metadata.create_all(self.engine)
        for projection in self.projections:
            self.stats.setdefault(projection.name, Stats())
            # One that starts at the head (by default, one that is not rebuildable) acts on events from now
            # on only; the head is read before the transaction, as in run_batch.
            first = self.head() if _starts_at_head(projection) else 0
            with self.engine.begin() as conn:
                version = tracking.version_of(conn, projection.name)
                if version is None or not inspect(conn).has_table(projection.tables[0].name):
                    tracking.start_afresh(conn, projection.name, projection.version)
                    for table in projection.tables:
                        table.create(conn, checkfirst=True)
                    if first:
                        tracking.advance(conn, projection.name, 0, first)
            if version is not None and version != projection.version:
                log.warning("view %s is at version %s; rebuilding it as version %s", projection.name, version,
                            projection.version)
                self.rebuild(projection)

    def run_batch(self, projection: Projection) -> int:
        """Project the next batch of events; return how many there were (0: caught up).

        The events are read before the view's transaction begins: on SQLite that
        transaction holds the database's write lock, and reading the log while holding
        it could wait on a connection that a command, itself waiting for the lock, holds.
        """
        start = self._known.get(projection.name)
        if start is None:
            with (self.reader or self.engine).connect() as conn:
                start = tracking.position_of(conn, projection.name)
        return self._run_group([projection], start)

    def run_batches(self, projections: Sequence[Projection] | None = None) -> int:
        """Project the next batch into each of `projections` (all by default); the most events one took.

        The views at the same position (the common case: a follower keeps them together) take their
        batch together: it is read and decoded once, and projected into all of them in one transaction
        (`_run_group`). Views at different positions take batches of their own, a group per position.
        """
        projections = list(self.projections if projections is None else projections)
        starts = self._starts(projections)
        groups: dict[int, list[Projection]] = {}
        for projection in projections:
            groups.setdefault(starts[projection.name], []).append(projection)
        return max((self._run_group(group, start) for start, group in sorted(groups.items())), default=0)

    def _starts(self, projections: Sequence[Projection]) -> dict[str, int]:
        """Each view's position: as this runner committed it last, else read (one connection for all)."""
        starts = {p.name: self._known[p.name] for p in projections if p.name in self._known}
        if len(starts) < len(projections):
            with (self.reader or self.engine).connect() as conn:
                for projection in projections:
                    if projection.name not in starts:
                        starts[projection.name] = tracking.position_of(conn, projection.name)
        return starts

    def _run_group(self, group: Sequence[Projection], start: int) -> int:
        """Project the batch after `start` into every view of `group` (all at `start`) in one transaction.

        Read and decoded once, before the transaction (see run_batch); a view that takes the stored
        notifications (`reads_stored`) gets those. Every view is claimed first, in one statement: if
        another runner moved any of them meanwhile, PositionMoved rolls back before any row is touched.
        Rows and positions commit together, so a crash leaves each view at its last commit.
        """
        started = time.perf_counter()
        notifications = self.app.recorder.select_notifications(start + 1, self.batch_size)
        if not notifications:
            for projection in group:
                self._known[projection.name] = start
            return 0
        end = notifications[-1].id
        stored = decoded = None
        if any(getattr(p, "reads_stored", False) for p in group):
            stored = [(n.id, n) for n in notifications]
        if not all(getattr(p, "reads_stored", False) for p in group):
            to_domain_event = self.app.mapper.to_domain_event
            decoded = [(n.id, to_domain_event(n)) for n in notifications]
        # In the order of their names: every runner projects (and, in one statement, claims) the same set alike.
        group = sorted(group, key=lambda p: p.name)
        try:
            with self.engine.begin() as conn:
                tracking.advance_together(conn, [p.name for p in group], start, end)
                for projection in group:
                    projection.handle(conn, stored if getattr(projection, "reads_stored", False) else decoded)
        except BaseException:
            for projection in group:
                self._known.pop(projection.name, None)  # read the positions afresh next time
            raise
        elapsed = time.perf_counter() - started
        for projection in group:
            self._known[projection.name] = end
            self._count(projection, len(notifications), elapsed)
        return len(notifications)

    def rebuild(self, projection: Projection, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild the view from the first event beside the live one, then put it in the live one's place.

        The copy is built a batch per transaction while the live view keeps answering (and
        following the log). Once the copy has nearly caught up, one short transaction projects
        the last events, drops the live tables, renames the copy's into their place with the
        live indexes, and moves the view's position to where the copy got.
        """
        if not _rebuildable(projection):
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
        thread has read meanwhile: the database's work and Python's overlap. The transactions run one at a time, in order (each waits for
        the one before to commit), and on SQLite each waits out the pause after the one before.
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

    def _count(self, projection: Projection, count: int, elapsed: float) -> None:
        stats = self.stats.setdefault(projection.name, Stats())
        stats.events += count
        stats.batches += 1
        stats.last_batch_seconds = elapsed
        stats.total_batch_seconds += elapsed
        with self._advanced:
            self._advanced.notify_all()

    def catch_up(self, projection: Projection, progress: Callable[[int], None] | None = None) -> int:
        """Project until the view reaches the head of the log."""
        done = 0
        while True:
            try:
                count = self.run_batch(projection)
            except tracking.PositionMoved:
                continue  # another runner did this batch; carry on from where it ended
            if not count:
                return done
            done += count
            if progress:
                progress(count)

    def catch_up_together(self, projections: Sequence[Projection] | None = None) -> int:
        """Project until each of `projections` (all by default) reaches the head of the log, the views at
        one position a batch for all at once (see run_batches); the most events one took."""
        done = 0
        while True:
            try:
                count = self.run_batches(projections)
            except tracking.PositionMoved:
                continue  # another runner did a batch of one of them; carry on from where each is
            if not count:
                return done
            done += count

    def positions(self) -> dict[str, int]:
        with (self.reader or self.engine).connect() as conn:
            return {p.name: tracking.position_of(conn, p.name) for p in self.projections}

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def lag(self) -> dict[str, int]:
        """Events each view is behind the head of the log."""
        head = self.head()
        return {name: max(0, head - position) for name, position in self.positions().items()}

    def wake(self) -> None:
        """New events were recorded: look now rather than at the next poll."""
        self._wake.set()
        if self.wake_elsewhere is not None:
            self.wake_elsewhere()

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Block until every view has projected `position` (read-your-writes); False on timeout.

        A batch of this runner's own ends the wait at once; a follower in another process is seen
        by reading the positions, first every 2 ms (a batch takes about 10 to 20 ms) and less
        often the longer it takes, up to every 50 ms.
        """
        self.wake()
        deadline = time.monotonic() + timeout
        pause = 0.002
        while True:
            if min(self.positions().values(), default=position) >= position:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._advanced:
                self._advanced.wait(min(remaining, pause))
            pause = min(pause * 1.5, 0.05)

    def follow(self, stop: threading.Event, poll_seconds: float = 0.5, gather_seconds: float = 0.01) -> None:
        """Keep every view live until `stop` is set (a background thread of `serve` or `project`).

        After a wake-up it lets `gather_seconds` pass before reading, so that under load one
        batch carries the events of many commands instead of one each.
        """
        listener = _Listener.for_app(self.app, self._wake)
        failing: dict[str, float] = {}  # a view whose batch failed: when to try it again (on its own)
        try:
            while not stop.is_set():
                stop.wait(gather_seconds)
                self._wake.clear()
                now = time.monotonic()
                healthy = [p for p in self.projections if p.name not in failing]
                retried = [p for p in self.projections if failing.get(p.name, now + 1) <= now]
                try:
                    self.catch_up_together(healthy)
                except Exception:  # noqa: BLE001 - one of them failed: which one is found by going one by one
                    retried += healthy
                for projection in retried:
                    try:
                        self.catch_up(projection)
                        failing.pop(projection.name, None)
                    except Exception:  # noqa: BLE001 - keep following; the batch rolled back and is retried
                        log.exception("projection %s failed; retrying", projection.name)
                        failing[projection.name] = time.monotonic() + 1.0  # the others go on meanwhile
                self._wake.wait(min(poll_seconds, 1.0) if failing else poll_seconds)
        finally:
            listener.close()


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


def _rebuildable(projection: Projection) -> bool:
    """False for a projection whose rows are work done, not a view (the deliveries outbox): such a one
    starts at the head of the log when first set up, and is never rebuilt, lest the work be done again."""
    return getattr(projection, "rebuildable", True)


def _starts_at_head(projection: Projection) -> bool:
    """Whether it starts at the head of the log when first set up: by default one that is not rebuildable
    does; the audit chain, which is never rebuilt yet must cover the whole log, says `starts_at_head = False`."""
    return getattr(projection, "starts_at_head", not _rebuildable(projection))


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


class _Listener:
    """On PostgreSQL, turns the store's NOTIFY into a wake-up, so new events are seen at once."""

    def __init__(self, close: Callable[[], None] = lambda: None) -> None:
        self.close = close

    @classmethod
    def for_app(cls, app: SecretariatApplication, wake: threading.Event) -> "_Listener":
        channel = getattr(app.recorder, "channel_name", None)
        if channel is None:
            return cls()  # SQLite: the API wakes the runner after each command (in process, or through serve's
            # wake channel, secretariat/wake_channel.py), and polling covers the rest
        import psycopg
        from psycopg import sql

        env = app.env
        conn = psycopg.connect(dbname=env.get("POSTGRES_DBNAME"), host=env.get("POSTGRES_HOST"),
                               port=env.get("POSTGRES_PORT"), user=env.get("POSTGRES_USER"),
                               password=env.get("POSTGRES_PASSWORD") or None, autocommit=True)
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        stopped = threading.Event()

        def listen() -> None:
            while not stopped.is_set():
                try:
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        wake.set()
                except psycopg.Error:
                    if not stopped.is_set():
                        log.warning("lost the PostgreSQL LISTEN connection; falling back to polling")
                    return

        thread = threading.Thread(target=listen, name="projection-listen", daemon=True)
        thread.start()

        def close() -> None:
            stopped.set()
            thread.join(timeout=2)
            conn.close()

        return cls(close)

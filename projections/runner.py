"""Follows the notification log and keeps each view up to date, a batch per transaction.

Each batch reads the events after the view's position, then in one transaction moves the
position and applies them: a crash rolls back rows and position together, and a restart
resumes where the last commit ended. Events a view ignores still move it on. The follower
(`follow`) projects the views at one position together: each batch is read and decoded once and
goes into all of them in one transaction (`run_batches`); a view elsewhere, or one that failed,
takes batches of its own until it is back beside the others.

What a view must offer is declared in projections/views.py; rebuilding one beside the live one is
projections/rebuilding.py; PostgreSQL's wake-up is projections/listener.py.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from sqlalchemy import Engine, inspect

from domain.application import SecretariatApplication
from projections import tracking
from projections.listener import StoreListener
from projections.rebuilding import RebuildBesideLive
from projections.views import Projection, starts_at_head

log = logging.getLogger("secretariat.projections")


@dataclass
class Stats:
    """What the metrics endpoint reports, per view."""

    events: int = 0
    batches: int = 0
    last_batch_seconds: float = 0.0
    total_batch_seconds: float = 0.0


@dataclass
class ProjectionRunner(RebuildBesideLive):
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
    # Wakes a follower in another process (`serve`'s follower process), besides this runner's own; `hurry_elsewhere`
    # tells it that a request waits for the views (see `hurry`).
    wake_elsewhere: Callable[[], None] | None = None
    hurry_elsewhere: Callable[[], None] | None = None
    _wake: threading.Event = field(default_factory=threading.Event)
    _hurry: threading.Event = field(default_factory=threading.Event)
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
            first = self.head() if starts_at_head(projection) else 0
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
        """New events were recorded: look within the gathering window (see `follow`), not at the next poll."""
        self._wake.set()
        if self.wake_elsewhere is not None:
            self.wake_elsewhere()

    def hurry(self) -> None:
        """A request waits for the views (`wait_for`): look now, without waiting out the gathering window."""
        self._hurry.set()
        self._wake.set()
        if self.hurry_elsewhere is not None:
            self.hurry_elsewhere()

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Block until every view has projected `position` (read-your-writes); False on timeout.

        A batch of this runner's own ends the wait at once; a follower in another process is seen
        by reading the positions, first every 2 ms (a batch takes about 10 to 20 ms) and less
        often the longer it takes, up to every 50 ms. The follower is hurried: it does not wait out
        its gathering window for this write.
        """
        self.hurry()
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

    def follow(self, stop: threading.Event, poll_seconds: float = 0.5, gather_seconds: float = 0.05) -> None:
        """Keep every view live until `stop` is set (a background thread of `serve` or `project`).

        After a wake-up it lets `gather_seconds` pass before reading, so that under load one
        batch carries the events of many commands instead of one each: a batch's cost is mostly
        per batch (its transaction and statements), so the views' CPU per command falls as batches
        grow (bench/follower.py: 1.4 ms an event one at a time, 0.2 ms in batches of 16). A request
        that waits for the views (`wait_for`: `Prefer: wait-for-projection`, the web pages after a
        form, the audit routes) hurries it: the batch starts at once.
        """
        listener = StoreListener.for_app(self.app, self._wake)
        failing: dict[str, float] = {}  # a view whose batch failed: when to try it again (on its own)
        try:
            while not stop.is_set():
                self._hurry.wait(gather_seconds)
                self._hurry.clear()
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
